//! `std`: the monotonic clock the call helpers read for `now`.
//!
//! Milliseconds from a coarse monotonic source: `CLOCK_MONOTONIC_COARSE` on Linux and
//! Android, `CLOCK_MONOTONIC_RAW_APPROX` on macOS, `CLOCK_MONOTONIC_FAST` on FreeBSD, the tick
//! count on Windows (through the `coarsetime` crate, which wraps them safely: this crate is
//! `forbid(unsafe_code)`). The origin is unspecified (boot, on Linux); only differences
//! matter to the core. Other Unix systems get `gettimeofday` from `coarsetime`, which is not
//! monotonic: the core tolerates time going backwards, but there pass your own monotonic
//! `now` for exact deadlines (docs/rust.md).
//!
//! **Resolution: one kernel tick**, 1 to 10 ms (`CONFIG_HZ`). That is
//! what decisions need: an open deadline or a retry-after that is a few milliseconds late is
//! harmless next to durations of seconds. What it buys: a read costs a fraction of
//! `Instant::now()` (the `clock/*` rows of `benches/benches/services.rs`; figures in
//! docs/benchmarks.md), and the call helpers read it only when a decision needs
//! the time (a rejection, a half-open probe, a trip): a closed success does not read it.
//!
//! Call *durations* are measured separately, with [`std::time::Instant`] (nanosecond
//! resolution), and only when something uses them: the breaker's slow-call rule
//! (`slow_call_rate_threshold > 0`) or a [`ServiceBreaker`](crate::ServiceBreaker)'s
//! histogram.
//!
//! ```
//! let a = cbreaker::monotonic::now();
//! let b = cbreaker::monotonic::now();
//! assert!(b >= a);
//! ```

extern crate std;

use std::time::Duration;

use crate::time::Millis;

/// The coarse monotonic clock, in milliseconds. Pass it (the function itself) wherever the
/// core takes a [`Clock`](crate::Clock): it is then read only when the decision needs the
/// time.
///
/// ```
/// use cbreaker::{Breaker, Config, monotonic};
/// let breaker: Breaker = Breaker::new(Config::count(10)).unwrap();
/// let admitted = breaker.try_acquire(monotonic::now).unwrap(); // closed: the clock is not read
/// # let _ = breaker.record(admitted.permit, cbreaker::Outcome::Success, None, monotonic::now);
/// ```
#[inline]
#[must_use]
pub fn now() -> Millis {
    // Without the cache update: `now()` would store into a global shared by every thread.
    let ticks = coarsetime::Instant::now_without_cache_update().as_ticks();
    // Ticks are 2^-32 s.
    Millis(((u128::from(ticks) * 1_000) >> 32) as u64)
}

/// A duration in whole milliseconds (saturating).
#[must_use]
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
