//! `std`: a fixed-bucket, lock-free call-duration histogram (the Prometheus histogram of
//! `cbreaker_call_duration_seconds`).
//!
//! The core keeps no durations (it only counts slow calls), so the std layer keeps this one
//! beside each [`ServiceBreaker`](crate::ServiceBreaker). One relaxed `fetch_add` per bucket
//! hit plus two for the count and the sum; no allocation.

use core::time::Duration;

use crate::counters::Counters;
use crate::sync::{AtomicCounter, Ordering};

/// Upper bounds of the buckets, in seconds: the core's vocabulary.
pub use crate::metrics::DURATION_BUCKETS as BUCKETS;

/// The bounds in microseconds, so that observing compares integers.
const BOUNDS_US: [u64; 15] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000, 10_000_000, 30_000_000, 60_000_000,
];

/// Call durations in [`BUCKETS`]; counts are per bucket (not cumulative) until read.
#[derive(Debug)]
pub struct Histogram {
    buckets: [AtomicCounter; BUCKETS.len() + 1],
    sum_us: AtomicCounter,
}

/// A read of a [`Histogram`]: cumulative counts per bound (the last one is `+Inf`, equal to
/// `count`), and the sum in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistogramSnapshot {
    /// `cumulative[i]`: observations ≤ `BUCKETS[i]`; the last entry counts all of them.
    pub cumulative: [u64; BUCKETS.len() + 1],
    /// Sum of the observations, in seconds (microsecond precision).
    pub sum_seconds: f64,
    /// Number of observations.
    pub count: u64,
    /// Sum of the observations, in microseconds (exact; `sum_seconds` is this / 10^6).
    pub sum_micros: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self::new()
    }
}

impl Histogram {
    /// An empty histogram.
    #[must_use]
    pub fn new() -> Self {
        Histogram {
            buckets: core::array::from_fn(|_| AtomicCounter::new(0)),
            sum_us: AtomicCounter::new(0),
        }
    }

    /// Records one call duration.
    #[inline]
    pub fn observe(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let i = BOUNDS_US.partition_point(|&b| b < us);
        Counters::bump(&self.buckets[i]);
        // Wrapping on targets with 32-bit counters, like the core's lifetime counters.
        self.sum_us.fetch_add(us as _, Ordering::Relaxed);
    }

    /// Cumulative counts, count and sum. Concurrent observations may be half-visible (a
    /// bucket bumped, the sum not yet): each figure is exact once calls have settled.
    #[must_use]
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut cumulative = [0u64; BUCKETS.len() + 1];
        let mut total = 0u64;
        for (slot, bucket) in cumulative.iter_mut().zip(&self.buckets) {
            total += Counters::read(bucket);
            *slot = total;
        }
        HistogramSnapshot {
            cumulative,
            sum_seconds: Counters::read(&self.sum_us) as f64 / 1e6,
            sum_micros: Counters::read(&self.sum_us),
            count: total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_inclusive_upper_bounds() {
        let h = Histogram::new();
        h.observe(Duration::from_micros(1_000)); // exactly 1 ms: le="0.001"
        h.observe(Duration::from_micros(1_001)); // le="0.0025"
        h.observe(Duration::from_secs(61)); // +Inf only
        let s = h.snapshot();
        assert_eq!(s.cumulative[0], 1);
        assert_eq!(s.cumulative[1], 2);
        assert_eq!(s.cumulative[BUCKETS.len() - 1], 2);
        assert_eq!(s.cumulative[BUCKETS.len()], 3);
        assert_eq!(s.count, 3);
        assert!((s.sum_seconds - 61.002_001).abs() < 1e-9);
    }

    #[test]
    fn bounds_match_buckets() {
        for (b, us) in BUCKETS.iter().zip(BOUNDS_US) {
            assert_eq!((b * 1e6).round() as u64, us);
        }
    }
}
