//! Invariant 5: no wedge. From any state, with time advancing and calls arriving, the
//! breaker makes progress.

use super::support::*;
use crate::{Config, Millis, Outcome, State};

/// The thread that tripped the breaker "dies" between its CAS and publishing the deadline
/// (simulated by doing only the CAS). Two threads then race to publish one from their own
/// `now`; neither waits, the retry-after never exceeds the open duration, and at that
/// duration after the latest `now` the breaker admits a probe.
#[test]
fn loom_lost_deadline_publisher_cannot_wedge() {
    loom::model(|| {
        let b = breaker(Config {
            open_duration: Millis(100),
            ..Config::count(2)
        });
        let w = b.load();
        b.cas(w, w.enter(State::Open, 0, false)).unwrap();
        let handles: [_; 2] = core::array::from_fn(|i| {
            let b = b.clone();
            thread::spawn(move || {
                b.try_acquire(Millis(10 + i as u64))
                    .unwrap_err()
                    .retry_after
                    .unwrap()
            })
        });
        for h in handles {
            assert!(h.join().unwrap() <= Millis(100));
        }
        assert!(
            b.try_acquire(Millis(111)).is_ok(),
            "a probe at the latest deadline"
        );
    });
}

/// A probe permit is lost (never reported) while another thread asks: once
/// `half_open_max_wait` has passed, an acquire reclaims the slot and the breaker can close.
#[test]
fn loom_lost_probe_is_reclaimed() {
    loom::model(|| {
        let b = breaker(Config {
            minimum_calls: 1,
            open_duration: Millis(10),
            half_open_max_wait: Millis(50),
            ..Config::count(2)
        });
        call(&b, 0, Outcome::Failure);
        let b1 = b.clone();
        let loser = thread::spawn(move || {
            let _lost = b1.try_acquire(Millis(10)).ok();
        });
        let early = b.try_acquire(Millis(20)).ok();
        loser.join().unwrap();
        // The half-open start is the `now` of whichever call first saw the new generation
        // (10 or 20 here), so the reclaim is due by 20 + 50.
        let permit = match early {
            Some(a) => a.permit,
            None => {
                b.try_acquire(Millis(70))
                    .expect("reclaimed after max wait")
                    .permit
            }
        };
        let closed = b.record(permit, Outcome::Success, None, Millis(71));
        assert_eq!(closed.map(|t| t.to), Some(State::Closed));
    });
}
