//! Workloads shared by the criterion benches (`benches/breaker.rs`), the zero-allocation
//! check (`tests/zero_alloc.rs`) and the report (`src/bin/bench_report.rs`).
//!
//! Everything here drives the public `cbreaker` API only. The configs are spelled once, so
//! the bench, the allocation check and the footprint table measure the same breakers.

use core::hint::black_box;

use cbreaker::{Breaker, Config, Millis, Outcome};

/// Window storage for a 16-call count window (one slot per four outcomes).
pub const SLOTS_COUNT_16: usize = 4;
/// Window storage for a 128-call count window (the default `Breaker`).
pub const SLOTS_COUNT_128: usize = 32;
/// Window storage for a 1,024-call count window: [`cbreaker::MAX_SLOTS`].
pub const SLOTS_COUNT_1024: usize = cbreaker::MAX_SLOTS;
/// Window storage for a 10-bucket time window (four slots per bucket).
pub const SLOTS_TIME_10: usize = 40;
/// Window storage for a consecutive-only breaker: it has no window.
pub const SLOTS_CONSECUTIVE: usize = 0;

/// The time-window benches advance `now` by 1 ms every `1 << NOW_SHIFT` calls, so a
/// 1-second bucket rolls over every 64 Ki calls: bucket turnover is in the figure, amortised.
pub const NOW_SHIFT: u32 = 6;

/// Open duration of the "open rejection" breakers: long enough never to elapse in a run.
pub const OPEN_FOR: Millis = Millis(3_600_000);

/// The configs every bench, check and table uses.
pub mod configs {
    use super::*;

    /// Count window of `size` calls, failure rate 50 %, minimum 100 calls (the defaults).
    #[must_use]
    pub const fn count(size: u32) -> Config {
        Config::count(size)
    }

    /// Time window of 10 s in 10 buckets, failure rate 50 % (the defaults).
    #[must_use]
    pub const fn time10() -> Config {
        Config::time(Millis(10_000), 10)
    }

    /// Consecutive failures only: trips after 5 in a row.
    #[must_use]
    pub const fn consecutive() -> Config {
        Config::consecutive(5)
    }

    /// `base` with every trip condition that a run of failures could reach turned off, for
    /// the failure-path benches: outcomes still enter the window, the breaker never trips.
    #[must_use]
    pub const fn never_trips(base: Config) -> Config {
        let mut c = base;
        c.failure_rate_threshold = 0;
        c.slow_call_rate_threshold = 0;
        if c.consecutive_failures > 0 {
            // Consecutive-only needs a threshold: the largest, which the failure pattern
            // (a success every `FAILURE_RUN` calls) never reaches.
            c.consecutive_failures = cbreaker::limits::MAX_CONSECUTIVE_FAILURES;
        }
        c
    }

    /// A count window that trips on its first failure and then stays open for [`OPEN_FOR`].
    #[must_use]
    pub const fn trips_at_once() -> Config {
        let mut c = Config::count(128);
        c.minimum_calls = 1;
        c.open_duration = OPEN_FOR;
        c
    }
}

/// Failure-path pattern: `FAILURE_RUN − 1` failures, then one success (which resets the
/// consecutive run, so a consecutive-only breaker never reaches its threshold either).
pub const FAILURE_RUN: u64 = 4096;

/// Builds a breaker, panicking on a config the bench itself got wrong.
#[must_use]
pub fn breaker<const S: usize>(config: Config) -> Breaker<S> {
    match Breaker::new(config) {
        Ok(b) => b,
        Err(e) => panic!("bench config rejected for Breaker<{S}>: {e}"),
    }
}

/// One closed-path call: `try_acquire` then `record(outcome)`, `now` supplied as a value.
#[inline]
pub fn call<const S: usize>(b: &Breaker<S>, outcome: Outcome, now: Millis) {
    match b.try_acquire(now) {
        Ok(admitted) => {
            black_box(b.record(admitted.permit, outcome, None, now));
        }
        Err(rejected) => {
            black_box(rejected);
        }
    }
}

/// One closed success.
#[inline]
pub fn success<const S: usize>(b: &Breaker<S>, now: Millis) {
    call(b, Outcome::Success, now);
}

/// The outcome of call number `i` in the failure-path pattern.
#[inline]
#[must_use]
pub const fn failure_pattern(i: u64) -> Outcome {
    if i % FAILURE_RUN == FAILURE_RUN - 1 {
        Outcome::Success
    } else {
        Outcome::Failure
    }
}

/// A breaker in the open state (tripped at `Millis(0)`), for the rejection benches.
#[must_use]
pub fn tripped<const S: usize>() -> Breaker<S> {
    let b = breaker::<S>(configs::trips_at_once());
    let admitted = match b.try_acquire(Millis(0)) {
        Ok(a) => a,
        Err(_) => panic!("a fresh breaker must admit"),
    };
    let tr = b.record(admitted.permit, Outcome::Failure, None, Millis(0));
    assert!(tr.is_some(), "one failure with minimum_calls = 1 must trip");
    assert!(
        b.try_acquire(Millis(1)).is_err(),
        "the tripped breaker must reject"
    );
    b
}

/// One row of the footprint table: a breaker shape, its `size_of`, and its heap use.
#[derive(Clone, Copy, Debug)]
pub struct Footprint {
    /// What the row measures.
    pub name: &'static str,
    /// `size_of` the breaker value.
    pub inline_bytes: usize,
    /// Heap bytes still held after construction (measured by a counting allocator).
    pub heap_bytes: usize,
}

/// `size_of` each cbreaker shape the benches use (the core has no allocator: heap is 0).
#[must_use]
pub fn cbreaker_sizes() -> [(&'static str, usize); 4] {
    [
        (
            "cbreaker count 128 (Breaker<32>)",
            core::mem::size_of::<Breaker<SLOTS_COUNT_128>>(),
        ),
        (
            "cbreaker count 1024 (Breaker<256>)",
            core::mem::size_of::<Breaker<SLOTS_COUNT_1024>>(),
        ),
        (
            "cbreaker time 10 buckets (Breaker<40>)",
            core::mem::size_of::<Breaker<SLOTS_TIME_10>>(),
        ),
        (
            "cbreaker consecutive-only (Breaker<0>)",
            core::mem::size_of::<Breaker<SLOTS_CONSECUTIVE>>(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bench_config_fits_its_storage() {
        let _: Breaker<SLOTS_COUNT_16> = breaker(configs::count(16));
        let _: Breaker<SLOTS_COUNT_128> = breaker(configs::count(128));
        let _: Breaker<SLOTS_COUNT_1024> = breaker(configs::count(1024));
        let _: Breaker<SLOTS_TIME_10> = breaker(configs::time10());
        let _: Breaker<SLOTS_CONSECUTIVE> = breaker(configs::consecutive());
        let _: Breaker<SLOTS_COUNT_128> = breaker(configs::never_trips(configs::count(128)));
        let _: Breaker<SLOTS_TIME_10> = breaker(configs::never_trips(configs::time10()));
        let _: Breaker<SLOTS_CONSECUTIVE> = breaker(configs::never_trips(configs::consecutive()));
        let _: Breaker<SLOTS_COUNT_128> = tripped();
    }

    #[test]
    fn failure_path_never_trips() {
        let b: Breaker<SLOTS_COUNT_128> = breaker(configs::never_trips(configs::count(128)));
        let c: Breaker<SLOTS_CONSECUTIVE> = breaker(configs::never_trips(configs::consecutive()));
        for i in 0..3 * FAILURE_RUN {
            call(&b, failure_pattern(i), Millis(i));
            call(&c, failure_pattern(i), Millis(i));
        }
        assert_eq!(b.state(Millis(0)), cbreaker::State::Closed);
        assert_eq!(c.state(Millis(0)), cbreaker::State::Closed);
    }
}
