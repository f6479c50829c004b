//! Invariant 6: 0 ≤ failures ≤ calls ≤ window size at every observable point, and the window
//! is exact once quiet (every leaving failure taken out exactly once).

use super::support::*;
use crate::{Config, Millis, Outcome};

fn check(b: &Small, size: u32) {
    let (calls, failures) = b.window_counts();
    assert!(
        failures <= calls && calls <= size,
        "calls {calls}, failures {failures}: {}",
        b.window_debug()
    );
}

/// Three outcomes on a 2-outcome window from three threads, with a snapshot reader: bounds hold
/// at every snapshot; afterwards two successes push every failure out, so exactly zero
/// failures remain (a lost or doubled removal would show here).
#[test]
fn loom_count_window_bounds_and_exact_removal() {
    loom::model(|| {
        // Rates off: the window only counts, so no trip changes the picture.
        let b = breaker(Config {
            failure_rate_threshold: 0,
            ..Config::count(2)
        });
        let handles: [_; 2] = core::array::from_fn(|i| {
            let b = b.clone();
            thread::spawn(move || {
                let outcome = if i == 0 {
                    Outcome::Failure
                } else {
                    Outcome::Success
                };
                call(&b, 0, outcome);
                check(&b, 2);
            })
        });
        call(&b, 0, Outcome::Failure);
        check(&b, 2);
        for h in handles {
            h.join().unwrap();
        }
        let s = b.snapshot(Millis(0));
        assert_eq!(s.window_calls, 2);
        assert!((1..=2).contains(&s.window_failures), "{s:?}");
        call(&b, 0, Outcome::Success);
        call(&b, 0, Outcome::Success);
        assert_eq!(b.snapshot(Millis(0)).window_failures, 0);
    });
}

/// Two failures racing on a 1-outcome window: the second always pushes the first out, so the
/// window ends with exactly one failure, whichever order the claims took.
#[test]
fn loom_size_one_window_keeps_exactly_the_last_outcome() {
    loom::model(|| {
        let b = breaker(Config {
            failure_rate_threshold: 0,
            ..Config::count(1)
        });
        let b1 = b.clone();
        let other = thread::spawn(move || call(&b1, 0, Outcome::Failure));
        call(&b, 0, Outcome::Failure);
        other.join().unwrap();
        let s = b.snapshot(Millis(0));
        assert_eq!(
            (s.window_calls, s.window_failures),
            (1, 1),
            "{}",
            b.window_debug()
        );
        call(&b, 0, Outcome::Success);
        assert_eq!(b.snapshot(Millis(0)).window_failures, 0);
    });
}

/// Time window, one bucket: an outcome racing the bucket's rotation to a new epoch is counted
/// exactly once (in the epoch it belongs to) and never resurrects the old epoch's counts.
#[test]
fn loom_time_bucket_rotation_counts_once() {
    loom::model(|| {
        // One 100 ms bucket: epoch 0 is [0, 100), epoch 1 is [100, 200).
        let b = breaker(Config {
            failure_rate_threshold: 0,
            ..Config::time(Millis(100), 1)
        });
        call(&b, 0, Outcome::Failure);
        let b1 = b.clone();
        let late = thread::spawn(move || call(&b1, 50, Outcome::Failure));
        call(&b, 150, Outcome::Success);
        late.join().unwrap();
        let s = b.snapshot(Millis(150));
        // The epoch-0 failures are gone; the late one was either dropped (its bucket had moved
        // on) or landed before the rotation and was rotated away.
        assert_eq!((s.window_calls, s.window_failures), (1, 0), "{s:?}");
        assert_eq!(s.failures, 2);
    });
}

/// A failure whose writer is held up between installing its cell and re-reading the head,
/// while another thread laps the window four times and lands a failure on the same cell:
/// every failure is still taken out exactly once, so after a final success none is left.
#[test]
fn loom_lapped_writer_cell_is_taken_out_once() {
    loom::model(|| {
        let b = breaker(Config {
            failure_rate_threshold: 0,
            ..Config::count(1)
        });
        let b1 = b.clone();
        let slow = thread::spawn(move || call(&b1, 0, Outcome::Failure));
        for o in [
            Outcome::Success,
            Outcome::Success,
            Outcome::Success,
            Outcome::Failure,
            Outcome::Success,
        ] {
            call(&b, 0, o);
        }
        slow.join().unwrap();
        call(&b, 0, Outcome::Success);
        let s = b.snapshot(Millis(0));
        assert_eq!(s.window_failures, 0, "{s:?} {}", b.window_debug());
    });
}

/// A failure whose writer is held up between re-reading the head and installing its cell,
/// while a newer failure claims the same position and installs first: the late writer must
/// not overwrite the newer cell, so once a success pushes the newer failure out none is left.
/// (The late writer is the main thread: the race then needs only two preemptions.)
#[test]
fn loom_late_writer_never_overwrites_a_newer_cell() {
    loom::model(|| {
        let b = breaker(Config {
            failure_rate_threshold: 0,
            ..Config::count(1)
        });
        let b1 = b.clone();
        let newer = thread::spawn(move || {
            call(&b1, 0, Outcome::Failure);
            call(&b1, 0, Outcome::Success);
        });
        call(&b, 0, Outcome::Failure);
        newer.join().unwrap();
        call(&b, 0, Outcome::Success);
        let s = b.snapshot(Millis(0));
        assert_eq!(s.window_failures, 0, "{s:?} {}", b.window_debug());
    });
}

/// A failure that pushes out a counted failure takes over its count with the CAS that
/// replaces the cell (no raise, no take-out), racing a success that pushes out the other one:
/// the window then holds exactly the two racing outcomes, one failure (a leaked count would
/// read 2, a count taken out twice 0), whichever claim came first.
#[test]
fn loom_failure_takes_over_the_count_it_pushes_out() {
    loom::model(|| {
        let b = breaker(Config {
            failure_rate_threshold: 0,
            ..Config::count(2)
        });
        call(&b, 0, Outcome::Failure);
        call(&b, 0, Outcome::Failure);
        let b1 = b.clone();
        let failure = thread::spawn(move || call(&b1, 0, Outcome::Failure));
        call(&b, 0, Outcome::Success);
        check(&b, 2);
        failure.join().unwrap();
        let s = b.snapshot(Millis(0));
        assert_eq!(
            (s.window_calls, s.window_failures),
            (2, 1),
            "{s:?} {}",
            b.window_debug()
        );
        call(&b, 0, Outcome::Success);
        call(&b, 0, Outcome::Success);
        assert_eq!(b.snapshot(Millis(0)).window_failures, 0);
    });
}
