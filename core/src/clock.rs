//! `std`: the monotonic clock the call helpers read.
//!
//! Milliseconds since a process-wide origin (the first read), from [`std::time::Instant`]:
//! `CLOCK_MONOTONIC` through the vDSO on Linux, `mach_absolute_time` on macOS,
//! `QueryPerformanceCounter` on Windows. Resolution: one millisecond (the core's unit); the
//! underlying source is nanosecond-grained.
//!
//! Why not a coarse clock (`CLOCK_MONOTONIC_COARSE`)? It is cheaper to read (about a third of
//! `Instant::now()` in `benches/benches/services.rs`, `clock/*` rows) but it only advances once
//! per kernel tick (1–10 ms, `CONFIG_HZ`), which is coarser than the core's millisecond and
//! would report most fast calls as lasting 0 ms and some as 4 ms. Reading it also needs
//! `libc` and `unsafe`, and this crate is `forbid(unsafe_code)`. The helpers read the clock
//! only where a decision or a duration needs it (a closed success reads it twice: before and
//! after the call, for the call's duration), so the difference is a few nanoseconds a call.
//!
//! ```
//! let a = cbreaker::clock::now();
//! let b = cbreaker::clock::now();
//! assert!(b >= a);
//! ```

extern crate std;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::time::Millis;

static ORIGIN: OnceLock<Instant> = OnceLock::new();

/// The instant that [`now`] counts from: the first time any clock function ran in this
/// process.
#[must_use]
pub fn origin() -> Instant {
    *ORIGIN.get_or_init(Instant::now)
}

/// Milliseconds since [`origin`]. Pass it (the function itself) wherever the core takes a
/// [`Clock`](crate::Clock): it is then read only when the decision needs the time.
///
/// ```
/// use cbreaker::{Breaker, Config, clock};
/// let breaker: Breaker = Breaker::new(Config::count(10)).unwrap();
/// let admitted = breaker.try_acquire(clock::now).unwrap(); // closed: the clock is not read
/// # let _ = breaker.record(admitted.permit, cbreaker::Outcome::Success, None, clock::now);
/// ```
#[must_use]
pub fn now() -> Millis {
    at(Instant::now())
}

/// `instant` as milliseconds since [`origin`] (zero for an instant before it).
#[must_use]
pub fn at(instant: Instant) -> Millis {
    Millis(millis(instant.saturating_duration_since(origin())))
}

/// A duration in whole milliseconds (saturating).
#[must_use]
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
