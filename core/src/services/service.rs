//! `std`: a breaker with the call-duration histogram the Prometheus exposition reports.

extern crate alloc;
extern crate std;

use alloc::sync::Arc;
use core::fmt;
use core::ops::Deref;
use core::time::Duration;
use std::sync::OnceLock;

use crate::breaker::Breaker;
use crate::call::{CallSite, Calls};
use crate::config::Config;
use crate::error::ConfigError;
use crate::histogram::Histogram;
use crate::permit::Outcome;

/// Receives the outcome and duration of each call that ran through a [`ServiceBreaker`]'s
/// call helpers to a success or a failure (an OpenTelemetry histogram, a log). Runs on the
/// caller's thread after the outcome is recorded: keep it short, and do not panic.
pub type DurationSink = Arc<dyn Fn(Outcome, Duration) + Send + Sync>;

/// A duration sink was attached already (one per breaker, one per registry): the new one is
/// dropped, the old one stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SinkTaken;

impl fmt::Display for SinkTaken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration sink is attached already (one per breaker and per registry)")
    }
}

impl core::error::Error for SinkTaken {}

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
pub struct ServiceBreaker<const SLOTS: usize = 32> {
    breaker: Breaker<SLOTS>,
    histogram: Histogram,
    /// Whether calls feed the histogram (a duration sink: the core then times every call).
    keeps_histogram: bool,
    /// A caller's duration sink, set at most once (a call reads it with one load).
    sink: OnceLock<DurationSink>,
}

impl<const SLOTS: usize> fmt::Debug for ServiceBreaker<SLOTS> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceBreaker")
            .field("breaker", &self.breaker)
            .field("histogram", &self.histogram)
            .field("keeps_histogram", &self.keeps_histogram)
            .field("duration_sink", &self.sink.get().is_some())
            .finish()
    }
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
            sink: OnceLock::new(),
        })
    }

    /// Attaches `sink`: from now on every call of the call helpers (and the Tower layer) is
    /// timed (the core's timing rule: a duration sink is attached), and each that ends in a
    /// success or a failure is reported to it. One sink per breaker.
    ///
    /// # Errors
    /// [`SinkTaken`]: the breaker has a sink already, which stays.
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
    /// use cbreaker::{Calls, Config, DurationSink, ServiceBreaker};
    /// let api: ServiceBreaker = ServiceBreaker::untimed(Config::for_http_api()).unwrap();
    /// let seen = Arc::new(AtomicU64::new(0));
    /// let s = seen.clone();
    /// let sink: DurationSink = Arc::new(move |_, _| {
    ///     s.fetch_add(1, Ordering::Relaxed);
    /// });
    /// api.set_duration_sink(sink).unwrap();
    /// let _ = api.call(|| Ok::<_, ()>(7));
    /// assert_eq!(seen.load(Ordering::Relaxed), 1);
    /// ```
    pub fn set_duration_sink(&self, sink: DurationSink) -> Result<(), SinkTaken> {
        self.sink.set(sink).map_err(|_| SinkTaken)
    }

    /// Whether a duration sink is attached.
    #[must_use]
    pub fn has_duration_sink(&self) -> bool {
        self.sink.get().is_some()
    }

    /// Whether the call helpers time calls for this breaker's durations (the histogram or a
    /// sink); the core's rule adds the slow-call rule.
    #[inline]
    pub(crate) fn feeds_durations(&self) -> bool {
        self.keeps_histogram || self.sink.get().is_some()
    }

    /// Where a timed call that ran to `outcome` in `took` goes: the histogram and the sink.
    #[inline]
    pub(crate) fn observe(&self, outcome: Outcome, took: Duration) {
        if self.keeps_histogram {
            self.histogram.observe(took);
        }
        if let Some(sink) = self.sink.get() {
            sink(outcome, took);
        }
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

/// The call helpers of [`Calls`], feeding the histogram and the sink.
impl<const SLOTS: usize> Calls<SLOTS> for ServiceBreaker<SLOTS> {
    #[inline]
    fn site(&self) -> CallSite<'_, SLOTS> {
        CallSite {
            breaker: &self.breaker,
            durations: self.feeds_durations().then_some(self),
        }
    }
}

impl<const SLOTS: usize> Deref for ServiceBreaker<SLOTS> {
    type Target = Breaker<SLOTS>;
    fn deref(&self) -> &Breaker<SLOTS> {
        &self.breaker
    }
}
