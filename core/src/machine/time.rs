//! Time as the core sees it: a caller-chosen monotonic count of milliseconds.
//!
//! The core never reads a clock. Firmware passes its tick counter, bindings read a monotonic
//! clock, tests inject time. Any origin works; only differences matter.

use core::fmt;

/// A monotonic timestamp or a duration, in milliseconds.
///
/// ```
/// use cbreaker::Millis;
/// assert_eq!(Millis::from_secs(2), Millis(2_000));
/// assert_eq!(Millis(1_500).to_string(), "1500ms");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Millis(pub u64);

impl Millis {
    /// Zero milliseconds.
    pub const ZERO: Millis = Millis(0);

    /// `secs` seconds.
    #[must_use]
    pub const fn from_secs(secs: u64) -> Millis {
        Millis(secs.saturating_mul(1_000))
    }

    /// The number of milliseconds.
    #[must_use]
    pub const fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}ms", self.0)
    }
}

impl From<u64> for Millis {
    fn from(ms: u64) -> Millis {
        Millis(ms)
    }
}

/// Where an operation gets `now` from: a [`Millis`] value, or a closure the core calls at most
/// once, and only when the decision needs the time.
///
/// A closed count-window success never needs it, so a binding whose clock read is expensive
/// passes a closure and pays for the read only on the paths that use it.
///
/// ```
/// use cbreaker::{Breaker, Config, Millis};
/// let breaker: Breaker = Breaker::new(Config::count(10)).unwrap();
/// let admitted = breaker.try_acquire(Millis(5)).unwrap();          // a value
/// let _ = breaker.record(admitted.permit, cbreaker::Outcome::Success, None, || Millis(6)); // lazy
/// ```
pub trait Clock {
    /// Reads the time. Called at most once per operation.
    fn now(self) -> Millis;
}

impl Clock for Millis {
    #[inline]
    fn now(self) -> Millis {
        self
    }
}

impl<F: FnOnce() -> Millis> Clock for F {
    #[inline]
    fn now(self) -> Millis {
        self()
    }
}

/// Reads a [`Clock`] at most once, on first use.
pub(crate) struct LazyNow<C: Clock> {
    clock: Option<C>,
    value: Millis,
}

impl<C: Clock> LazyNow<C> {
    #[inline]
    pub(crate) fn new(clock: C) -> Self {
        LazyNow {
            clock: Some(clock),
            value: Millis::ZERO,
        }
    }

    #[inline]
    pub(crate) fn get(&mut self) -> Millis {
        if let Some(clock) = self.clock.take() {
            self.value = clock.now();
        }
        self.value
    }
}
