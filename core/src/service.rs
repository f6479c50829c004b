//! `std`: a breaker with the call-duration histogram the Prometheus exposition reports.

use core::future::Future;
use core::ops::Deref;

use crate::breaker::Breaker;
use crate::call::{CallError, PermitGuard, errors_are_failures, run, run_async, slow_rule};
use crate::config::Config;
use crate::error::{ConfigError, Rejected};
use crate::histogram::Histogram;
use crate::permit::Outcome;

/// A [`Breaker`] plus a call-duration [`Histogram`], kept by the call helpers. This is what
/// the registry, the Prometheus exposition and the Tower layer hold. It derefs to the
/// breaker for everything else (`state`, `snapshot`, `force_open`, ...).
///
/// Timing a call costs two reads of `std::time::Instant` (about 50 ns on the CI
/// machine, more than the rest of a call); [`ServiceBreaker::untimed`] skips them (and keeps
/// the histogram empty) unless the slow-call rule needs durations.
///
/// ```
/// use cbreaker::{Config, ServiceBreaker};
/// let api: ServiceBreaker = ServiceBreaker::new(Config::for_http_api()).unwrap();
/// assert_eq!(api.call(|| Ok::<_, ()>(7)), Ok(7));
/// assert_eq!(api.histogram().snapshot().count, 1);
/// ```
#[derive(Debug)]
pub struct ServiceBreaker<const SLOTS: usize = 32> {
    breaker: Breaker<SLOTS>,
    histogram: Histogram,
    /// Whether calls feed the histogram.
    keeps_histogram: bool,
    /// Whether calls are timed: for the histogram or for the slow-call rule.
    timed: bool,
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
        let breaker = Breaker::new(config)?;
        let timed = keeps_histogram || slow_rule(&breaker);
        Ok(ServiceBreaker {
            breaker,
            histogram: Histogram::new(),
            keeps_histogram,
            timed,
        })
    }

    /// The histogram calls feed, if they feed one.
    #[inline]
    pub(crate) fn timing(&self) -> (Option<&Histogram>, bool) {
        (self.keeps_histogram.then_some(&self.histogram), self.timed)
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

    /// As [`Breaker::guard`], and the duration goes into the histogram.
    ///
    /// # Errors
    /// [`Rejected`] while the breaker refuses calls.
    #[inline]
    pub fn guard(&self) -> Result<PermitGuard<'_, SLOTS>, Rejected> {
        let (histogram, timed) = self.timing();
        PermitGuard::acquire(&self.breaker, histogram, timed).map(|(g, _)| g)
    }

    /// As [`Breaker::call`], and the duration goes into the histogram.
    ///
    /// # Errors
    /// As [`Breaker::call`].
    #[inline]
    pub fn call<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, CallError<E>> {
        let (histogram, timed) = self.timing();
        run(&self.breaker, histogram, timed, errors_are_failures, f)
    }

    /// As [`Breaker::call_classified`].
    ///
    /// # Errors
    /// As [`Breaker::call`].
    #[inline]
    pub fn call_classified<T, E>(
        &self,
        classify: impl FnOnce(&Result<T, E>) -> Outcome,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, CallError<E>> {
        let (histogram, timed) = self.timing();
        run(&self.breaker, histogram, timed, classify, f)
    }

    /// As [`Breaker::call_with_fallback`].
    #[inline]
    pub fn call_with_fallback<T, E>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
        fallback: impl FnOnce(CallError<E>) -> T,
    ) -> T {
        self.call(f).unwrap_or_else(fallback)
    }

    /// As [`Breaker::call_async`].
    ///
    /// # Errors
    /// As [`Breaker::call_async`].
    pub async fn call_async<T, E>(
        &self,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, CallError<E>> {
        let (histogram, timed) = self.timing();
        run_async(&self.breaker, histogram, timed, errors_are_failures, fut).await
    }

    /// As [`Breaker::call_async_classified`].
    ///
    /// # Errors
    /// As [`Breaker::call_async`].
    pub async fn call_async_classified<T, E>(
        &self,
        classify: impl FnOnce(&Result<T, E>) -> Outcome,
        fut: impl Future<Output = Result<T, E>>,
    ) -> Result<T, CallError<E>> {
        let (histogram, timed) = self.timing();
        run_async(&self.breaker, histogram, timed, classify, fut).await
    }

    /// As [`Breaker::call_async_with_fallback`].
    pub async fn call_async_with_fallback<T, E>(
        &self,
        fut: impl Future<Output = Result<T, E>>,
        fallback: impl FnOnce(CallError<E>) -> T,
    ) -> T {
        self.call_async(fut).await.unwrap_or_else(fallback)
    }
}

impl<const SLOTS: usize> Deref for ServiceBreaker<SLOTS> {
    type Target = Breaker<SLOTS>;
    fn deref(&self) -> &Breaker<SLOTS> {
        &self.breaker
    }
}
