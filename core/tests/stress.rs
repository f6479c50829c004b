//! Stress: two threads, millions of operations on one breaker, invariants checked at the end
//! (DESIGN.md invariants 1, 2, 4, 6 under real scheduling; loom covers every interleaving of
//! small cases, this covers volume).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use cbreaker::{Breaker, Config, MAX_SLOTS, Millis, Outcome, State};

/// Operations per thread; `CBREAKER_STRESS_OPS` raises it (miri skips this file).
fn ops() -> u64 {
    std::env::var("CBREAKER_STRESS_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// One step of xorshift64: the outcomes and pauses of each thread, cheap and repeatable.
fn xorshift(rng: &mut u64) {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
}

struct Tally {
    granted: AtomicU64,
    refused: AtomicU64,
    opened: AtomicU64,
    half_opened: AtomicU64,
    closed: AtomicU64,
    probes_out_max: AtomicU64,
}

fn run(config: Config, threads: usize) {
    let b = Arc::new(Breaker::<MAX_SLOTS>::new(config).unwrap());
    let tally = Arc::new(Tally {
        granted: AtomicU64::new(0),
        refused: AtomicU64::new(0),
        opened: AtomicU64::new(0),
        half_opened: AtomicU64::new(0),
        closed: AtomicU64::new(0),
        probes_out_max: AtomicU64::new(0),
    });
    let probes_out = Arc::new(AtomicU64::new(0));
    let clock = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(threads));
    let n = ops();
    let handles: Vec<_> = (0..threads)
        .map(|id| {
            let (b, tally, clock, start, probes_out) = (
                b.clone(),
                tally.clone(),
                clock.clone(),
                start.clone(),
                probes_out.clone(),
            );
            thread::spawn(move || {
                let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ id as u64;
                start.wait();
                for _ in 0..n {
                    xorshift(&mut rng);
                    let now = Millis(clock.fetch_add(1, Ordering::Relaxed) / 64);
                    let see = |t: Option<cbreaker::Transition>| {
                        if let Some(t) = t {
                            match t.to {
                                State::Open => tally.opened.fetch_add(1, Ordering::Relaxed),
                                State::HalfOpen => {
                                    tally.half_opened.fetch_add(1, Ordering::Relaxed)
                                }
                                State::Closed => tally.closed.fetch_add(1, Ordering::Relaxed),
                                _ => 0,
                            };
                        }
                    };
                    match b.try_acquire(now) {
                        Ok(a) => {
                            tally.granted.fetch_add(1, Ordering::Relaxed);
                            see(a.transition);
                            // Held probe permits: raised after the grant, lowered before the
                            // report, so this never exceeds what the breaker has out.
                            let probe = a.permit.state() == State::HalfOpen;
                            if probe {
                                let out = probes_out.fetch_add(1, Ordering::SeqCst) + 1;
                                tally.probes_out_max.fetch_max(out, Ordering::Relaxed);
                            }
                            let outcome = match rng % 16 {
                                0..=5 => Outcome::Failure,
                                6 => Outcome::Ignored,
                                _ => Outcome::Success,
                            };
                            if probe {
                                probes_out.fetch_sub(1, Ordering::SeqCst);
                            }
                            if rng % 97 == 0 {
                                b.release(a.permit, now);
                            } else {
                                see(b.record(a.permit, outcome, Some(Millis(rng % 50)), now));
                            }
                        }
                        Err(r) => {
                            tally.refused.fetch_add(1, Ordering::Relaxed);
                            assert!(r.retry_after.is_some());
                        }
                    }
                    let s = b.snapshot(now);
                    assert!(s.window_failures <= s.window_calls, "{s:?}");
                    assert!(s.window_slow <= s.window_calls, "{s:?}");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let s = b.snapshot(Millis(clock.load(Ordering::Relaxed) / 64));
    let t = |a: &AtomicU64| a.load(Ordering::Relaxed);
    assert_eq!(
        s.calls,
        t(&tally.granted),
        "every permit settled exactly once"
    );
    assert_eq!(s.successes + s.failures + s.ignored, t(&tally.granted));
    assert_eq!(s.rejected, t(&tally.refused));
    assert_eq!(
        u64::from(s.transitions_into(State::Open)),
        t(&tally.opened),
        "one event per transition"
    );
    assert_eq!(
        u64::from(s.transitions_into(State::HalfOpen)),
        t(&tally.half_opened)
    );
    assert_eq!(
        u64::from(s.transitions_into(State::Closed)),
        t(&tally.closed)
    );
    assert!(
        t(&tally.opened) > 10,
        "the workload must exercise trips: {}",
        t(&tally.opened)
    );
    assert!(
        t(&tally.probes_out_max) >= 1,
        "the workload must exercise half-open"
    );
    assert!(
        t(&tally.probes_out_max) <= u64::from(config.half_open_max_calls),
        "invariant 2"
    );
}

fn base() -> Config {
    Config {
        minimum_calls: 20,
        open_duration: Millis(20),
        half_open_max_calls: 1,
        success_threshold: 2,
        // No reclaim during the run: every held probe is a live one.
        half_open_max_wait: Millis(u32::MAX as u64),
        slow_call_duration: Millis(40),
        ..Config::count(100)
    }
}

#[test]
fn stress_count_window() {
    run(base(), 2);
}

#[test]
fn stress_time_window() {
    // 3,200 calls per window make the failure rate steady near 37.5%: trip just under it.
    let window = cbreaker::WindowKind::Time {
        duration: Millis(50),
        buckets: 5,
    };
    run(
        Config {
            window,
            failure_rate_threshold: 35,
            ..base()
        },
        2,
    );
}

#[test]
fn stress_consecutive_window() {
    run(
        Config {
            failure_rate_threshold: 0,
            ..Config {
                consecutive_failures: 4,
                window: cbreaker::WindowKind::Consecutive,
                ..base()
            }
        },
        2,
    );
}

/// Two threads of failures, slow calls and successes on small count windows (rates off, so
/// nothing trips and every outcome enters the window) and a few resets, then, once quiet,
/// one known lap of
/// outcomes: the window must hold exactly that lap. A marked outcome taken out twice (or
/// never) shows as a count off by one; small windows make writers lap each other often.
#[test]
fn stress_count_window_is_exact_once_quiet() {
    for size in [1, 2, 3, 8] {
        let b = Arc::new(
            Breaker::<MAX_SLOTS>::new(Config {
                failure_rate_threshold: 0,
                slow_call_duration: Millis(10),
                ..Config::count(size)
            })
            .unwrap(),
        );
        let start = Arc::new(Barrier::new(2));
        let n = ops() / 2;
        let handles: Vec<_> = (0..2u64)
            .map(|id| {
                let (b, start) = (b.clone(), start.clone());
                thread::spawn(move || {
                    let mut rng = 0x2545_F491_4F6C_DD1Du64 ^ (id + 1);
                    start.wait();
                    for _ in 0..n {
                        xorshift(&mut rng);
                        let a = b.try_acquire(Millis(0)).unwrap();
                        let outcome = if rng % 3 == 0 {
                            Outcome::Failure
                        } else {
                            Outcome::Success
                        };
                        b.record(a.permit, outcome, Some(Millis(rng % 16)), Millis(0));
                        // Clears too, three in a row (faster than a lap): cells from before
                        // a clear must never be taken out of the new window's counts. Often
                        // enough that a thread preempted inside `record` is held up across 8
                        // or more of them (the 3-bit window epoch comes round again; the
                        // count window tells windows apart by its clear count).
                        if id == 0 && rng % 1_409 == 0 {
                            for _ in 0..3 {
                                b.reset(Millis(0));
                            }
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        // One lap: a failure first, then successes, the last one slow.
        for i in 0..size {
            let a = b.try_acquire(Millis(0)).unwrap();
            let (outcome, took) = match i {
                0 => (Outcome::Failure, 0),
                i if i + 1 == size => (Outcome::Success, 10),
                _ => (Outcome::Success, 0),
            };
            b.record(a.permit, outcome, Some(Millis(took)), Millis(0));
        }
        let s = b.snapshot(Millis(0));
        let slow = u32::from(size > 1);
        assert_eq!(
            (s.window_calls, s.window_failures, s.window_slow),
            (size, 1, slow),
            "size {size}: {s:?}"
        );
    }
}
