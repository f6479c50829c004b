//! # cbreaker-wasm
//!
//! The WebAssembly front door of [`cbreaker`]: the raw class behind the npm package `cbreaker`.
//! It translates types, maps errors and nothing more; every decision stays in the core (the
//! call protocol `begin`/`finish`, the timing rule, settle-once, defaults and presets, the
//! health rule, the Prometheus text), and the JS layer (`js/layer.mjs`) maps JS results and
//! errors to an [`End`], reads its clock and fires events.
//!
//! The hot paths pass plain numbers only, so they allocate nothing on either side:
//!
//! - time: `now` is a JS number of milliseconds, floored (negatives read as 0). NaN means "no
//!   time given": the core then reads `performance.now()` only if its decision needs the time
//!   (a closed, untimed count-window call needs none), so the default clock costs nothing there;
//! - `begin` returns the permit's bits ([`Permit::to_bits`]) plus [`TIMED`] if the core times
//!   the call (its start is read with `startedAt`) plus [`HAS_TRANSITION`] if it caused one
//!   (read it with `takeTransition`); a rejection is a negative number (see [`rejection`]);
//! - `finish` takes the call's parts back ([`Call::from_parts`]) and an [`End`] discriminant.
//!
//! The cold paths (snapshot, config, manual moves, transitions) return named objects.
//!
//! Storage is sized from the config: a window that fits [`SMALL`] slots (every preset, and
//! the default count window of 100) is stored inline; a larger one gets a boxed
//! [`MAX_SLOTS`] breaker.

#![forbid(unsafe_code)]

mod errors;
mod handles;
mod objects;

use cbreaker::{
    Breaker, Call, Cause, Clock, Config, ConfigError, End, HealthStatus, MAX_SLOTS, Millis, Permit,
    RejectReason, Rejected, State, Transition, WindowKind, metrics,
};
use core::cell::Cell;
use metrics::{Naming, otel};
use wasm_bindgen::prelude::*;

pub use errors::{allowed, option_name};

/// Window storage kept inline: 32 slots, a 128-outcome count window or 8 time buckets.
pub const SMALL: usize = 32;

/// Window kind codes used by the JS layer (`window: 'count' | 'time' | 'consecutive'`).
const KIND_COUNT: u32 = 0;
const KIND_TIME: u32 = 1;
const KIND_CONSECUTIVE: u32 = 2;

/// Added to `begin`'s result when the core times the call.
pub const TIMED: f64 = 4_294_967_296.0; // 2^32
/// Added to `begin`'s result when it caused a transition.
pub const HAS_TRANSITION: f64 = 8_589_934_592.0; // 2^33
/// Added to `begin`'s result when the permit is a half-open probe (it holds a probe slot).
pub const PROBE: f64 = 17_179_869_184.0; // 2^34

/// `finish`'s result: the outcome recorded (`Outcome as u32`) shifted left by one, plus 1 if
/// it caused a transition (read it with `takeTransition`); or [`SETTLED`].
const CAUSED_TRANSITION: u32 = 1;
/// `finish`: the core refused, the call was settled already ([`cbreaker::PermitSettled`]).
pub const SETTLED: u32 = 8;

/// The breaker's storage, sized from its config.
// The small variant is inline on purpose: boxing it too would add an allocation (header and
// pointer) to every breaker, which is what sizing the storage saves.
#[allow(clippy::large_enum_variant)]
enum Inner {
    Small(Breaker<SMALL>),
    Large(Box<Breaker<MAX_SLOTS>>),
}

/// Runs `$e` with `$b` bound to the breaker, whatever its storage.
macro_rules! with {
    ($inner:expr, $b:ident => $e:expr) => {
        match $inner {
            Inner::Small($b) => $e,
            Inner::Large($b) => $e,
        }
    };
}

// After `with!`, which it uses.
#[cfg(feature = "fleet-sim")]
mod fleet_sim;
#[cfg(feature = "fleet-sim")]
pub use fleet_sim::FleetSim;

impl Inner {
    fn new(c: Config) -> Result<Inner, ConfigError> {
        match Breaker::<SMALL>::new(c) {
            Ok(b) => Ok(Inner::Small(b)),
            // Only a window too big for the inline storage: the full storage decides.
            Err(ConfigError::WindowSize | ConfigError::WindowBuckets) => {
                Breaker::<MAX_SLOTS>::new(c).map(|b| Inner::Large(Box::new(b)))
            }
            Err(e) => Err(e),
        }
    }
}

/// A circuit breaker, kept in the slab of [`handles`]; the JS layer holds its handle.
pub struct JsBreaker {
    inner: Inner,
    /// The transition the last `begin`/`finish`/`finishMeasured` flagged, until taken
    /// ([`pack`]; [`NO_TRANSITION`] when none).
    pending: Cell<u64>,
    /// The start of the last timed `begin`, or the duration the last `finish` reported (-1:
    /// none): read right after the call that set it.
    aux: Cell<f64>,
}

#[wasm_bindgen]
extern "C" {
    /// The default clock, read only when a decision needs the time and none was given.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Milliseconds from a JS number: floored, NaN and negatives as 0, saturating at `u64::MAX`.
fn ms(x: f64) -> Millis {
    if x > 0.0 { Millis(x as u64) } else { Millis(0) }
}

/// `now` for the core: the number given, or (NaN) `performance.now()`, read at most once and
/// only if the decision needs it.
fn clock(now_ms: f64) -> impl Clock {
    move || {
        ms(if now_ms.is_nan() {
            performance_now()
        } else {
            now_ms
        })
    }
}

/// A rejection as one negative number: `-(1 + reason + 4 × (retry_after_ms + 1))`, with 0 in
/// place of `retry_after_ms + 1` when there is no deadline (forced open).
#[must_use]
pub fn rejection(r: Rejected) -> f64 {
    let after = r.retry_after.map_or(0.0, |a| a.0 as f64 + 1.0);
    -(1.0 + f64::from(r.reason as u8) + 4.0 * after)
}

/// No pending transition.
const NO_TRANSITION: u64 = u64::MAX;

/// A transition in one word: `from` in bits 0–2, `to` 3–5, `cause` 6–9, `generation` 10–21,
/// `at` (ms, saturating at 2^42 − 1: the year 2109 for a `Date.now()` clock) 22–63.
fn pack(t: Transition) -> u64 {
    u64::from(t.from as u8)
        | u64::from(t.to as u8) << 3
        | u64::from(t.cause as u8) << 6
        | u64::from(t.generation & 0xFFF) << 10
        | t.at.0.min((1 << 42) - 1) << 22
}

fn unpack(x: u64) -> Option<Transition> {
    let state = |i: u64| State::ALL.get(i as usize & 7).copied();
    Some(Transition {
        from: state(x)?,
        to: state(x >> 3)?,
        cause: Cause::ALL.get((x >> 6) as usize & 15).copied()?,
        generation: (x >> 10) as u32 & 0xFFF,
        at: Millis(x >> 22),
    })
}

/// `as` saturates: a value too large for a core field stays out of range there, so the
/// core's own check names it.
fn n32(x: f64) -> u32 {
    x as u32
}

impl JsBreaker {
    /// A breaker for a valid config (tests).
    #[cfg(test)]
    fn from_config(c: Config) -> Result<JsBreaker, ConfigError> {
        Ok(JsBreaker::with_inner(Inner::new(c)?))
    }

    fn with_inner(inner: Inner) -> JsBreaker {
        JsBreaker {
            inner,
            pending: Cell::new(NO_TRANSITION),
            aux: Cell::new(-1.0),
        }
    }

    /// Builds a breaker from `preset` (a name of `Config::PRESETS`) or `Config::default()`,
    /// with the fields given overriding it. `window`: 0 count, 1 time, 2 consecutive;
    /// absent, it is the count or time window the window fields given imply, else the
    /// base's. `never_trips`: accept a config with every trip rule off.
    ///
    /// # Errors
    /// A `RangeError` (out of range) or `TypeError` (missing or conflicting option) with
    /// `code: "ERR_CB_INVALID_CONFIG"` and `option` naming the JS option.
    #[allow(clippy::too_many_arguments)]
    fn new(
        preset: Option<String>,
        window: Option<u32>,
        size: Option<f64>,
        duration_ms: Option<f64>,
        buckets: Option<f64>,
        failure_rate_threshold: Option<f64>,
        slow_call_rate_threshold: Option<f64>,
        slow_call_duration_ms: Option<f64>,
        consecutive_failures: Option<f64>,
        minimum_calls: Option<f64>,
        open_duration_ms: Option<f64>,
        open_duration_max_ms: Option<f64>,
        open_duration_multiplier: Option<f64>,
        jitter_percent: Option<f64>,
        jitter_seed: Option<u64>,
        half_open_max_calls: Option<f64>,
        success_threshold: Option<f64>,
        half_open_max_wait_ms: Option<f64>,
        never_trips: bool,
    ) -> Result<JsBreaker, JsValue> {
        let mut c = match &preset {
            None => Config::DEFAULT,
            Some(p) => Config::preset(p).ok_or_else(|| {
                let known = Config::PRESETS.join("', '");
                errors::range_error("preset", &format!("preset must be one of '{known}'"))
            })?,
        };
        c.window = window_of(c.window, window, size, duration_ms, buckets)?;
        let set_u8 = |f: &mut u8, x: Option<f64>| x.into_iter().for_each(|x| *f = x as u8);
        let set_u32 = |f: &mut u32, x: Option<f64>| x.into_iter().for_each(|x| *f = n32(x));
        let set_ms = |f: &mut Millis, x: Option<f64>| x.into_iter().for_each(|x| *f = ms(x));
        set_u8(&mut c.failure_rate_threshold, failure_rate_threshold);
        set_u8(&mut c.slow_call_rate_threshold, slow_call_rate_threshold);
        set_ms(&mut c.slow_call_duration, slow_call_duration_ms);
        set_u32(&mut c.consecutive_failures, consecutive_failures);
        set_u32(&mut c.minimum_calls, minimum_calls);
        set_ms(&mut c.open_duration, open_duration_ms);
        set_ms(&mut c.open_duration_max, open_duration_max_ms);
        if let Some(m) = open_duration_multiplier {
            c.open_duration_multiplier = m;
        }
        set_u8(&mut c.jitter_percent, jitter_percent);
        if let Some(seed) = jitter_seed {
            c.jitter_seed = seed;
        }
        set_u32(&mut c.half_open_max_calls, half_open_max_calls);
        set_u32(&mut c.success_threshold, success_threshold);
        set_ms(&mut c.half_open_max_wait, half_open_max_wait_ms);
        let inner = Inner::new(c).map_err(errors::config_error)?;
        // The core accepts a breaker with every trip rule off (it only measures); in JS
        // that is almost always a mistake (`failureRateThreshold: 0` read as "trip on any
        // failure"), so it must be asked for. NB: a rule the core does not have.
        if !never_trips
            && c.failure_rate_threshold == 0
            && c.slow_call_rate_threshold == 0
            && c.consecutive_failures == 0
        {
            return Err(errors::range_error(
                "failureRateThreshold",
                "failureRateThreshold must be above 0 when slowCallRateThreshold and \
                 consecutiveFailures are 0 (else the breaker can never trip: turn a rule on, \
                 or pass neverTrips: true)",
            ));
        }
        Ok(JsBreaker::with_inner(inner))
    }

    /// The call protocol's `begin(now, sink)`: the permit's bits, plus [`TIMED`] if the call
    /// is timed (its start: `startedAt()`), plus [`HAS_TRANSITION`] if it caused one, plus
    /// [`PROBE`] for a half-open probe; or a rejection (negative, see [`rejection`]).
    fn begin(&self, now_ms: f64, sink: bool) -> f64 {
        match with!(&self.inner, b => b.begin(clock(now_ms), sink)) {
            Ok(begun) => {
                let permit = begun.call.permit();
                let mut r = f64::from(permit.to_bits());
                if permit.state() == State::HalfOpen {
                    r += PROBE;
                }
                if let Some(started) = begun.call.started() {
                    self.aux.set(started.0 as f64);
                    r += TIMED;
                }
                if let Some(t) = begun.transition {
                    self.pending.set(pack(t));
                    r += HAS_TRANSITION;
                }
                r
            }
            Err(rejected) => rejection(rejected),
        }
    }

    /// The start of the call the last `begin` flagged as timed, in ms.
    fn started_at(&self) -> f64 {
        self.aux.get()
    }

    /// The call protocol's `finish(call, end, now)` on a call kept as its parts (`started`:
    /// NaN for an untimed call). Returns the outcome recorded and whether a transition is to
    /// be taken (see [`SETTLED`]), or [`SETTLED`] (nothing recorded).
    fn finish(&self, bits: u32, started: f64, settled: bool, end: u8, now_ms: f64) -> u32 {
        let mut call = Call::from_parts(
            Permit::from_bits(bits),
            (started >= 0.0).then(|| ms(started)),
            settled,
        );
        let done = with!(&self.inner, b => b.finish(&mut call, end_of(end), clock(now_ms)));
        self.finished(done)
    }

    /// `finish` with the duration the caller measured (`permit.success({ durationMs })`):
    /// the caller timed this call, so it reports `measured`.
    fn finish_measured(
        &self,
        bits: u32,
        settled: bool,
        end: u8,
        measured_ms: f64,
        now_ms: f64,
    ) -> u32 {
        let mut call = Call::from_parts(Permit::from_bits(bits), Some(Millis(0)), settled);
        let done = with!(&self.inner, b => b.finish_measured(
            &mut call, end_of(end), clock(now_ms), ms(measured_ms)));
        self.finished(done)
    }

    fn finished(&self, done: Result<cbreaker::Finished, cbreaker::PermitSettled>) -> u32 {
        match done {
            Ok(f) => {
                self.aux.set(f.duration.map_or(-1.0, |d| d.0 as f64));
                let outcome = (f.outcome as u32) << 1;
                if let Some(t) = f.transition {
                    self.pending.set(pack(t));
                    outcome | CAUSED_TRANSITION
                } else {
                    outcome
                }
            }
            Err(cbreaker::PermitSettled) => SETTLED,
        }
    }

    /// The duration the last `finish` reported, in ms; -1 when the call was untimed.
    fn last_duration(&self) -> f64 {
        self.aux.get()
    }

    /// The transition the last flagged `begin` or `finish` caused, once, as
    /// `{ from, to, at, generation, cause }`.
    fn take_transition(&self) -> JsValue {
        unpack(self.pending.replace(NO_TRANSITION))
            .map_or(JsValue::UNDEFINED, |t| objects::transition(&t))
    }

    /// The state a `tryAcquire` at `now_ms` would see (`State as u8`).
    fn state(&self, now_ms: f64) -> u8 {
        with!(&self.inner, b => b.state(clock(now_ms))) as u8
    }

    /// The core's health rule for this breaker at `now_ms` (`HealthStatus as u8`).
    fn health(&self, now_ms: f64) -> u8 {
        HealthStatus::of(with!(&self.inner, b => b.state(clock(now_ms)))) as u8
    }

    /// The snapshot at `now_ms` as a named object (`health` added when asked).
    fn snapshot(&self, now_ms: f64, with_health: bool) -> JsValue {
        objects::snapshot(&self.snapshot_at(now_ms), with_health)
    }

    fn snapshot_at(&self, now_ms: f64) -> cbreaker::Snapshot {
        with!(&self.inner, b => b.snapshot(clock(now_ms)))
    }

    /// The config the breaker was built with (defaults and preset filled in), under the JS
    /// option names.
    fn config(&self) -> JsValue {
        objects::config(&with!(&self.inner, b => b.config()))
    }

    /// A manual move: 0 force open, 1 force closed (disabled), 2 metrics only, 3 reset,
    /// 4 trip, 5 half-open. Returns its transition (always one) as a named object.
    ///
    /// # Errors
    /// A `TypeError` for an unknown operation (a bug in the JS layer).
    fn manual(&self, op: u32, now_ms: f64) -> Result<JsValue, JsValue> {
        let now = clock(now_ms);
        let t = with!(&self.inner, b => match op {
            0 => b.force_open(now),
            1 => b.force_closed(now),
            2 => b.metrics_only(now),
            3 => b.reset(now),
            4 => b.trip(now),
            5 => b.half_open(now),
            _ => return Err(errors::type_error("op", "unknown manual operation")),
        });
        Ok(objects::transition(&t))
    }

    /// This breaker's Prometheus text (the core's `metrics::write_text_named`), labelled `name`.
    fn prometheus_text(&self, name: &str, now_ms: f64, naming: Naming) -> String {
        let mut text = Exposition::new();
        text.rows
            .push((name.into(), self.snapshot_at(now_ms), self.minimum_calls()));
        text.write(naming)
    }

    /// The config's `minimum_calls` (resilience4j's rates read -1 below it).
    fn minimum_calls(&self) -> u32 {
        with!(&self.inner, b => b.config().minimum_calls)
    }

    /// Bytes of WebAssembly memory this breaker owns (not counting the allocator's headers
    /// and its slot in the handle table, 8 bytes).
    fn byte_size(&self) -> u32 {
        let heap = match &self.inner {
            Inner::Small(_) => 0,
            Inner::Large(_) => size_of::<Breaker<MAX_SLOTS>>(),
        };
        (size_of::<JsBreaker>() + heap) as u32
    }
}

// ---- the exports: each takes the breaker's handle first (see `handles`). A freed handle
// finds no breaker and gets a neutral answer (NaN, `SETTLED`, `undefined`, ""): the JS layer
// never passes one (a freed breaker throws `ERR_CB_FREED` before reaching here).

/// Builds a breaker (see [`JsBreaker::new`] for the arguments) and returns its handle.
///
/// # Errors
/// As [`JsBreaker::new`], and a `RangeError` when a million breakers are alive.
#[wasm_bindgen(js_name = breakerNew)]
#[allow(clippy::too_many_arguments)]
pub fn breaker_new(
    preset: Option<String>,
    window: Option<u32>,
    size: Option<f64>,
    duration_ms: Option<f64>,
    buckets: Option<f64>,
    failure_rate_threshold: Option<f64>,
    slow_call_rate_threshold: Option<f64>,
    slow_call_duration_ms: Option<f64>,
    consecutive_failures: Option<f64>,
    minimum_calls: Option<f64>,
    open_duration_ms: Option<f64>,
    open_duration_max_ms: Option<f64>,
    open_duration_multiplier: Option<f64>,
    jitter_percent: Option<f64>,
    jitter_seed: Option<u64>,
    half_open_max_calls: Option<f64>,
    success_threshold: Option<f64>,
    half_open_max_wait_ms: Option<f64>,
    never_trips: bool,
) -> Result<u32, JsValue> {
    let breaker = JsBreaker::new(
        preset,
        window,
        size,
        duration_ms,
        buckets,
        failure_rate_threshold,
        slow_call_rate_threshold,
        slow_call_duration_ms,
        consecutive_failures,
        minimum_calls,
        open_duration_ms,
        open_duration_max_ms,
        open_duration_multiplier,
        jitter_percent,
        jitter_seed,
        half_open_max_calls,
        success_threshold,
        half_open_max_wait_ms,
        never_trips,
    )?;
    handles::insert(breaker).ok_or_else(|| {
        errors::range_error(
            "options",
            &format!("{} breakers are alive: free() some", handles::MAX_LIVE),
        )
    })
}

/// Frees the breaker of `handle` (nothing if it was freed already).
#[wasm_bindgen(js_name = breakerFree)]
pub fn breaker_free(handle: u32) {
    handles::remove(handle);
}

/// See [`JsBreaker::begin`].
#[wasm_bindgen]
#[must_use]
pub fn begin(handle: u32, now_ms: f64, sink: bool) -> f64 {
    handles::with(handle, |b| b.begin(now_ms, sink)).unwrap_or(f64::NAN)
}

/// See [`JsBreaker::started_at`].
#[wasm_bindgen(js_name = startedAt)]
#[must_use]
pub fn started_at(handle: u32) -> f64 {
    handles::with(handle, JsBreaker::started_at).unwrap_or(f64::NAN)
}

/// See [`JsBreaker::finish`].
#[wasm_bindgen]
#[must_use]
pub fn finish(handle: u32, bits: u32, started: f64, settled: bool, end: u8, now_ms: f64) -> u32 {
    handles::with(handle, |b| b.finish(bits, started, settled, end, now_ms)).unwrap_or(SETTLED)
}

/// See [`JsBreaker::finish_measured`].
#[wasm_bindgen(js_name = finishMeasured)]
#[must_use]
pub fn finish_measured(
    handle: u32,
    bits: u32,
    settled: bool,
    end: u8,
    measured_ms: f64,
    now_ms: f64,
) -> u32 {
    handles::with(handle, |b| {
        b.finish_measured(bits, settled, end, measured_ms, now_ms)
    })
    .unwrap_or(SETTLED)
}

/// See [`JsBreaker::last_duration`].
#[wasm_bindgen(js_name = lastDuration)]
#[must_use]
pub fn last_duration(handle: u32) -> f64 {
    handles::with(handle, JsBreaker::last_duration).unwrap_or(-1.0)
}

/// See [`JsBreaker::take_transition`].
#[wasm_bindgen(js_name = takeTransition)]
#[must_use]
pub fn take_transition(handle: u32) -> JsValue {
    handles::with(handle, JsBreaker::take_transition).unwrap_or(JsValue::UNDEFINED)
}

/// See [`JsBreaker::state`] (`State as u8`; 255 for a freed handle).
#[wasm_bindgen]
#[must_use]
pub fn state(handle: u32, now_ms: f64) -> u8 {
    handles::with(handle, |b| b.state(now_ms)).unwrap_or(u8::MAX)
}

/// See [`JsBreaker::health`] (`HealthStatus as u8`; 255 for a freed handle).
#[wasm_bindgen]
#[must_use]
pub fn health(handle: u32, now_ms: f64) -> u8 {
    handles::with(handle, |b| b.health(now_ms)).unwrap_or(u8::MAX)
}

/// See [`JsBreaker::snapshot`].
#[wasm_bindgen]
#[must_use]
pub fn snapshot(handle: u32, now_ms: f64, with_health: bool) -> JsValue {
    handles::with(handle, |b| b.snapshot(now_ms, with_health)).unwrap_or(JsValue::UNDEFINED)
}

/// See [`JsBreaker::config`].
#[wasm_bindgen]
#[must_use]
pub fn config(handle: u32) -> JsValue {
    handles::with(handle, JsBreaker::config).unwrap_or(JsValue::UNDEFINED)
}

/// See [`JsBreaker::manual`].
///
/// # Errors
/// As [`JsBreaker::manual`].
#[wasm_bindgen]
pub fn manual(handle: u32, op: u32, now_ms: f64) -> Result<JsValue, JsValue> {
    handles::with(handle, |b| b.manual(op, now_ms)).unwrap_or(Ok(JsValue::UNDEFINED))
}

/// See [`JsBreaker::prometheus_text`]; `naming` `"cbreaker"` (also when undefined) or
/// `"resilience4j"`.
///
/// # Errors
/// A `RangeError` naming the option `naming` for any other naming.
#[wasm_bindgen(js_name = prometheusText)]
pub fn prometheus_text(
    handle: u32,
    name: &str,
    now_ms: f64,
    naming: Option<String>,
) -> Result<String, JsValue> {
    let naming = naming_of(naming.as_deref())?;
    Ok(handles::with(handle, |b| b.prometheus_text(name, now_ms, naming)).unwrap_or_default())
}

/// The naming spelled `name` (none: cbreaker's), or a `RangeError` for the option `naming`
/// with the core's message (it lists the names).
fn naming_of(name: Option<&str>) -> Result<Naming, JsValue> {
    name.map_or(Ok(Naming::Cbreaker), |n| {
        Naming::parse(n).map_err(|e| errors::range_error("naming", &format!("{e}, got {n:?}")))
    })
}

/// See [`JsBreaker::byte_size`].
#[wasm_bindgen(js_name = byteSize)]
#[must_use]
pub fn byte_size(handle: u32) -> u32 {
    handles::with(handle, JsBreaker::byte_size).unwrap_or(0)
}

/// The [`End`] of a discriminant; the JS layer passes discriminants of `End::ALL` only.
fn end_of(end: u8) -> End {
    End::ALL
        .get(usize::from(end))
        .copied()
        .unwrap_or(End::Failure)
}

/// The window: the kind asked for (or implied by the fields given, or the base's), with the
/// fields given, or the base's where the base has the same kind.
fn window_of(
    base: WindowKind,
    kind: Option<u32>,
    size: Option<f64>,
    duration_ms: Option<f64>,
    buckets: Option<f64>,
) -> Result<WindowKind, JsValue> {
    let time_field = if duration_ms.is_some() {
        Some("windowDurationMs")
    } else if buckets.is_some() {
        Some("windowBuckets")
    } else {
        None
    };
    let kind = match (kind, size, time_field) {
        (Some(kind), _, _) => Some(kind),
        (None, Some(_), Some(field)) => {
            return Err(errors::type_error(
                field,
                &format!("windowSize sets a count window and {field} a time window: give one"),
            ));
        }
        (None, Some(_), None) => Some(KIND_COUNT),
        (None, None, Some(_)) => Some(KIND_TIME),
        (None, None, None) => None,
    };
    let conflict = |field: &str, window: &str| {
        errors::type_error(
            field,
            &format!("{field} does not apply to window '{window}'"),
        )
    };
    let missing = |field: &str, window: &str| {
        errors::type_error(field, &format!("window '{window}' needs {field}"))
    };
    Ok(match kind {
        None => base,
        Some(KIND_COUNT) => {
            if let Some(field) = time_field {
                return Err(conflict(field, "count"));
            }
            let base_size = match base {
                WindowKind::Count { size } => Some(size),
                _ => None,
            };
            let size = size.map(n32).or(base_size);
            WindowKind::Count {
                size: size.ok_or_else(|| missing("windowSize", "count"))?,
            }
        }
        Some(KIND_TIME) => {
            if size.is_some() {
                return Err(conflict("windowSize", "time"));
            }
            let (d, b) = match base {
                WindowKind::Time { duration, buckets } => (Some(duration), Some(buckets)),
                _ => (None, None),
            };
            WindowKind::Time {
                duration: duration_ms
                    .map(ms)
                    .or(d)
                    .ok_or_else(|| missing("windowDurationMs", "time"))?,
                buckets: buckets
                    .map(n32)
                    .or(b)
                    .ok_or_else(|| missing("windowBuckets", "time"))?,
            }
        }
        Some(KIND_CONSECUTIVE) => {
            if let Some(field) = time_field.or(size.map(|_| "windowSize")) {
                return Err(conflict(field, "consecutive"));
            }
            WindowKind::Consecutive
        }
        Some(_) => return Err(errors::type_error("window", "unknown window kind")),
    })
}

/// Prometheus text for several breakers (`prometheusText(breakers)`): add each, then `text`.
#[wasm_bindgen]
pub struct Exposition {
    rows: Vec<(String, cbreaker::Snapshot, u32)>,
}

#[wasm_bindgen]
impl Exposition {
    /// An empty exposition.
    #[wasm_bindgen(constructor)]
    #[must_use]
    pub fn new() -> Exposition {
        Exposition { rows: Vec::new() }
    }

    /// Adds the snapshot at `now_ms` of the breaker of `handle`, labelled `name`; false if
    /// that breaker was freed.
    pub fn add(&mut self, name: String, handle: u32, now_ms: f64) -> bool {
        handles::with(handle, |b| (b.snapshot_at(now_ms), b.minimum_calls()))
            .map(|(snapshot, minimum)| self.rows.push((name, snapshot, minimum)))
            .is_some()
    }

    /// The text exposition (format 0.0.4) of every breaker added, in the order added, under
    /// `naming` (see [`prometheus_text`]).
    ///
    /// # Errors
    /// A `RangeError` naming the option `naming` for an unknown naming.
    pub fn text(&self, naming: Option<String>) -> Result<String, JsValue> {
        Ok(self.write(naming_of(naming.as_deref())?))
    }
}

impl Exposition {
    fn write(&self, naming: Naming) -> String {
        let rows: Vec<metrics::Row<'_>> = self
            .rows
            .iter()
            .map(|(name, snapshot, minimum_calls)| metrics::Row {
                breaker: name,
                snapshot: *snapshot,
                durations: None,
                minimum_calls: *minimum_calls,
            })
            .collect();
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = metrics::write_text_named(&mut out, &rows, naming);
        out
    }
}

impl Default for Exposition {
    fn default() -> Self {
        Exposition::new()
    }
}

/// The core's name tables and the permit-settled error's code and message (see
/// [`objects::tables`]).
#[wasm_bindgen]
#[must_use]
pub fn tables() -> JsValue {
    objects::tables()
}

/// The core's OpenTelemetry vocabulary (`metrics::otel`): `{ meterName, attrName,
/// transitionKeys, durationBuckets, instruments: [{ name, kind, unit, description,
/// attributes }] }`; `transitionKeys` are the attribute keys of a transition's previous
/// state, state entered and cause, in that order (`transition_attributes`).
#[wasm_bindgen(js_name = otelTables)]
#[must_use]
pub fn otel_tables() -> JsValue {
    use js_sys::{Array, Object, Reflect};
    let object = |pairs: &[(&str, JsValue)]| {
        let o = Object::new();
        for (k, v) in pairs {
            // Setting a property on a fresh plain object cannot fail.
            let _ = Reflect::set(&o, &JsValue::from_str(k), v);
        }
        JsValue::from(o)
    };
    let strings = |it: &mut dyn Iterator<Item = &str>| -> JsValue {
        it.map(JsValue::from_str).collect::<Array>().into()
    };
    let any = Transition {
        from: State::Closed,
        to: State::Open,
        at: Millis(0),
        generation: 0,
        cause: Cause::Trip,
    };
    let instruments: Array = otel::INSTRUMENTS
        .iter()
        .map(|i| {
            object(&[
                ("name", i.name.into()),
                ("kind", i.kind.name().into()),
                ("unit", i.unit.into()),
                ("description", i.description.into()),
                ("attributes", strings(&mut i.attributes.iter().copied())),
            ])
        })
        .collect();
    object(&[
        ("meterName", otel::METER_NAME.into()),
        ("attrName", otel::ATTR_NAME.into()),
        (
            "transitionKeys",
            strings(&mut otel::transition_attributes(&any).iter().map(|(k, _)| *k)),
        ),
        (
            "durationBuckets",
            metrics::DURATION_BUCKETS
                .iter()
                .map(|b| JsValue::from_f64(*b))
                .collect::<Array>()
                .into(),
        ),
        ("instruments", instruments.into()),
    ])
}

/// The observable instruments' data points for the breaker of `handle` at `now_ms`, from one
/// snapshot (`metrics::otel::points`): one array per instrument of `otelTables().instruments`
/// (empty for those fed by events), each a flat list `key, value, number, ...` (`key` and
/// `value` null for a point labelled by the breaker's name only). `undefined` if freed.
#[wasm_bindgen(js_name = otelPoints)]
#[must_use]
pub fn otel_points(handle: u32, now_ms: f64) -> JsValue {
    use js_sys::Array;
    handles::with(handle, |b| {
        let s = b.snapshot_at(now_ms);
        otel::INSTRUMENTS
            .iter()
            .map(|i| {
                let points = Array::new();
                otel::points(i, &s, |attr, v| {
                    let (k, x) = attr.map_or((JsValue::NULL, JsValue::NULL), |(k, x)| {
                        (k.into(), x.into())
                    });
                    points.push(&k);
                    points.push(&x);
                    points.push(&JsValue::from_f64(v.as_f64()));
                });
                JsValue::from(points)
            })
            .collect::<Array>()
            .into()
    })
    .unwrap_or(JsValue::UNDEFINED)
}

/// The core's message for a rejection (`reason` a `RejectReason` discriminant,
/// `retry_after_ms` negative for none).
#[wasm_bindgen(js_name = rejectionMessage)]
#[must_use]
pub fn rejection_message(reason: u8, retry_after_ms: f64) -> String {
    let reason = RejectReason::ALL
        .get(usize::from(reason))
        .copied()
        .unwrap_or(RejectReason::Open);
    Rejected {
        retry_after: (retry_after_ms >= 0.0).then(|| ms(retry_after_ms)),
        reason,
    }
    .to_string()
}

/// The prometheus content type (`text/plain; version=0.0.4; charset=utf-8`).
#[wasm_bindgen(js_name = prometheusContentType)]
#[must_use]
pub fn prometheus_content_type() -> String {
    metrics::CONTENT_TYPE.into()
}

/// The size of this module's WebAssembly memory, in bytes (for the memory benchmark).
#[wasm_bindgen(js_name = wasmMemoryBytes)]
#[must_use]
pub fn wasm_memory_bytes() -> f64 {
    #[cfg(target_arch = "wasm32")]
    return (core::arch::wasm32::memory_size(0) * 65_536) as f64;
    #[cfg(not(target_arch = "wasm32"))]
    0.0
}

/// Installs the panic hook that prints Rust panics to the console (feature `console-panic`).
#[cfg(feature = "console-panic")]
#[wasm_bindgen(js_name = installPanicHook)]
pub fn install_panic_hook() {
    console_error_panic_hook::set_once();
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbreaker::Outcome;

    #[test]
    fn end_discriminants_round_trip() {
        for (i, e) in End::ALL.iter().enumerate() {
            assert_eq!(end_of(i as u8), *e);
        }
    }

    #[test]
    fn outcome_discriminants_index_the_table() {
        for (i, o) in [Outcome::Success, Outcome::Failure, Outcome::Ignored]
            .iter()
            .enumerate()
        {
            assert_eq!(*o as usize, i);
        }
        // The largest result is (2 << 1) | 1 = 5: below SETTLED.
        assert!(Outcome::Ignored as u32 == 2 && SETTLED > 5);
    }

    #[test]
    fn rejection_encoding() {
        let decode = |x: f64| {
            let r = -x - 1.0;
            let reason = (r % 4.0) as u8;
            let after = (r / 4.0).floor() - 1.0;
            (reason, after)
        };
        for reason in RejectReason::ALL {
            for after in [
                None,
                Some(0),
                Some(1),
                Some(59_999),
                Some(u64::from(u32::MAX)),
            ] {
                let x = rejection(Rejected {
                    retry_after: after.map(Millis),
                    reason,
                });
                assert!(x < 0.0);
                let want = after.map_or(-1.0, |a| a as f64);
                assert_eq!(decode(x), (reason as u8, want));
            }
        }
    }

    #[test]
    fn storage_follows_the_config() {
        assert!(matches!(Inner::new(Config::DEFAULT), Ok(Inner::Small(_))));
        for name in Config::PRESETS {
            let c = Config::preset(name).unwrap();
            assert!(matches!(Inner::new(c), Ok(Inner::Small(_))), "{name}");
        }
        assert!(matches!(
            Inner::new(Config::count(1024)),
            Ok(Inner::Large(_))
        ));
        assert!(matches!(
            Inner::new(Config::time(Millis(64_000), 64)),
            Ok(Inner::Large(_))
        ));
        assert_eq!(
            Inner::new(Config::count(1025)).err(),
            Some(ConfigError::WindowSize)
        );
        assert_eq!(
            Inner::new(Config {
                half_open_max_calls: 0,
                ..Config::count(1000)
            })
            .err(),
            Some(ConfigError::HalfOpenMaxCalls)
        );
    }

    #[test]
    fn transitions_pack_into_one_word() {
        for (i, cause) in Cause::ALL.iter().enumerate() {
            let t = Transition {
                from: State::ALL[i % 6],
                to: State::ALL[(i + 1) % 6],
                at: Millis(1_700_000_000_000 + i as u64),
                generation: 4095 - i as u32,
                cause: *cause,
            };
            assert_eq!(unpack(pack(t)), Some(t));
            assert_ne!(pack(t), NO_TRANSITION);
        }
        assert_eq!(unpack(NO_TRANSITION), None);
    }

    /// The Prometheus text of a scenario, written by the core with no JS in between: the JS
    /// test (test/api.test.mjs) compares its `prometheusText()` with the same file, so the
    /// bytes are the same on both sides.
    #[test]
    fn prometheus_text_matches_the_golden_file() {
        let b: Breaker = Breaker::new(Config {
            minimum_calls: 4,
            ..Config::count(4)
        })
        .unwrap();
        for outcome in [Outcome::Success, Outcome::Failure, Outcome::Failure] {
            let p = b.try_acquire(Millis(0)).unwrap().permit;
            let _ = b.record(p, outcome, None, Millis(0));
        }
        let row = metrics::Row {
            breaker: "pay\"ments",
            snapshot: b.snapshot(Millis(0)),
            durations: None,
            minimum_calls: 4,
        };
        let mut text = String::new();
        metrics::write_text(&mut text, &[row]).unwrap();
        assert_eq!(text, include_str!("../test/prometheus.golden.txt"));
    }

    #[test]
    fn time_conversion() {
        assert_eq!(ms(f64::NAN), Millis(0));
        assert_eq!(ms(-5.0), Millis(0));
        assert_eq!(ms(12.9), Millis(12));
    }
}
