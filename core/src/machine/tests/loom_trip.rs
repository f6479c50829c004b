//! Invariant 1: exactly one transition per trip.

use super::support::*;
use crate::{Cause, Config, Millis, Outcome, State};

/// Two threads whose failures both meet the trip rule: one Closed → Open, one event.
#[test]
fn loom_concurrent_failures_trip_exactly_once() {
    loom::model(|| {
        let b = breaker(Config {
            minimum_calls: 1,
            ..Config::count(2)
        });
        let handles: [_; 2] = core::array::from_fn(|i| {
            let b = b.clone();
            thread::spawn(move || {
                let events = call(&b, i as u64, Outcome::Failure).unwrap_or_default();
                events
                    .iter()
                    .flatten()
                    .filter(|t| t.to == State::Open)
                    .count()
            })
        });
        let opened: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(opened, 1, "exactly one caller sees the trip");
        let s = b.snapshot(Millis(5));
        assert_eq!(s.transitions_into(State::Open), 1);
        assert_eq!(s.state, State::Open);
    });
}

/// A trip racing `force_open`: both transitions happen in some order, each seen once, and the
/// counters agree with the events.
#[test]
fn loom_trip_racing_manual_control_is_counted_once() {
    loom::model(|| {
        let b = breaker(Config {
            minimum_calls: 1,
            ..Config::count(2)
        });
        let b2 = b.clone();
        let tripper = thread::spawn(move || {
            call(&b2, 1, Outcome::Failure)
                .unwrap_or_default()
                .iter()
                .flatten()
                .filter(|t| t.cause == Cause::FailureRate)
                .count()
        });
        let forced = b.force_open(Millis(2));
        let trips = tripper.join().unwrap();
        let s = b.snapshot(Millis(3));
        assert_eq!(s.transitions_into(State::Open) as usize, trips);
        assert_eq!(s.transitions_into(State::ForcedOpen), 1);
        assert!(trips <= 1);
        // Whatever the order, force_open's event names the state it really left.
        assert!(matches!(forced.from, State::Closed | State::Open));
    });
}

/// Time window: a success racing the window's first failure. The success skips the walk over
/// the buckets unless the hint says a failure is in the window; the rule (2 calls, 50 %) holds
/// only with both outcomes, so one of the two must see the other: exactly one trip, never none.
#[test]
fn loom_time_success_racing_first_failure_trips() {
    loom::model(|| {
        let b = breaker(Config {
            minimum_calls: 2,
            ..Config::time(Millis(100), 1)
        });
        let b1 = b.clone();
        let success = thread::spawn(move || opened(call(&b1, 10, Outcome::Success)));
        let mine = opened(call(&b, 10, Outcome::Failure));
        let theirs = success.join().unwrap();
        assert_eq!(mine + theirs, 1, "{}", b.window_debug());
        assert_eq!(b.snapshot(Millis(10)).state, State::Open);
    });
}

/// Time window: a failure racing a slow success in the same bucket, both rate-marked. They
/// write different words (failures; successes and slow), so only their RMWs on the hint order
/// them: the later one must see both and trip (2 calls, 50 % slow; the failure rule needs
/// 100 %, so the slow word decides).
#[test]
fn loom_time_failure_racing_slow_success_trips() {
    loom::model(|| {
        let b = breaker(Config {
            minimum_calls: 2,
            failure_rate_threshold: 100,
            slow_call_rate_threshold: 50,
            slow_call_duration: Millis(50),
            ..Config::time(Millis(100), 1)
        });
        let b1 = b.clone();
        let slow = thread::spawn(move || {
            let a = b1.try_acquire(Millis(10)).ok();
            a.map_or(0, |a| {
                let tr = b1.record(a.permit, Outcome::Success, Some(Millis(60)), Millis(10));
                usize::from(tr.is_some())
            })
        });
        let mine = opened(call(&b, 10, Outcome::Failure));
        let theirs = slow.join().unwrap();
        assert_eq!(mine + theirs, 1, "{}", b.window_debug());
        assert_eq!(b.snapshot(Millis(10)).state, State::Open);
    });
}

/// The number of transitions into Open among `events`.
fn opened(events: Option<[Option<crate::Transition>; 2]>) -> usize {
    events
        .unwrap_or_default()
        .iter()
        .flatten()
        .filter(|t| t.to == State::Open)
        .count()
}

/// `trip` racing the failure of a half-open probe: both want half-open → open. Each
/// transition is seen by exactly one caller, the counters agree with the events, and the
/// breaker ends open with a deadline it recovers from (a probe is admitted after it).
#[test]
fn loom_trip_racing_a_probe_failure_is_one_transition_each() {
    loom::model(|| {
        let b = breaker(Config {
            open_duration: Millis(10),
            ..Config::consecutive(1)
        });
        let p = b.try_acquire(Millis(0)).unwrap().permit;
        b.record(p, Outcome::Failure, None, Millis(0));
        let probe = b.try_acquire(Millis(10)).unwrap().permit; // half-open
        let b2 = b.clone();
        let prober = thread::spawn(move || b2.record(probe, Outcome::Failure, None, Millis(11)));
        let tripped = b.trip(Millis(11));
        let failed = prober.join().unwrap();
        let s = b.snapshot(Millis(11));
        // The first trip, this trip, and the probe failure unless the trip made it stale.
        let opens = 1 + 1 + usize::from(failed.is_some());
        assert_eq!(s.transitions_into(State::Open) as usize, opens);
        assert_eq!(s.state, State::Open);
        assert_eq!(tripped.to, State::Open);
        // Whatever the order, the breaker recovers by itself: no wedge.
        assert!(b.try_acquire(Millis(10_000)).is_ok());
    });
}
