//! Sequential behaviour, one rule per test. The conformance vectors cover the same ground
//! across languages; these give fast, precise failures while working on the core.

use crate::{
    Breaker, Cause, Config, ConfigError, MAX_SLOTS, Millis, Outcome, Permit, State, WindowKind,
};

type Big = Breaker<MAX_SLOTS>;

fn call(b: &Big, t: u64, outcome: Outcome) -> Option<crate::Transition> {
    let p = b.try_acquire(Millis(t)).ok()?.permit;
    b.record(p, outcome, None, Millis(t))
}

fn trip(b: &Big, t: u64) {
    for _ in 0..1000 {
        if call(b, t, Outcome::Failure).is_some() {
            return;
        }
    }
    panic!("did not trip");
}

fn cfg() -> Config {
    Config {
        minimum_calls: 4,
        open_duration: Millis(1000),
        ..Config::count(10)
    }
}

#[test]
fn trips_and_recovers() {
    let b = Big::new(cfg()).unwrap();
    let mut events = 0;
    for t in 0..4 {
        events += call(&b, t, Outcome::Failure).is_some() as u32;
    }
    assert_eq!(events, 1);
    assert_eq!(b.state(Millis(10)), State::Open);
    assert_eq!(
        b.try_acquire(Millis(10)).unwrap_err().retry_after,
        Some(Millis(993))
    );
    let a = b.try_acquire(Millis(1003)).unwrap();
    assert_eq!(a.transition.unwrap().to, State::HalfOpen);
    let tr = b
        .record(a.permit, Outcome::Success, None, Millis(1004))
        .unwrap();
    assert_eq!(
        (tr.from, tr.to, tr.cause),
        (State::HalfOpen, State::Closed, Cause::ProbesSucceeded)
    );
    let s = b.snapshot(Millis(1005));
    assert_eq!(
        (s.calls, s.failures, s.rejected, s.window_calls),
        (5, 4, 1, 0)
    );
}

#[test]
fn minimum_calls_gates_rates_and_a_success_can_trip() {
    let b = Big::new(Config {
        minimum_calls: 5,
        ..cfg()
    })
    .unwrap();
    for t in 0..4 {
        assert!(call(&b, t, Outcome::Failure).is_none());
    }
    let tr = call(&b, 4, Outcome::Success).unwrap();
    assert_eq!(tr.cause, Cause::FailureRate);
}

#[test]
fn count_window_slides() {
    let b = Big::new(Config {
        minimum_calls: 3,
        failure_rate_threshold: 100,
        ..Config::count(3)
    })
    .unwrap();
    for (t, o) in [
        Outcome::Failure,
        Outcome::Failure,
        Outcome::Success,
        Outcome::Failure,
        Outcome::Failure,
    ]
    .into_iter()
    .enumerate()
    {
        assert!(call(&b, t as u64, o).is_none(), "tripped at {t}");
    }
    let s = b.snapshot(Millis(9));
    assert_eq!((s.window_calls, s.window_failures), (3, 2));
    assert!(call(&b, 9, Outcome::Failure).is_some(), "F F F must trip");
}

#[test]
fn eight_resets_never_resurrect_the_window() {
    let b = Big::new(Config {
        minimum_calls: 10,
        ..Config::count(10)
    })
    .unwrap();
    for t in 0..4 {
        call(&b, t, Outcome::Failure);
    }
    for i in 0..9 {
        b.reset(Millis(10 + i));
        let s = b.snapshot(Millis(20));
        assert_eq!(
            (s.window_calls, s.window_failures),
            (0, 0),
            "after reset {i}"
        );
    }
}

#[test]
fn consecutive_rule_ignores_minimum_calls() {
    let b = Big::new(Config {
        consecutive_failures: 3,
        failure_rate_threshold: 0,
        ..cfg()
    })
    .unwrap();
    call(&b, 0, Outcome::Failure);
    call(&b, 1, Outcome::Failure);
    assert!(call(&b, 2, Outcome::Success).is_none());
    call(&b, 3, Outcome::Failure);
    call(&b, 4, Outcome::Failure);
    assert_eq!(
        call(&b, 5, Outcome::Failure).unwrap().cause,
        Cause::ConsecutiveFailures
    );
}

#[test]
fn slow_calls_trip_on_their_rate() {
    let c = Config {
        slow_call_rate_threshold: 50,
        slow_call_duration: Millis(100),
        failure_rate_threshold: 0,
        minimum_calls: 2,
        ..Config::count(4)
    };
    let b = Big::new(c).unwrap();
    let p = b.try_acquire(Millis(0)).unwrap().permit;
    assert!(
        b.record(p, Outcome::Success, Some(Millis(99)), Millis(0))
            .is_none()
    );
    let p = b.try_acquire(Millis(0)).unwrap().permit;
    let tr = b
        .record(p, Outcome::Success, Some(Millis(100)), Millis(0))
        .unwrap();
    assert_eq!(tr.cause, Cause::SlowCallRate);
    assert_eq!(b.snapshot(Millis(1)).slow, 1);
}

#[test]
fn backoff_grows_and_caps_then_resets_on_close() {
    let c = Config {
        open_duration_multiplier: 2.0,
        open_duration_max: Millis(3000),
        half_open_max_calls: 1,
        ..cfg()
    };
    let b = Big::new(c).unwrap();
    trip(&b, 0);
    let mut t = 0;
    for expect in [1000, 2000, 3000, 3000] {
        assert_eq!(
            b.try_acquire(Millis(t)).unwrap_err().retry_after,
            Some(Millis(expect))
        );
        t += expect;
        let p = b.try_acquire(Millis(t)).unwrap().permit;
        b.record(p, Outcome::Failure, None, Millis(t)).unwrap();
    }
    let p = b.try_acquire(Millis(t + 3000)).unwrap().permit;
    b.record(p, Outcome::Success, None, Millis(t + 3000))
        .unwrap();
    trip(&b, t + 4000);
    assert_eq!(
        b.try_acquire(Millis(t + 4000)).unwrap_err().retry_after,
        Some(Millis(1000))
    );
}

#[test]
fn jitter_is_deterministic_and_bounded() {
    let c = Config {
        jitter_percent: 20,
        jitter_seed: 42,
        ..cfg()
    };
    let a = Big::new(c).unwrap();
    let b = Big::new(c).unwrap();
    trip(&a, 0);
    trip(&b, 0);
    let ra = a.try_acquire(Millis(0)).unwrap_err().retry_after.unwrap().0;
    let rb = b.try_acquire(Millis(0)).unwrap_err().retry_after.unwrap().0;
    assert_eq!(ra, rb);
    assert!((800..=1200).contains(&ra), "{ra}");
}

#[test]
fn half_open_limits_probes_and_reclaims_lost_ones() {
    let c = Config {
        half_open_max_calls: 2,
        success_threshold: 3,
        half_open_max_wait: Millis(500),
        ..cfg()
    };
    let b = Big::new(c).unwrap();
    trip(&b, 0);
    let p1 = b.try_acquire(Millis(1000)).unwrap().permit;
    let p2 = b.try_acquire(Millis(1000)).unwrap().permit;
    assert_eq!(
        b.try_acquire(Millis(1001)).unwrap_err().retry_after,
        Some(Millis(499))
    );
    assert!(b.record(p1, Outcome::Success, None, Millis(1002)).is_none());
    let p3 = b.try_acquire(Millis(1003)).unwrap().permit;
    // p2 and p3 are lost. At 1500 the slots are reclaimed; the success of p1 is kept.
    assert!(b.try_acquire(Millis(1499)).is_err());
    let p4 = b.try_acquire(Millis(1500)).unwrap();
    assert!(p4.transition.is_none());
    assert!(
        b.record(p2, Outcome::Failure, None, Millis(1501)).is_none(),
        "stale after reclaim"
    );
    assert!(b.record(p3, Outcome::Success, None, Millis(1501)).is_none());
    assert_eq!(b.state(Millis(1501)), State::HalfOpen);
    let p5 = b.try_acquire(Millis(1502)).unwrap().permit;
    assert!(
        b.record(p4.permit, Outcome::Success, None, Millis(1503))
            .is_none()
    );
    let tr = b.record(p5, Outcome::Success, None, Millis(1504)).unwrap();
    assert_eq!(tr.to, State::Closed);
}

#[test]
fn probe_failure_reopens_and_ignored_frees_a_slot() {
    let b = Big::new(cfg()).unwrap();
    trip(&b, 0);
    let p = b.try_acquire(Millis(1000)).unwrap().permit;
    assert!(b.try_acquire(Millis(1000)).is_err());
    b.release(p, Millis(1001));
    let p = b.try_acquire(Millis(1002)).unwrap().permit;
    let tr = b.record(p, Outcome::Failure, None, Millis(1003)).unwrap();
    assert_eq!(
        (tr.from, tr.to, tr.cause),
        (State::HalfOpen, State::Open, Cause::ProbeFailed)
    );
}

#[test]
fn a_stale_success_cannot_close_the_circuit() {
    let b = Big::new(cfg()).unwrap();
    let old = b.try_acquire(Millis(0)).unwrap().permit;
    trip(&b, 1);
    let _probe = b.try_acquire(Millis(1001)).unwrap().permit;
    assert!(
        b.record(old, Outcome::Success, None, Millis(1002))
            .is_none()
    );
    assert_eq!(b.state(Millis(1002)), State::HalfOpen);
    assert_eq!(b.snapshot(Millis(1002)).successes, 1, "still counted");
}

#[test]
fn manual_controls_are_one_transition_each() {
    let b = Big::new(cfg()).unwrap();
    let tr = b.reset(Millis(0));
    assert_eq!(
        (tr.from, tr.to, tr.cause),
        (State::Closed, State::Closed, Cause::Reset)
    );
    assert_eq!(b.force_open(Millis(1)).to, State::ForcedOpen);
    assert_eq!(b.try_acquire(Millis(2)).unwrap_err().retry_after, None);
    assert_eq!(b.force_closed(Millis(3)).to, State::Disabled);
    for t in 0..50 {
        assert!(call(&b, t, Outcome::Failure).is_none());
    }
    assert_eq!(
        b.snapshot(Millis(60)).window_calls,
        0,
        "disabled: lifetime counters only"
    );
    assert_eq!(b.metrics_only(Millis(61)).to, State::MetricsOnly);
    for t in 0..50 {
        assert!(call(&b, t, Outcome::Failure).is_none());
    }
    assert_eq!(b.snapshot(Millis(62)).window_failures, 10);
    assert_eq!(b.snapshot(Millis(62)).transitions, [1, 0, 0, 1, 1, 1]);
}

#[test]
fn metrics_only_keeps_the_window_from_before() {
    let b = Big::new(Config {
        minimum_calls: 10,
        ..cfg()
    })
    .unwrap();
    call(&b, 0, Outcome::Failure);
    b.metrics_only(Millis(1));
    assert_eq!(b.snapshot(Millis(1)).window_failures, 1);
}

#[test]
fn now_going_backwards_never_extends_or_trips() {
    let b = Big::new(cfg()).unwrap();
    trip(&b, 10_000);
    assert_eq!(
        b.try_acquire(Millis(5_000)).unwrap_err().retry_after,
        Some(Millis(1000))
    );
    assert_eq!(
        b.try_acquire(Millis(10_500)).unwrap_err().retry_after,
        Some(Millis(500))
    );
    assert!(b.try_acquire(Millis(11_000)).is_ok());
}

#[test]
fn sixty_days_idle_is_like_one_second() {
    const DAY: u64 = 86_400_000;
    for idle in [1_000, 30 * DAY, (1 << 32) + 10, 60 * DAY, 400 * DAY] {
        let b = Big::new(cfg()).unwrap();
        trip(&b, 5);
        let a = b.try_acquire(Millis(5 + idle)).unwrap();
        assert_eq!(a.transition.unwrap().to, State::HalfOpen, "idle {idle}");
        b.record(a.permit, Outcome::Success, None, Millis(5 + idle))
            .unwrap();
        assert_eq!(b.state(Millis(5 + idle)), State::Closed);
    }
}

#[test]
fn time_window_expires_buckets() {
    let c = Config {
        minimum_calls: 3,
        failure_rate_threshold: 60,
        ..Config::time(Millis(1000), 10)
    };
    let b = Big::new(c).unwrap();
    call(&b, 0, Outcome::Failure);
    call(&b, 150, Outcome::Failure);
    assert_eq!(b.snapshot(Millis(999)).window_calls, 2);
    assert_eq!(
        b.snapshot(Millis(1000)).window_calls,
        1,
        "bucket 0 (0..100) expired"
    );
    assert_eq!(b.snapshot(Millis(1099)).window_calls, 1);
    assert_eq!(
        b.snapshot(Millis(1100)).window_calls,
        0,
        "bucket 1 (100..200) expired"
    );
    call(&b, 1100, Outcome::Success);
    call(&b, 1150, Outcome::Failure);
    assert_eq!(
        call(&b, 1160, Outcome::Failure).unwrap().cause,
        Cause::FailureRate
    );
    assert_eq!(b.snapshot(Millis(1161)).window_calls, 3);
    assert_eq!(
        b.snapshot(Millis(1160 + 60 * 86_400_000)).window_calls,
        0,
        "time ages it out"
    );
}

#[test]
fn stale_permits_count_but_change_nothing() {
    let b = Big::new(cfg()).unwrap();
    let p = b.try_acquire(Millis(0)).unwrap().permit;
    b.force_open(Millis(1));
    b.reset(Millis(2));
    assert!(b.record(p, Outcome::Failure, None, Millis(3)).is_none());
    let s = b.snapshot(Millis(3));
    assert_eq!((s.failures, s.window_failures, s.calls), (1, 0, 1));
    // Garbage bits are just another stale permit.
    b.record(
        Permit::from_bits(u32::MAX),
        Outcome::Success,
        None,
        Millis(4),
    );
    assert_eq!(b.snapshot(Millis(4)).successes, 1);
}

#[test]
fn config_errors_name_the_field() {
    let bad = |c: Config| Big::new(c).unwrap_err();
    assert_eq!(bad(Config::count(0)), ConfigError::WindowSize);
    assert_eq!(bad(Config::count(1025)), ConfigError::WindowSize);
    assert_eq!(
        Breaker::<32>::new(Config::count(129)).unwrap_err(),
        ConfigError::WindowSize
    );
    assert_eq!(
        bad(Config {
            failure_rate_threshold: 101,
            ..cfg()
        }),
        ConfigError::FailureRateThreshold
    );
    assert_eq!(
        bad(Config {
            success_threshold: 0,
            ..cfg()
        }),
        ConfigError::SuccessThreshold
    );
    assert_eq!(
        bad(Config {
            open_duration: Millis(1 << 32),
            ..cfg()
        }),
        ConfigError::OpenDuration
    );
    assert_eq!(
        bad(Config {
            open_duration_multiplier: f64::NAN,
            ..cfg()
        }),
        ConfigError::OpenDurationMultiplier
    );
    assert_eq!(
        bad(Config::consecutive(0)),
        ConfigError::ConsecutiveFailures
    );
    assert_eq!(
        bad(Config::time(Millis(1000), 3)),
        ConfigError::WindowDuration
    );
    assert_eq!(
        bad(Config::time(Millis(1000), 65)),
        ConfigError::WindowBuckets
    );
    for e in ConfigError::ALL {
        assert_eq!(
            e.message(),
            std::format!("invalid config: {} must be {}", e.field(), e.allowed())
        );
    }
}

#[test]
fn config_round_trips() {
    let c = Config {
        open_duration_multiplier: 1.5,
        ..Config::time(Millis(10_000), 10)
    };
    let b = Big::new(c).unwrap();
    let back = b.config();
    assert_eq!(
        back.window,
        WindowKind::Time {
            duration: Millis(10_000),
            buckets: 10
        }
    );
    assert_eq!(back.open_duration_multiplier, 1.5);
}

#[test]
fn many_resets_then_failures_count() {
    for resets in [7, 8, 15, 16, 17, 31, 32, 33] {
        let b = Big::new(Config {
            minimum_calls: 4,
            ..Config::count(10)
        })
        .unwrap();
        for t in 0..resets {
            b.reset(Millis(t));
        }
        for _ in 0..3 {
            call(&b, 100, Outcome::Failure);
        }
        let s = b.snapshot(Millis(101));
        assert_eq!(
            (s.window_calls, s.window_failures),
            (3, 3),
            "after {resets} resets"
        );
        assert!(
            call(&b, 102, Outcome::Failure).is_some(),
            "after {resets} resets"
        );
    }
}

#[test]
fn a_cell_untouched_for_many_laps_is_not_taken_for_a_newer_one() {
    // Size-1 window: a failure, then 40 successes (40 laps without writing the cell), then a
    // failure. A lap compare modulo 32 alone would take the old cell for a newer one.
    let b = Big::new(Config {
        minimum_calls: 1,
        failure_rate_threshold: 0,
        ..Config::count(1)
    })
    .unwrap();
    call(&b, 0, Outcome::Failure);
    for t in 0..40 {
        call(&b, t, Outcome::Success);
    }
    call(&b, 50, Outcome::Failure);
    assert_eq!(b.snapshot(Millis(50)).window_failures, 1);
    call(&b, 51, Outcome::Success);
    assert_eq!(b.snapshot(Millis(51)).window_failures, 0);
}

#[test]
fn footprint() {
    use core::mem::size_of;
    std::println!(
        "Breaker<32> {} (config {}, window {}, counters {}, anchor {})",
        size_of::<Breaker<32>>(),
        size_of::<crate::config::Compiled>(),
        size_of::<crate::window::Window<32>>(),
        size_of::<crate::counters::Counters>(),
        size_of::<crate::anchor::Anchor>()
    );
    // A 128-outcome count window, all in, no heap. The target is 256 B; 128 of these are the
    // one-byte cells (a 5-bit lap and a pending bit each: the removal protocol), 64 the
    // lifetime counters. Guard against growth.
    assert!(
        size_of::<Breaker<32>>() <= 288,
        "{}",
        size_of::<Breaker<32>>()
    );
}

#[test]
fn cause_table_follows_discriminants() {
    use crate::Cause;
    // An exhaustive match: a new cause fails to compile here until it is in `Cause::ALL`.
    let index = |c: Cause| match c {
        Cause::FailureRate
        | Cause::SlowCallRate
        | Cause::ConsecutiveFailures
        | Cause::OpenElapsed
        | Cause::ProbeFailed
        | Cause::ProbeSlow
        | Cause::ProbesSucceeded
        | Cause::ForceOpen
        | Cause::ForceClosed
        | Cause::MetricsOnly
        | Cause::Reset
        | Cause::Trip
        | Cause::HalfOpen
        | Cause::Repaired
        | Cause::Fleet
        | Cause::Quorum => c as usize,
    };
    for (i, c) in Cause::ALL.iter().enumerate() {
        assert_eq!(index(*c), i);
    }
    for (i, s) in State::ALL.iter().enumerate() {
        assert_eq!(*s as usize, i);
    }
}

/// The time window derives lifetime successes from its successes words: exact past a bucket's
/// saturation (2^18 − 1), through rotations and through the clear that a reset does.
#[test]
#[cfg_attr(
    miri,
    ignore = "2^18 calls: minutes under miri; loom and the other tests cover the words"
)]
fn time_window_successes_stay_exact_through_saturation_rotation_and_reset() {
    let b = Big::new(Config::time(Millis(1000), 2)).unwrap();
    let n = (1 << 18) + 5;
    for _ in 0..n {
        call(&b, 10, Outcome::Success);
    }
    let s = b.snapshot(Millis(10));
    assert_eq!((s.successes, s.window_calls), (n, (1 << 18) - 1));
    for t in [600, 1200, 5000] {
        call(&b, t, Outcome::Success); // each claims a bucket, folding what it held
    }
    assert_eq!(b.snapshot(Millis(5000)).successes, n + 3);
    b.reset(Millis(5000));
    call(&b, 5000, Outcome::Success);
    let s = b.snapshot(Millis(5000));
    assert_eq!((s.successes, s.window_calls, s.calls), (n + 4, 1, n + 4));
}

/// A time bucket whose count of one kind reaches the cap (2^18 − 1) takes no more outcomes of
/// any kind until it is reused: its rates stay those of its first outcomes instead of drifting
/// toward the kinds still counting. Lifetime counters stay exact throughout.
#[test]
#[cfg_attr(miri, ignore = "2^19 calls: minutes under miri")]
fn a_full_time_bucket_keeps_the_rates_of_its_first_outcomes() {
    const CAP: u32 = (1 << 18) - 1;
    const CAP64: u64 = CAP as u64;
    let b = Big::new(Config {
        failure_rate_threshold: 0,       // never trips: the window only counts
        ..Config::time(Millis(1000), 2)  // two 500 ms buckets
    })
    .unwrap();
    let slow_success = |t| {
        let p = b.try_acquire(Millis(t)).unwrap().permit;
        b.record(p, Outcome::Success, Some(Millis(60_000)), Millis(t));
    };
    // Bucket 0 fills with successes; later failures and slow calls leave its figures alone.
    for _ in 0..CAP {
        call(&b, 10, Outcome::Success);
    }
    for _ in 0..1000 {
        call(&b, 10, Outcome::Failure);
    }
    slow_success(10);
    let s = b.snapshot(Millis(10));
    assert_eq!(
        (
            s.window_calls,
            s.window_failures,
            s.window_slow,
            s.failure_rate
        ),
        (CAP, 0, 0, 0.0),
        "{s:?}"
    );
    assert_eq!((s.successes, s.failures, s.slow), (CAP64 + 1, 1000, 1));
    // Bucket 1 fills with failures; later successes leave it alone: 50 % over the window.
    for _ in 0..CAP {
        call(&b, 510, Outcome::Failure);
    }
    for _ in 0..500 {
        call(&b, 510, Outcome::Success);
    }
    let s = b.snapshot(Millis(510));
    assert_eq!(
        (s.window_calls, s.window_failures, s.failure_rate),
        (2 * CAP, CAP, 50.0),
        "{s:?}"
    );
    assert_eq!((s.successes, s.failures), (CAP64 + 501, 1000 + CAP64));
    // Bucket 0 reused for a later epoch: it counts again.
    call(&b, 1010, Outcome::Failure);
    let s = b.snapshot(Millis(1010));
    assert_eq!(
        (s.window_calls, s.window_failures),
        (CAP + 1, CAP + 1),
        "{s:?}"
    );
    assert_eq!(s.calls, 2 * CAP64 + 1000 + 1 + 500 + 1);
}

#[test]
fn thirty_two_bit_divisions_match_the_64_bit_arithmetic() {
    use crate::transition::{mod_small, permille_of};
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let edges = [0u32, 1, 999, 1000, 1001, 65_535, u32::MAX - 1, u32::MAX];
    for _ in 0..if cfg!(miri) { 200 } else { 200_000 } {
        let r = next();
        let d = if r & 7 == 0 {
            edges[(r >> 3) as usize % edges.len()]
        } else {
            r as u32
        };
        let p = (next() % 1_000_001) as u32;
        assert_eq!(
            permille_of(d, p),
            u64::from(d) * u64::from(p) / 1000,
            "{d} × {p}"
        );
        let m = (next() % 2001) as u32 + 1;
        let v = next();
        assert_eq!(u64::from(mod_small(v, m)), v % u64::from(m), "{v} mod {m}");
    }
}

/// Memory written by something else: each word out of its range is repaired (closed, window
/// cleared, one transition with cause `repaired`) or read within its range, never indexed,
/// divided or unwrapped. (The corruption fuzz target and `tests/tests/corruption.rs` write
/// random bytes; these pin each case.)
mod memory_written_by_something_else {
    use crate::sync::Ordering::Relaxed;
    use crate::{Breaker, Cause, Config, Millis, Outcome, State};

    fn breaker(config: Config) -> Breaker<32> {
        Breaker::new(Config {
            minimum_calls: 4,
            open_duration: Millis(100),
            ..config
        })
        .unwrap()
    }

    #[test]
    fn a_phase_no_state_has_is_repaired_at_the_next_outcome() {
        let mut b = breaker(Config::count(8));
        let (state, _, _) = b.raw();
        state.store(state.load(Relaxed) | 7, Relaxed);
        let p = b.try_acquire(Millis(1)).unwrap().permit; // reads as metrics-only: admits
        let t = b
            .record(p, Outcome::Failure, None, Millis(2))
            .expect("repaired");
        assert_eq!(
            (t.from, t.to, t.cause),
            (State::MetricsOnly, State::Closed, Cause::Repaired)
        );
        let s = b.snapshot(Millis(2));
        assert_eq!((s.state, s.window_calls), (State::Closed, 0));
        // Itself again: it trips on its rule.
        for _ in 0..4 {
            let p = b.try_acquire(Millis(3)).unwrap().permit;
            b.record(p, Outcome::Failure, None, Millis(3));
        }
        assert_eq!(b.state(Millis(3)), State::Open);
    }

    #[test]
    fn a_count_window_position_past_the_size_is_repaired() {
        let mut b = breaker(Config::count(8));
        let p = b.try_acquire(Millis(0)).unwrap().permit;
        b.record(p, Outcome::Failure, None, Millis(0));
        let (_, window, _) = b.raw();
        // Position field (bits 3.., 10 bits) to 1000, far past the size 8.
        let head = window.head.load(Relaxed);
        window
            .head
            .store((head & !(0x3FF << 3)) | (1000 << 3), Relaxed);
        assert!(
            b.snapshot(Millis(1)).window_calls <= 8,
            "read within its range"
        );
        let p = b.try_acquire(Millis(1)).unwrap().permit;
        let t = b
            .record(p, Outcome::Failure, None, Millis(1))
            .expect("repaired");
        assert_eq!(t.cause, Cause::Repaired);
        assert_eq!(b.snapshot(Millis(1)).window_calls, 0);
    }

    #[test]
    fn a_head_of_all_ones_wraps_within_its_fields() {
        // Found by the `corrupt` fuzz target: advancing an all-ones head overflowed the lap
        // field into the word's top (a debug-build panic; release builds wrapped).
        let mut b = breaker(Config::count(8));
        let (_, window, _) = b.raw();
        window.head.store(!7, Relaxed); // epoch bits 0: the current window's
        for t in 0..20 {
            if let Ok(a) = b.try_acquire(Millis(t)) {
                b.record(a.permit, Outcome::Success, None, Millis(t));
            }
        }
        assert!(b.snapshot(Millis(20)).window_calls <= 8);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "4,000 calls: minutes under miri; the corruption test covers it"
    )]
    fn config_words_out_of_range_read_within_it() {
        for config in [Config::count(8), Config::time(Millis(400), 4)] {
            let mut b = breaker(config);
            let (_, _, cfg) = b.raw();
            cfg.size = 0;
            cfg.bucket_ms = 0;
            cfg.kind_bits = 1; // a time window, with a width of 0
            for t in 0..50 {
                if let Ok(a) = b.try_acquire(Millis(t)) {
                    b.record(a.permit, Outcome::Failure, Some(Millis(t)), Millis(t));
                }
                let _ = b.snapshot(Millis(t));
            }
            let (_, _, cfg) = b.raw();
            cfg.size = u32::MAX;
            cfg.kind_bits = 0; // a count window far larger than its storage
            for t in 50..2_000 {
                if let Ok(a) = b.try_acquire(Millis(t)) {
                    b.record(a.permit, Outcome::Success, None, Millis(t));
                }
            }
            assert!(b.snapshot(Millis(2_000)).window_calls <= 128);
            let (_, _, cfg) = b.raw();
            cfg.kind_bits = 200; // no kind: no window
            b.reset(Millis(2_001));
            assert_eq!(b.snapshot(Millis(2_001)).window_calls, 0);
        }
    }

    #[test]
    fn half_open_counters_past_the_config_never_wedge() {
        let mut b = breaker(Config {
            half_open_max_wait: Millis(50),
            ..Config::consecutive(1)
        });
        let p = b.try_acquire(Millis(0)).unwrap().permit;
        b.record(p, Outcome::Failure, None, Millis(0));
        let _probe = b.try_acquire(Millis(100)).unwrap(); // half-open, one probe out
        let (state, _, _) = b.raw();
        // 31 probes out (5 bits), far past `half_open_max_calls` = 1.
        state.store(state.load(Relaxed) | (31 << 22), Relaxed);
        assert!(b.try_acquire(Millis(120)).is_err());
        let probe = b
            .try_acquire(Millis(150))
            .expect("reclaimed after half_open_max_wait");
        // The reclaim wrote a word in range again: the probe is judged as any probe.
        let t = b
            .record(probe.permit, Outcome::Failure, None, Millis(151))
            .expect("a transition");
        assert_eq!(
            (t.from, t.to, t.cause),
            (State::HalfOpen, State::Open, Cause::ProbeFailed)
        );
    }
}
