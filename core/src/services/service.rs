//! `std`: a breaker with the call-duration histogram the Prometheus exposition reports.

use core::ops::Deref;

use crate::breaker::Breaker;
use crate::call::{CallSite, Calls};
use crate::config::Config;
use crate::error::ConfigError;
use crate::histogram::Histogram;

/// A [`Breaker`] plus a call-duration [`Histogram`], kept by the call helpers. This is what
/// the registry, the Prometheus exposition and the Tower layer hold. It derefs to the
/// breaker for everything else (`state`, `snapshot`, `force_open`, ...).
///
/// Timing a call costs two reads of `std::time::Instant` (more than the rest of a call; see
/// docs/benchmarks.md); [`ServiceBreaker::untimed`] skips them (and keeps
/// the histogram empty) unless the slow-call rule needs durations.
///
/// ```
/// use cbreaker::{Calls, Config, ServiceBreaker};
/// let api: ServiceBreaker = ServiceBreaker::new(Config::for_http_api()).unwrap();
/// assert_eq!(api.call(|| Ok::<_, ()>(7)), Ok(7));
/// assert_eq!(api.histogram().snapshot().count, 1);
/// ```
#[derive(Debug)]
pub struct ServiceBreaker<const SLOTS: usize = 32> {
    breaker: Breaker<SLOTS>,
    histogram: Histogram,
    /// Whether calls feed the histogram (a duration sink: the core then times every call).
    keeps_histogram: bool,
}

impl<const SLOTS: usize> ServiceBreaker<SLOTS> {
    /// A closed breaker with an empty histogram.
    ///
    /// # Errors
    /// As [`Breaker::new`].
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        Self::build(config, true)
    }

    /// A breaker whose calls are not timed for the histogram (it stays empty): for hot paths
    /// where two clock reads a call matter more than the duration metric. Calls are still
    /// timed when the slow-call rule is on.
    ///
    /// # Errors
    /// As [`Breaker::new`].
    pub fn untimed(config: Config) -> Result<Self, ConfigError> {
        Self::build(config, false)
    }

    fn build(config: Config, keeps_histogram: bool) -> Result<Self, ConfigError> {
        Ok(ServiceBreaker {
            breaker: Breaker::new(config)?,
            histogram: Histogram::new(),
            keeps_histogram,
        })
    }

    /// Whether calls feed the histogram (not an [`untimed`](Self::untimed) breaker).
    #[must_use]
    pub fn keeps_histogram(&self) -> bool {
        self.keeps_histogram
    }

    /// The breaker.
    #[must_use]
    pub fn breaker(&self) -> &Breaker<SLOTS> {
        &self.breaker
    }

    /// Durations of the calls that ran and were recorded as a success or a failure.
    #[must_use]
    pub fn histogram(&self) -> &Histogram {
        &self.histogram
    }
}

/// The call helpers of [`Calls`], feeding the histogram.
impl<const SLOTS: usize> Calls<SLOTS> for ServiceBreaker<SLOTS> {
    #[inline]
    fn site(&self) -> CallSite<'_, SLOTS> {
        CallSite {
            breaker: &self.breaker,
            histogram: self.keeps_histogram.then_some(&self.histogram),
        }
    }
}

impl<const SLOTS: usize> Deref for ServiceBreaker<SLOTS> {
    type Target = Breaker<SLOTS>;
    fn deref(&self) -> &Breaker<SLOTS> {
        &self.breaker
    }
}
