//! Where a breaker's state lives. Most breakers (consecutive windows, count windows of up to
//! 32 outcomes, time windows of up to 2 buckets) fit in `Breaker<SMALL_SLOTS>` inline in the
//! Python object; every other window gets a boxed `Breaker<MAX_SLOTS>`, so every window the
//! core allows still fits. Each method forwards to the core unchanged.

use cbreaker::{
    Admitted, Breaker, Clock, Config, ConfigError, MAX_SLOTS, Millis, Outcome, Permit, Rejected,
    Snapshot, State, Transition,
};

/// Window storage of the inline variant: 8 words (32 outcomes or 2 buckets).
pub(crate) const SMALL_SLOTS: usize = 8;

pub(crate) enum Core {
    Small(Breaker<SMALL_SLOTS>),
    Large(Box<Breaker<MAX_SLOTS>>),
}

macro_rules! forward {
    ($self:ident, $b:ident => $e:expr) => {
        match $self {
            Core::Small($b) => $e,
            Core::Large($b) => $e,
        }
    };
}

impl Core {
    /// The smallest storage that fits `config`; the error is `Breaker<MAX_SLOTS>`'s.
    pub(crate) fn new(config: Config) -> Result<Core, ConfigError> {
        match Breaker::<SMALL_SLOTS>::new(config) {
            Ok(b) => Ok(Core::Small(b)),
            Err(_) => Breaker::<MAX_SLOTS>::new(config).map(|b| Core::Large(Box::new(b))),
        }
    }

    /// Bytes this breaker's storage takes, inline and boxed.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Core::Small(_) => 0,
            Core::Large(_) => size_of::<Breaker<MAX_SLOTS>>(),
        }
    }

    #[inline]
    pub(crate) fn try_acquire(&self, now: impl Clock) -> Result<Admitted, Rejected> {
        forward!(self, b => b.try_acquire(now))
    }

    #[inline]
    pub(crate) fn record(
        &self,
        permit: Permit,
        outcome: Outcome,
        duration: Option<Millis>,
        now: impl Clock,
    ) -> Option<Transition> {
        forward!(self, b => b.record(permit, outcome, duration, now))
    }

    pub(crate) fn release(&self, permit: Permit, now: impl Clock) {
        forward!(self, b => b.release(permit, now))
    }

    pub(crate) fn state(&self, now: impl Clock) -> State {
        forward!(self, b => b.state(now))
    }

    pub(crate) fn snapshot(&self, now: impl Clock) -> Snapshot {
        forward!(self, b => b.snapshot(now))
    }

    pub(crate) fn config(&self) -> Config {
        forward!(self, b => b.config())
    }

    pub(crate) fn force_open(&self, now: impl Clock) -> Transition {
        forward!(self, b => b.force_open(now))
    }

    pub(crate) fn force_closed(&self, now: impl Clock) -> Transition {
        forward!(self, b => b.force_closed(now))
    }

    pub(crate) fn metrics_only(&self, now: impl Clock) -> Transition {
        forward!(self, b => b.metrics_only(now))
    }

    pub(crate) fn reset(&self, now: impl Clock) -> Transition {
        forward!(self, b => b.reset(now))
    }
}
