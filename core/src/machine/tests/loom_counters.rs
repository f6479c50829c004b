//! Invariant 4: counters are exact once every permit is settled.

use super::support::*;
use crate::{Config, Millis, Outcome};

/// Two threads, each one call then one release, on a breaker that trips on the first failure
/// and may reject later acquires: successes + failures + ignored = permits granted, and
/// rejected = acquires refused.
#[test]
fn loom_counters_match_permits() {
    loom::model(|| {
        let b = breaker(Config {
            minimum_calls: 1,
            ..Config::count(2)
        });
        let handles: [_; 2] = core::array::from_fn(|i| {
            let b = b.clone();
            thread::spawn(move || {
                let (mut granted, mut refused) = (0u64, 0u64);
                let outcome = if i == 0 {
                    Outcome::Failure
                } else {
                    Outcome::Success
                };
                match b.try_acquire(Millis(1)) {
                    Ok(a) => {
                        granted += 1;
                        b.record(a.permit, outcome, None, Millis(1));
                    }
                    Err(_) => refused += 1,
                }
                match b.try_acquire(Millis(2)) {
                    Ok(a) => {
                        granted += 1;
                        b.release(a.permit, Millis(2));
                    }
                    Err(_) => refused += 1,
                }
                (granted, refused)
            })
        });
        let (granted, refused) = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .fold((0, 0), |a, r| (a.0 + r.0, a.1 + r.1));
        let s = b.snapshot(Millis(3));
        assert_eq!(s.calls, granted);
        assert_eq!(s.successes + s.failures + s.ignored, granted);
        assert_eq!(s.rejected, refused);
    });
}

/// Time window: successes are derived from the bucket words, folded out as buckets rotate.
/// A reader racing a rotation may lag (a count between its reset and its fold), never counts
/// one twice, never sees the figure go back, and it is exact once the writer is done.
#[test]
fn loom_time_successes_derived_exact_and_monotonic() {
    loom::model(|| {
        let b = breaker(Config::time(Millis(100), 1));
        call(&b, 10, Outcome::Success);
        call(&b, 10, Outcome::Success);
        let b1 = b.clone();
        let writer = thread::spawn(move || {
            call(&b1, 150, Outcome::Success); // rotates the one bucket: folds 2
        });
        let first = b.snapshot(Millis(0)).successes;
        let second = b.snapshot(Millis(0)).successes;
        assert!(first <= second && second <= 3, "{first} then {second}");
        writer.join().unwrap();
        assert_eq!(b.snapshot(Millis(150)).successes, 3);
    });
}
