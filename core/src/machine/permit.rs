//! What a caller holds between asking and reporting: permits, outcomes, admissions.

use crate::state::{State, Word};
use crate::transition::Transition;

/// Permission to make one call. Report it exactly once with
/// [`Breaker::record`](crate::Breaker::record) or [`Breaker::release`](crate::Breaker::release).
///
/// `Copy` and four bytes, so it crosses the C ABI by value. It carries the generation it was
/// issued in: an outcome reported with a permit from an older generation still counts in the
/// lifetime counters but never changes the state or the window.
///
/// ```
/// use cbreaker::{Breaker, Config, Millis, Outcome, Permit, State};
/// let breaker: Breaker = Breaker::new(Config::count(10)).unwrap();
/// let permit = breaker.try_acquire(Millis(0)).unwrap().permit;
/// assert_eq!(permit.state(), State::Closed);
/// // A binding may keep it as plain bits and hand it back later.
/// let bits = permit.to_bits();
/// breaker.record(Permit::from_bits(bits), Outcome::Success, None, Millis(1));
/// assert_eq!(breaker.snapshot(Millis(1)).successes, 1);
/// ```
#[must_use = "a permit must be reported with `record` or `release`"]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Permit(pub(crate) u32);

impl Permit {
    /// The generation this permit was issued in (modulo 4,096).
    #[must_use]
    pub const fn generation(self) -> u32 {
        Word(self.0).generation()
    }

    /// The state this permit was issued in: `Closed`, `HalfOpen`, `Disabled` or `MetricsOnly`.
    #[must_use]
    pub const fn state(self) -> State {
        Word(self.0).phase()
    }

    /// The permit as plain bits, for bindings that store it outside Rust.
    #[must_use]
    pub const fn to_bits(self) -> u32 {
        self.0
    }

    /// A permit from [`Permit::to_bits`]. Any `u32` is memory-safe: bits that match no
    /// current generation are treated as a stale permit.
    pub const fn from_bits(bits: u32) -> Permit {
        Permit(bits)
    }
}

/// How a call ended.
///
/// ```
/// use cbreaker::{Breaker, Config, Millis, Outcome};
/// let breaker: Breaker = Breaker::new(Config { slow_call_duration: Millis(100), ..Config::count(10) }).unwrap();
/// let p = breaker.try_acquire(Millis(0)).unwrap().permit;
/// breaker.record(p, Outcome::Success, Some(Millis(250)), Millis(250)); // a slow success
/// let p = breaker.try_acquire(Millis(300)).unwrap().permit;
/// breaker.record(p, Outcome::Ignored, None, Millis(300)); // e.g. a cancelled call
/// let s = breaker.snapshot(Millis(300));
/// assert_eq!((s.successes, s.slow, s.ignored, s.window_calls), (1, 1, 1, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Outcome {
    /// The call worked. With a duration at or above `slow_call_duration` it is also slow.
    Success = 0,
    /// The call failed.
    Failure = 1,
    /// Neither: an excluded error or a cancelled call. Counts nowhere but `ignored`, and frees
    /// a half-open slot.
    Ignored = 2,
}

impl Outcome {
    /// The snake_case name used in vectors and bindings.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Ignored => "ignored",
        }
    }
}

/// A call was admitted: the permit, and the transition this `try_acquire` caused, if any
/// (`Open → HalfOpen` when the open duration has passed).
///
/// ```
/// use cbreaker::{Breaker, Config, Millis, Outcome, State};
/// let breaker: Breaker = Breaker::new(Config { open_duration: Millis(1_000), ..Config::consecutive(1) }).unwrap();
/// let p = breaker.try_acquire(Millis(0)).unwrap().permit;
/// breaker.record(p, Outcome::Failure, None, Millis(0)); // trips
/// let admitted = breaker.try_acquire(Millis(1_000)).unwrap();
/// assert_eq!(admitted.transition.map(|t| t.to), Some(State::HalfOpen));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Admitted {
    /// Report it exactly once.
    pub permit: Permit,
    /// The transition this call caused. Exactly one caller sees each transition.
    pub transition: Option<Transition>,
}
