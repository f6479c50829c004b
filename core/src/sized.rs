//! [`SizedBreaker`]: a breaker whose window storage is chosen at run time from its config
//! (feature `alloc`). For bindings and registries that create breakers from user config:
//! most windows (consecutive, count up to 32 outcomes, time up to 2 buckets) fit inline in
//! `Breaker<SMALL_SLOTS>`; any other window gets a boxed `Breaker<MAX_SLOTS>`. Every method
//! forwards to the core unchanged.

extern crate alloc;

use alloc::boxed::Box;

use crate::{
    Admitted, Begun, Breaker, Call, Clock, Config, ConfigError, End, Finished, MAX_SLOTS, Millis,
    Outcome, Permit, PermitSettled, Rejected, Snapshot, State, Transition,
};

/// Window storage of the inline variant: 8 slots (32 outcomes or 2 time buckets).
pub const SMALL_SLOTS: usize = 8;

/// A breaker sized to its config: inline when the window is small, boxed otherwise.
///
/// ```
/// use cbreaker::{Config, Millis, SizedBreaker};
/// let small = SizedBreaker::new(Config::count(20)).unwrap();
/// let large = SizedBreaker::new(Config::count(1000)).unwrap();
/// assert_eq!(small.heap_bytes(), 0);
/// assert!(large.heap_bytes() > 1000);
/// assert!(small.try_acquire(Millis(0)).is_ok());
/// ```
pub enum SizedBreaker {
    /// A window that fits in [`SMALL_SLOTS`] slots, stored inline.
    Small(Breaker<SMALL_SLOTS>),
    /// Any other window, on the heap.
    Large(Box<Breaker<MAX_SLOTS>>),
}

macro_rules! forward {
    ($self:ident, $b:ident => $e:expr) => {
        match $self {
            SizedBreaker::Small($b) => $e,
            SizedBreaker::Large($b) => $e,
        }
    };
}

impl SizedBreaker {
    /// The smallest storage that fits `config`.
    ///
    /// # Errors
    /// As [`Breaker::new`] with [`MAX_SLOTS`].
    pub fn new(config: Config) -> Result<SizedBreaker, ConfigError> {
        match Breaker::<SMALL_SLOTS>::new(config) {
            Ok(b) => Ok(SizedBreaker::Small(b)),
            Err(_) => Breaker::<MAX_SLOTS>::new(config).map(|b| SizedBreaker::Large(Box::new(b))),
        }
    }

    /// Heap bytes this breaker owns (0 when inline).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        match self {
            SizedBreaker::Small(_) => 0,
            SizedBreaker::Large(_) => size_of::<Breaker<MAX_SLOTS>>(),
        }
    }

    /// See [`Breaker::try_acquire`].
    ///
    /// # Errors
    /// As [`Breaker::try_acquire`].
    #[inline]
    pub fn try_acquire(&self, now: impl Clock) -> Result<Admitted, Rejected> {
        forward!(self, b => b.try_acquire(now))
    }

    /// See [`Breaker::record`].
    #[inline]
    pub fn record(
        &self,
        permit: Permit,
        outcome: Outcome,
        duration: Option<Millis>,
        now: impl Clock,
    ) -> Option<Transition> {
        forward!(self, b => b.record(permit, outcome, duration, now))
    }

    /// See [`Breaker::release`].
    pub fn release(&self, permit: Permit, now: impl Clock) {
        forward!(self, b => b.release(permit, now))
    }

    /// See [`Breaker::state`].
    pub fn state(&self, now: impl Clock) -> State {
        forward!(self, b => b.state(now))
    }

    /// See [`Breaker::snapshot`].
    pub fn snapshot(&self, now: impl Clock) -> Snapshot {
        forward!(self, b => b.snapshot(now))
    }

    /// See [`Breaker::config`].
    #[must_use]
    pub fn config(&self) -> Config {
        forward!(self, b => b.config())
    }

    /// See [`Breaker::force_open`].
    pub fn force_open(&self, now: impl Clock) -> Transition {
        forward!(self, b => b.force_open(now))
    }

    /// See [`Breaker::force_closed`].
    pub fn force_closed(&self, now: impl Clock) -> Transition {
        forward!(self, b => b.force_closed(now))
    }

    /// See [`Breaker::metrics_only`].
    pub fn metrics_only(&self, now: impl Clock) -> Transition {
        forward!(self, b => b.metrics_only(now))
    }

    /// See [`Breaker::reset`].
    pub fn reset(&self, now: impl Clock) -> Transition {
        forward!(self, b => b.reset(now))
    }

    /// See [`Breaker::trip`].
    pub fn trip(&self, now: impl Clock) -> Transition {
        forward!(self, b => b.trip(now))
    }

    /// See [`Breaker::half_open`].
    pub fn half_open(&self, now: impl Clock) -> Transition {
        forward!(self, b => b.half_open(now))
    }

    /// See [`Breaker::adopt`].
    pub fn adopt(&self, adoption: crate::Adoption, now: impl Clock) -> Transition {
        forward!(self, b => b.adopt(adoption, now))
    }

    /// See [`Breaker::release_slots`].
    pub fn release_slots(&self, generation: u32, n: u32) -> bool {
        forward!(self, b => b.release_slots(generation, n))
    }

    /// See [`Breaker::times_calls`].
    #[must_use]
    pub fn times_calls(&self, sink: bool) -> bool {
        forward!(self, b => b.times_calls(sink))
    }

    /// See [`Breaker::begin`].
    ///
    /// # Errors
    /// As [`Breaker::begin`].
    pub fn begin(&self, now: impl Clock, sink: bool) -> Result<Begun, Rejected> {
        forward!(self, b => b.begin(now, sink))
    }

    /// See [`Breaker::finish`].
    ///
    /// # Errors
    /// As [`Breaker::finish`].
    pub fn finish(
        &self,
        call: &mut Call,
        end: End,
        now: impl Clock,
    ) -> Result<Finished, PermitSettled> {
        forward!(self, b => b.finish(call, end, now))
    }

    /// See [`Breaker::finish_measured`].
    ///
    /// # Errors
    /// As [`Breaker::finish`].
    pub fn finish_measured(
        &self,
        call: &mut Call,
        end: End,
        now: impl Clock,
        measured: Millis,
    ) -> Result<Finished, PermitSettled> {
        forward!(self, b => b.finish_measured(call, end, now, measured))
    }
}
