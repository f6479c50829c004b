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
mod objects;

use cbreaker::{
    Breaker, Call, Clock, Config, ConfigError, End, HealthStatus, MAX_SLOTS, Millis, Permit,
    RejectReason, Rejected, Transition, WindowKind, metrics,
};
use core::cell::Cell;
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

/// `finish`'s result: the outcome recorded (`Outcome as u32`) shifted left by one, plus 1 if
/// it caused a transition (read it with `takeTransition`); or [`SETTLED`].
const CAUSED_TRANSITION: u32 = 1;
/// `finish`: the core refused, the call was settled already ([`cbreaker::PermitSettled`]).
pub const SETTLED: u32 = 8;

/// The breaker's storage, sized from its config.
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

/// A circuit breaker.
#[wasm_bindgen(js_name = CircuitBreaker)]
pub struct JsBreaker {
    inner: Inner,
    /// The transition the last `begin`/`finish`/`finishMeasured` flagged, until taken.
    pending: Cell<Option<Transition>>,
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

/// `as` saturates: a value too large for a core field stays out of range there, so the
/// core's own check names it.
fn n32(x: f64) -> u32 {
    x as u32
}

#[wasm_bindgen(js_class = CircuitBreaker)]
impl JsBreaker {
    /// Builds a breaker from `preset` (a name of `Config::PRESETS`) or `Config::default()`,
    /// with the fields given overriding it. `window`: 0 count, 1 time, 2 consecutive;
    /// absent, it is the count or time window the window fields given imply, else the
    /// base's. `never_trips`: accept a config with every trip rule off.
    ///
    /// # Errors
    /// A `RangeError` (out of range) or `TypeError` (missing or conflicting option) with
    /// `code: "ERR_CB_INVALID_CONFIG"` and `option` naming the JS option.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
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
        Ok(JsBreaker {
            inner,
            pending: Cell::new(None),
            aux: Cell::new(-1.0),
        })
    }

    /// The call protocol's `begin(now, sink)`: the permit's bits, plus [`TIMED`] if the call
    /// is timed (its start: `startedAt()`), plus [`HAS_TRANSITION`] if it caused one; or a
    /// rejection (negative, see [`rejection`]).
    pub fn begin(&self, now_ms: f64, sink: bool) -> f64 {
        match with!(&self.inner, b => b.begin(clock(now_ms), sink)) {
            Ok(begun) => {
                let mut r = f64::from(begun.call.permit().to_bits());
                if let Some(started) = begun.call.started() {
                    self.aux.set(started.0 as f64);
                    r += TIMED;
                }
                if begun.transition.is_some() {
                    self.pending.set(begun.transition);
                    r += HAS_TRANSITION;
                }
                r
            }
            Err(rejected) => rejection(rejected),
        }
    }

    /// The start of the call the last `begin` flagged as timed, in ms.
    #[wasm_bindgen(js_name = startedAt)]
    pub fn started_at(&self) -> f64 {
        self.aux.get()
    }

    /// The call protocol's `finish(call, end, now)` on a call kept as its parts (`started`:
    /// NaN for an untimed call). Returns the outcome recorded and whether a transition is to
    /// be taken (see [`SETTLED`]), or [`SETTLED`] (nothing recorded).
    pub fn finish(&self, bits: u32, started: f64, settled: bool, end: u8, now_ms: f64) -> u32 {
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
    #[wasm_bindgen(js_name = finishMeasured)]
    pub fn finish_measured(
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
                if f.transition.is_some() {
                    self.pending.set(f.transition);
                    outcome | CAUSED_TRANSITION
                } else {
                    outcome
                }
            }
            Err(cbreaker::PermitSettled) => SETTLED,
        }
    }

    /// The duration the last `finish` reported, in ms; -1 when the call was untimed.
    #[wasm_bindgen(js_name = lastDuration)]
    pub fn last_duration(&self) -> f64 {
        self.aux.get()
    }

    /// The transition the last flagged `begin` or `finish` caused, once, as
    /// `{ from, to, at, generation, cause }`.
    #[wasm_bindgen(js_name = takeTransition)]
    pub fn take_transition(&self) -> JsValue {
        self.pending
            .take()
            .map_or(JsValue::UNDEFINED, |t| objects::transition(&t))
    }

    /// The state a `tryAcquire` at `now_ms` would see (`State as u8`).
    pub fn state(&self, now_ms: f64) -> u8 {
        with!(&self.inner, b => b.state(clock(now_ms))) as u8
    }

    /// The core's health rule for this breaker at `now_ms` (`HealthStatus as u8`).
    pub fn health(&self, now_ms: f64) -> u8 {
        HealthStatus::of(with!(&self.inner, b => b.state(clock(now_ms)))) as u8
    }

    /// The snapshot at `now_ms` as a named object (`health` added when asked).
    pub fn snapshot(&self, now_ms: f64, with_health: bool) -> JsValue {
        objects::snapshot(&self.snapshot_at(now_ms), with_health)
    }

    fn snapshot_at(&self, now_ms: f64) -> cbreaker::Snapshot {
        with!(&self.inner, b => b.snapshot(clock(now_ms)))
    }

    /// The config the breaker was built with (defaults and preset filled in), under the JS
    /// option names.
    pub fn config(&self) -> JsValue {
        objects::config(&with!(&self.inner, b => b.config()))
    }

    /// A manual move: 0 force open, 1 force closed (disabled), 2 metrics only, 3 reset,
    /// 4 trip, 5 half-open. Returns its transition (always one) as a named object.
    ///
    /// # Errors
    /// A `TypeError` for an unknown operation (a bug in the JS layer).
    pub fn manual(&self, op: u32, now_ms: f64) -> Result<JsValue, JsValue> {
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

    /// This breaker's Prometheus text (the core's `metrics::write_text`), labelled `name`.
    #[wasm_bindgen(js_name = prometheusText)]
    pub fn prometheus_text(&self, name: &str, now_ms: f64) -> String {
        let mut text = Exposition::new();
        text.add(name.into(), self, now_ms);
        text.text()
    }

    /// Bytes of WebAssembly memory this breaker owns (not counting the allocator's headers).
    #[wasm_bindgen(js_name = byteSize)]
    pub fn byte_size(&self) -> u32 {
        let heap = match &self.inner {
            Inner::Small(_) => 0,
            Inner::Large(_) => size_of::<Breaker<MAX_SLOTS>>(),
        };
        (size_of::<JsBreaker>() + heap) as u32
    }
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
    rows: Vec<(String, cbreaker::Snapshot)>,
}

#[wasm_bindgen]
impl Exposition {
    /// An empty exposition.
    #[wasm_bindgen(constructor)]
    #[must_use]
    pub fn new() -> Exposition {
        Exposition { rows: Vec::new() }
    }

    /// Adds `breaker`'s snapshot at `now_ms`, labelled `name`.
    pub fn add(&mut self, name: String, breaker: &JsBreaker, now_ms: f64) {
        self.rows.push((name, breaker.snapshot_at(now_ms)));
    }

    /// The text exposition (format 0.0.4) of every breaker added, in the order added.
    #[must_use]
    pub fn text(&self) -> String {
        let rows: Vec<metrics::Row<'_>> = self
            .rows
            .iter()
            .map(|(name, snapshot)| metrics::Row {
                breaker: name,
                snapshot: *snapshot,
                durations: None,
            })
            .collect();
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = metrics::write_text(&mut out, &rows);
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
        assert!((Outcome::Ignored as u32) << 1 | CAUSED_TRANSITION < SETTLED);
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
    fn time_conversion() {
        assert_eq!(ms(f64::NAN), Millis(0));
        assert_eq!(ms(-5.0), Millis(0));
        assert_eq!(ms(12.9), Millis(12));
    }
}
