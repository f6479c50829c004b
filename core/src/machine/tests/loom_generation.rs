//! Invariant 3: an outcome from an older generation never changes the state or the window.

use super::support::*;
use crate::{Config, Millis, Outcome, State};

/// A closed-generation failure racing `reset`: whichever lands first, the reset window is
/// empty afterwards and the breaker is closed (the failure either preceded the reset and was
/// cleared, or came after it and was stale).
#[test]
fn loom_stale_failure_never_reaches_the_new_window() {
    loom::model(|| {
        let b = breaker(Config {
            minimum_calls: 2,
            ..Config::count(4)
        });
        let permit = b.try_acquire(Millis(0)).unwrap().permit;
        let b1 = b.clone();
        let resetter = thread::spawn(move || b1.reset(Millis(1)));
        b.record(permit, Outcome::Failure, None, Millis(1));
        resetter.join().unwrap();
        let s = b.snapshot(Millis(2));
        assert_eq!(s.state, State::Closed);
        assert_eq!((s.window_calls, s.window_failures), (0, 0));
        assert_eq!(s.failures, 1, "lifetime counters still count it");
    });
}

/// A slow closed-generation success racing the probe that decides half-open: it can never
/// close the circuit; only the probe's failure decides.
#[test]
fn loom_stale_success_cannot_close_half_open() {
    loom::model(|| {
        let b = breaker(Config {
            minimum_calls: 1,
            open_duration: Millis(10),
            ..Config::count(2)
        });
        let old = b.try_acquire(Millis(0)).unwrap().permit;
        call(&b, 0, Outcome::Failure); // trips
        let probe = b.try_acquire(Millis(10)).unwrap().permit;
        let b1 = b.clone();
        let late = thread::spawn(move || b1.record(old, Outcome::Success, None, Millis(11)));
        let decided = b.record(probe, Outcome::Failure, None, Millis(11)).unwrap();
        assert!(
            late.join().unwrap().is_none(),
            "a stale success causes nothing"
        );
        assert_eq!(decided.to, State::Open);
        assert_eq!(b.state(Millis(12)), State::Open);
    });
}
