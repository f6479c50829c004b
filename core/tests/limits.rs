//! Limits: long idle, `now` going backwards, and every wrapping field driven past its wrap.
//! docs/state-machine.md#limits lists what these check.

use cbreaker::{Breaker, Config, MAX_SLOTS, Millis, Outcome, State, Transition};

type Big = Breaker<MAX_SLOTS>;
const DAY: u64 = 86_400_000;

/// What a script observes, with times made relative so two runs at different origins compare.
#[derive(Debug, PartialEq)]
enum Seen {
    Admitted(Option<(State, State)>),
    Rejected(Option<u64>),
    Recorded(Option<(State, State)>),
    Window(u32, u32, State),
}

fn pair(t: Option<Transition>) -> Option<(State, State)> {
    t.map(|t| (t.from, t.to))
}

/// Trips the breaker at `origin`, waits `idle`, then runs the same script.
fn script(config: Config, origin: u64, idle: u64) -> Vec<Seen> {
    let b = Big::new(config).unwrap();
    let mut seen = Vec::new();
    let mut t = origin;
    for _ in 0..200 {
        if let Ok(a) = b.try_acquire(Millis(t)) {
            let tr = b.record(a.permit, Outcome::Failure, None, Millis(t));
            if tr.is_some() {
                seen.push(Seen::Recorded(pair(tr)));
                break;
            }
        }
        t += 1;
    }
    t += idle;
    for step in 0..40u64 {
        match b.try_acquire(Millis(t)) {
            Ok(a) => {
                seen.push(Seen::Admitted(pair(a.transition)));
                let outcome = if step % 5 == 0 {
                    Outcome::Failure
                } else {
                    Outcome::Success
                };
                seen.push(Seen::Recorded(pair(b.record(
                    a.permit,
                    outcome,
                    None,
                    Millis(t),
                ))));
            }
            Err(r) => seen.push(Seen::Rejected(r.retry_after.map(|d| d.0))),
        }
        let s = b.snapshot(Millis(t));
        seen.push(Seen::Window(s.window_calls, s.window_failures, s.state));
        t += 7;
    }
    seen
}

fn configs() -> [Config; 3] {
    let common = Config {
        minimum_calls: 5,
        open_duration: Millis(1_000),
        ..Config::count(10)
    };
    [
        common,
        Config {
            window: cbreaker::WindowKind::Time {
                duration: Millis(100),
                buckets: 10,
            },
            ..common
        },
        Config {
            consecutive_failures: 3,
            failure_rate_threshold: 0,
            window: cbreaker::WindowKind::Consecutive,
            ..common
        },
    ]
}

#[test]
fn long_idle_behaves_like_a_short_one() {
    for config in configs() {
        let reference = script(config, 1_000, 2_000);
        for idle in [
            60 * DAY,
            49 * DAY + 17 * 3_600_000,
            (1u64 << 32) - 500,
            (1u64 << 32) + 2_000,
            365 * DAY,
            3 * 365 * DAY,
        ] {
            assert_eq!(
                script(config, 1_000, idle),
                reference,
                "idle {idle} ms, {:?}",
                config.window
            );
        }
    }
}

#[test]
fn any_origin_behaves_the_same() {
    for config in configs() {
        let reference = script(config, 0, 2_000);
        for origin in [
            1 << 31,
            1 << 32,
            (1 << 52) - 100,
            1_763_000_000_000,
            u64::MAX - 1_000_000,
        ] {
            assert_eq!(
                script(config, origin, 2_000),
                reference,
                "origin {origin}, {:?}",
                config.window
            );
        }
    }
}

#[test]
fn now_going_backwards_never_panics_trips_or_extends() {
    for config in configs() {
        let b = Big::new(config).unwrap();
        // Successes at wildly unordered times: no panic, no trip.
        for t in [5_000u64, 0, u64::MAX, 3, 1 << 40, 4_999, 1] {
            let a = b.try_acquire(Millis(t)).unwrap();
            assert!(
                b.record(a.permit, Outcome::Success, None, Millis(t))
                    .is_none()
            );
        }
        let b = Big::new(config).unwrap();
        let mut t = 10_000;
        while b.state(Millis(t)) == State::Closed {
            if let Ok(a) = b.try_acquire(Millis(t)) {
                b.record(a.permit, Outcome::Failure, None, Millis(t));
            }
            t += 1;
        }
        for back in [1, 500, 10_000, 1 << 33] {
            let r = b.try_acquire(Millis(t - back.min(t))).unwrap_err();
            assert!(
                r.retry_after.unwrap() <= Millis(1_000),
                "back {back}: {r:?}"
            );
        }
        assert!(b.try_acquire(Millis(t + 1_000)).is_ok());
    }
}

#[test]
fn generation_wraps_without_losing_exactness() {
    let b = Big::new(Config {
        minimum_calls: 2,
        open_duration: Millis(10),
        ..Config::count(4)
    })
    .unwrap();
    let mut t = 0;
    // 3 transitions per cycle: 2,000 cycles wrap the 12-bit generation more than once.
    for cycle in 0..2_000u64 {
        // The window was cleared by the last close: two failures trip it again.
        for i in 0..2 {
            let a = b.try_acquire(Millis(t)).unwrap();
            let tripped = b
                .record(a.permit, Outcome::Failure, None, Millis(t))
                .is_some();
            assert_eq!(tripped, i == 1, "cycle {cycle}");
        }
        t += 10;
        let a = b.try_acquire(Millis(t)).unwrap();
        assert_eq!(a.transition.map(|t| t.to), Some(State::HalfOpen));
        assert_eq!(
            b.record(a.permit, Outcome::Success, None, Millis(t))
                .map(|t| t.to),
            Some(State::Closed)
        );
    }
    let s = b.snapshot(Millis(t));
    assert_eq!(s.transitions_into(State::Open), 2_000);
    assert_eq!(s.calls, 2_000 * 3);
    assert_eq!(s.transitions_into(State::Closed), 2_000);
}

/// Drives a count window of `size` through `calls` pseudo-random outcomes (a reset every
/// `reset_every` calls) and compares it with a plain model of "the last `size` outcomes"
/// after every call.
fn count_window_matches_model(size: u32, calls: u64, reset_every: u64) {
    let b = Big::new(Config {
        failure_rate_threshold: 0,
        ..Config::count(size)
    })
    .unwrap();
    let mut last = std::collections::VecDeque::new();
    let mut x = 12345u32;
    for i in 0..calls {
        if i % reset_every == reset_every - 1 {
            b.reset(Millis(i));
            last.clear();
        }
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let fail = (x >> 16) % 3 == 0;
        let a = b.try_acquire(Millis(i)).unwrap();
        let outcome = if fail {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        b.record(a.permit, outcome, None, Millis(i));
        last.push_back(fail);
        if last.len() > size as usize {
            last.pop_front();
        }
        let s = b.snapshot(Millis(i));
        assert_eq!(
            (s.window_calls as usize, s.window_failures as usize),
            (last.len(), last.iter().filter(|f| **f).count()),
            "size {size}, after {i}"
        );
    }
}

#[test]
fn count_window_laps_wrap_exactly() {
    // The head's 14-bit lap wraps every 16,384 laps: 2.4 times here on a 1-outcome window,
    // once on a 3-outcome one.
    count_window_matches_model(1, 40_000, u64::MAX);
    count_window_matches_model(3, 50_000, u64::MAX);
}

#[test]
fn count_window_clear_count_wraps_exactly() {
    // A reset every 5 calls: 2,400 clears wrap the 10-bit clear count (and the 3-bit window
    // epoch) more than twice; some come before a lap is full, some after several.
    count_window_matches_model(3, 12_000, 5);
    count_window_matches_model(2, 12_000, 7);
}

#[test]
fn count_window_success_count_wraps_exactly() {
    // The head counts successes in 21 bits (on 64-bit targets): 2^21 + 1,900 successes wrap
    // it once, with a failure now and then. The lifetime figure stays exact and never goes
    // back across the wrap.
    let b = Big::new(Config {
        failure_rate_threshold: 0,
        ..Config::count(8)
    })
    .unwrap();
    let total = (1u64 << 21) + 4_000;
    let mut failures = 0;
    let mut seen = 0;
    for i in 0..total {
        let a = b.try_acquire(Millis(0)).unwrap();
        let outcome = if i % 1_000 == 999 {
            failures += 1;
            Outcome::Failure
        } else {
            Outcome::Success
        };
        b.record(a.permit, outcome, None, Millis(0));
        if i % 4_096 == 0 || i + 4_096 > total {
            let s = b.snapshot(Millis(0));
            assert_eq!(s.successes, i + 1 - failures, "after {i}");
            assert!(s.successes >= seen);
            seen = s.successes;
        }
    }
    assert_eq!(b.snapshot(Millis(0)).successes, total - failures);
}

#[test]
fn time_window_survives_idle_past_the_epoch_wrap_compare() {
    // 1 ms buckets: 2^31 epochs is 24.8 days. Closed and idle for 30 days, with old counts in
    // every bucket, the window must take new outcomes again at once.
    let b = Big::new(Config {
        failure_rate_threshold: 0,
        ..Config::time(Millis(10), 10)
    })
    .unwrap();
    for t in 0..10 {
        let a = b.try_acquire(Millis(t)).unwrap();
        b.record(a.permit, Outcome::Failure, None, Millis(t));
    }
    for idle in [25 * DAY, 30 * DAY, 40 * DAY] {
        let t = 10 + idle;
        let a = b.try_acquire(Millis(t)).unwrap();
        b.record(a.permit, Outcome::Failure, None, Millis(t));
        let s = b.snapshot(Millis(t));
        assert_eq!((s.window_calls, s.window_failures), (1, 1), "idle {idle}");
    }
}

#[test]
fn time_bucket_tags_wrap_exactly() {
    // 1 ms buckets, 4 of them; 5,000 epochs wrap the 11-bit bucket tag twice. One call every
    // 3 ms, so the window holds 1 or 2 calls; a wrong tag match would show stale counts.
    let b = Big::new(Config {
        failure_rate_threshold: 0,
        ..Config::time(Millis(4), 4)
    })
    .unwrap();
    for t in (0..5_000u64).step_by(3) {
        let a = b.try_acquire(Millis(t)).unwrap();
        b.record(a.permit, Outcome::Failure, None, Millis(t));
        let s = b.snapshot(Millis(t));
        let expect = if t >= 3 { 2 } else { 1 };
        assert_eq!(
            (s.window_calls, s.window_failures),
            (expect, expect),
            "at {t}"
        );
    }
    // 2^11 buckets later exactly: the old tag matches, the epoch word must tell them apart.
    let s = b.snapshot(Millis(4_998 + 2_048));
    assert_eq!(s.window_calls, 0);
}
