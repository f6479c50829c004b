//! # cbreaker-wasm
//!
//! The WebAssembly front door of [`cbreaker`]: the raw class behind the npm package `cbreaker`.
//! It translates types, maps errors and nothing more; every decision stays in the core, and
//! the JS layer (`js/layer.mjs`) picks the clock, shapes the API and fires events.
//!
//! The boundary passes plain numbers only, so the hot paths allocate nothing on either side:
//!
//! - time: `now` is a JS number of milliseconds, floored (negatives read as 0). NaN means "no
//!   time given": the core then reads `performance.now()` only if its decision needs the time
//!   (a closed count-window call needs none), so the default clock costs nothing on that path;
//! - a permit is its [`Permit::to_bits`] value, a `u32` in a JS number;
//! - a transition is packed into one `u32` (0 = none), see [`pack`];
//! - a rejection is a negative number: `-(retry_after_ms + 1)`, or `-Infinity` when forced open.

#![forbid(unsafe_code)]

mod errors;

use cbreaker::{
    Breaker, Cause, Clock, Config, MAX_SLOTS, Millis, Outcome, Permit, State, Transition,
};
use core::cell::Cell;
use wasm_bindgen::prelude::*;

pub use errors::{config_error, option_name};

/// Window kind codes used by the JS layer.
const KIND_COUNT: u32 = 0;
const KIND_TIME: u32 = 1;
const KIND_CONSECUTIVE: u32 = 2;

/// Added to a permit's bits when the `tryAcquire` that issued it caused a transition
/// (read it with `takeTransition`).
const HAS_TRANSITION: f64 = 4_294_967_296.0; // 2^32

/// A circuit breaker (storage for every window the config allows: [`MAX_SLOTS`]).
#[wasm_bindgen(js_name = CircuitBreaker)]
pub struct JsBreaker {
    inner: Breaker<MAX_SLOTS>,
    /// The transition caused by the last `tryAcquire` that caused one, until taken.
    pending: Cell<u32>,
    /// `at` of the last transition returned (the JS layer may not know the time it used).
    last_at: Cell<f64>,
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

/// A duration from a JS number; NaN or negative means "not measured".
fn duration(x: f64) -> Option<Millis> {
    (x >= 0.0).then(|| ms(x))
}

/// One transition in a `u32`: bit 0 set, `from` in bits 1–3, `to` in 4–6, `cause` in 7–10,
/// `generation` in 11–22 (`at` is read separately with `transitionAt`).
#[must_use]
pub fn pack(t: Transition) -> u32 {
    1 | (t.from as u32) << 1
        | (t.to as u32) << 4
        | (t.cause as u32) << 7
        | (t.generation & 0xFFF) << 11
}

#[wasm_bindgen(js_class = CircuitBreaker)]
impl JsBreaker {
    /// Builds a breaker. Window `kind`: 0 count (`size`), 1 time (`duration_ms`, `buckets`),
    /// 2 consecutive. `undefined` leaves a field at the core's default; `jitter_seed` comes
    /// as two 32-bit halves.
    ///
    /// # Errors
    /// A `RangeError` with `code: "ERR_CB_INVALID_CONFIG"` and `option` naming the JS option.
    #[wasm_bindgen(constructor)]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kind: u32,
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
        jitter_seed_hi: u32,
        jitter_seed_lo: u32,
        half_open_max_calls: Option<f64>,
        success_threshold: Option<f64>,
        half_open_max_wait_ms: Option<f64>,
    ) -> Result<JsBreaker, JsValue> {
        // `as` saturates: a value too large for a core field stays out of range there, so the
        // core's own check names it.
        let n32 = |x: Option<f64>| x.map_or(0, |x| x as u32);
        let mut c = match kind {
            KIND_COUNT => Config::count(n32(size)),
            KIND_TIME => Config::time(duration_ms.map_or(Millis(0), ms), n32(buckets)),
            KIND_CONSECUTIVE => Config::consecutive(n32(consecutive_failures)),
            _ => return Err(errors::invalid_argument("unknown window kind")),
        };
        let set_u8 = |f: &mut u8, x: Option<f64>| x.into_iter().for_each(|x| *f = x as u8);
        let set_u32 = |f: &mut u32, x: Option<f64>| x.into_iter().for_each(|x| *f = x as u32);
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
        c.jitter_seed = u64::from(jitter_seed_hi) << 32 | u64::from(jitter_seed_lo);
        set_u32(&mut c.half_open_max_calls, half_open_max_calls);
        set_u32(&mut c.success_threshold, success_threshold);
        set_ms(&mut c.half_open_max_wait, half_open_max_wait_ms);
        let inner = Breaker::new(c).map_err(config_error)?;
        Ok(JsBreaker {
            inner,
            pending: Cell::new(0),
            last_at: Cell::new(0.0),
        })
    }

    /// A permit's bits (plus 2^32 if this call caused a transition), or a rejection as a
    /// negative number: `-(retry_after_ms + 1)`, `-Infinity` when forced open.
    #[wasm_bindgen(js_name = tryAcquire)]
    pub fn try_acquire(&self, now_ms: f64) -> f64 {
        match self.inner.try_acquire(clock(now_ms)) {
            Ok(admitted) => {
                let bits = f64::from(admitted.permit.to_bits());
                match admitted.transition {
                    Some(t) => {
                        self.pending.set(self.seen(t));
                        bits + HAS_TRANSITION
                    }
                    None => bits,
                }
            }
            Err(rejected) => match rejected.retry_after {
                Some(after) => -(after.0 as f64) - 1.0,
                None => f64::NEG_INFINITY,
            },
        }
    }

    /// The transition the last flagged `tryAcquire` caused (packed), once.
    #[wasm_bindgen(js_name = takeTransition)]
    pub fn take_transition(&self) -> u32 {
        self.pending.replace(0)
    }

    /// Records a success; `duration_ms` < 0 or NaN means unmeasured. Returns a packed
    /// transition or 0.
    pub fn success(&self, permit: u32, duration_ms: f64, now_ms: f64) -> u32 {
        self.record(permit, Outcome::Success, duration_ms, now_ms)
    }

    /// Records a failure, as [`JsBreaker::success`].
    pub fn failure(&self, permit: u32, duration_ms: f64, now_ms: f64) -> u32 {
        self.record(permit, Outcome::Failure, duration_ms, now_ms)
    }

    /// Records an ignored outcome (an excluded error, a cancelled or abandoned call).
    pub fn ignore(&self, permit: u32, now_ms: f64) -> u32 {
        self.record(permit, Outcome::Ignored, f64::NAN, now_ms)
    }

    fn record(&self, permit: u32, outcome: Outcome, duration_ms: f64, now_ms: f64) -> u32 {
        let t = self.inner.record(
            Permit::from_bits(permit),
            outcome,
            duration(duration_ms),
            clock(now_ms),
        );
        t.map_or(0, |t| self.seen(t))
    }

    /// Packs `t`, keeping its `at` for [`JsBreaker::transition_at`].
    fn seen(&self, t: Transition) -> u32 {
        self.last_at.set(t.at.0 as f64);
        pack(t)
    }

    /// `at` of the last transition returned, in ms.
    #[wasm_bindgen(js_name = transitionAt)]
    pub fn transition_at(&self) -> f64 {
        self.last_at.get()
    }

    /// The state a `tryAcquire` at `now_ms` would see (`State as u8`).
    pub fn state(&self, now_ms: f64) -> u8 {
        self.inner.state(clock(now_ms)) as u8
    }

    /// Snapshot as numbers: state, generation, calls, successes, failures, ignored, slow,
    /// rejected, transitions into each of the six states, window calls / failures / slow,
    /// failure rate, slow rate, consecutive failures, retry-after (-1 = none).
    pub fn snapshot(&self, now_ms: f64) -> Vec<f64> {
        let s = self.inner.snapshot(clock(now_ms));
        let mut v = Vec::with_capacity(20);
        v.extend([f64::from(s.state as u8), f64::from(s.generation)]);
        v.extend(
            [
                s.calls,
                s.successes,
                s.failures,
                s.ignored,
                s.slow,
                s.rejected,
            ]
            .map(|c| c as f64),
        );
        v.extend(s.transitions.map(f64::from));
        v.extend([s.window_calls, s.window_failures, s.window_slow].map(f64::from));
        v.extend([
            s.failure_rate,
            s.slow_rate,
            f64::from(s.consecutive_failures),
        ]);
        v.push(s.retry_after.map_or(-1.0, |r| r.0 as f64));
        v
    }

    /// Manual control: 0 force open, 1 force closed (disabled), 2 metrics only, 3 reset.
    /// Returns the packed transition (always one).
    pub fn manual(&self, op: u32, now_ms: f64) -> Result<u32, JsValue> {
        let now = clock(now_ms);
        let t = match op {
            0 => self.inner.force_open(now),
            1 => self.inner.force_closed(now),
            2 => self.inner.metrics_only(now),
            3 => self.inner.reset(now),
            _ => return Err(errors::invalid_argument("unknown manual operation")),
        };
        Ok(self.seen(t))
    }

    /// Bytes of WebAssembly memory one breaker takes (not counting the allocator's header).
    #[wasm_bindgen(js_name = byteSize)]
    pub fn byte_size() -> u32 {
        core::mem::size_of::<JsBreaker>() as u32
    }
}

/// The size of this module's WebAssembly memory, in bytes (for the memory benchmark).
#[wasm_bindgen(js_name = wasmMemoryBytes)]
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

/// The name (snake_case, as in the vectors) of state code `i`, `undefined` past the last.
#[wasm_bindgen(js_name = stateName)]
pub fn state_name(i: usize) -> JsValue {
    State::ALL
        .get(i)
        .map_or(JsValue::UNDEFINED, |s| JsValue::from_str(s.name()))
}

/// The name (snake_case) of cause code `i` in a packed transition, `undefined` past the last.
#[wasm_bindgen(js_name = causeName)]
pub fn cause_name(i: usize) -> JsValue {
    Cause::ALL
        .get(i)
        .map_or(JsValue::UNDEFINED, |c| JsValue::from_str(c.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_follow_discriminants() {
        for (i, s) in State::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i);
        }
    }

    #[test]
    fn pack_layout() {
        let t = Transition {
            from: State::HalfOpen,
            to: State::Open,
            at: Millis(9),
            generation: 4095,
            cause: Cause::Reset,
        };
        let p = pack(t);
        assert_eq!(p & 1, 1);
        assert_eq!((p >> 1) & 7, 2);
        assert_eq!((p >> 4) & 7, 1);
        assert_eq!((p >> 7) & 15, 10);
        assert_eq!(p >> 11, 4095);
    }

    #[test]
    fn time_conversion() {
        assert_eq!(ms(f64::NAN), Millis(0));
        assert_eq!(ms(-5.0), Millis(0));
        assert_eq!(ms(12.9), Millis(12));
        assert_eq!(duration(-1.0), None);
        assert_eq!(duration(0.0), Some(Millis(0)));
    }
}
