//! `make demo`: a breaker in front of a simulated flaky dependency, with a readable timeline.
//!
//! Simulated time, 10 calls a second for 30 seconds. The dependency fails every call from 4 s
//! to 14 s. Watch the breaker trip, reject with a shrinking retry-after, probe, back off while
//! the outage lasts, and close once the dependency is healthy again.

use cbreaker::{Breaker, Config, Millis, Outcome, State};

fn main() {
    let config = Config {
        failure_rate_threshold: 50,
        minimum_calls: 10,
        open_duration: Millis(2_000),
        open_duration_multiplier: 2.0,
        open_duration_max: Millis(8_000),
        half_open_max_calls: 2,
        success_threshold: 2,
        ..Config::count(20)
    };
    let breaker: Breaker = Breaker::new(config).expect("valid config");
    let healthy = |t: u64| !(4_000..14_000).contains(&t);

    println!("cbreaker demo: count window of 20, trip at >= 50% failures (after 10 calls),");
    println!("open 2 s doubling to at most 8 s, 2 probes, 2 successes to close.");
    println!("The dependency is down from 4.0 s to 14.0 s.\n");

    let (mut ok, mut failed, mut rejected_in_row) = (0u32, 0u32, 0u32);
    let mut last_retry = None;
    let flush = |rejected: &mut u32, retry: &mut Option<Millis>, t: u64| {
        if *rejected > 0 {
            let retry = retry.map_or_else(
                || "-".to_string(),
                |r| format!("{:.1} s", r.0 as f64 / 1000.0),
            );
            println!(
                "{:>6.1} s   .. {:>3} calls rejected in a row (last retry-after {retry})",
                t as f64 / 1000.0,
                rejected
            );
            *rejected = 0;
        }
    };
    for t in (0..30_000u64).step_by(100) {
        let now = Millis(t);
        match breaker.try_acquire(now) {
            Err(rejected) => {
                rejected_in_row += 1;
                last_retry = rejected.retry_after;
            }
            Ok(admitted) => {
                flush(&mut rejected_in_row, &mut last_retry, t);
                if let Some(tr) = admitted.transition {
                    println!(
                        "{:>6.1} s   -> {} ({}), probing",
                        t as f64 / 1000.0,
                        tr.to,
                        tr.cause.name()
                    );
                }
                let probe = admitted.permit.state() == State::HalfOpen;
                let outcome = if healthy(t) {
                    Outcome::Success
                } else {
                    Outcome::Failure
                };
                match outcome {
                    Outcome::Success => ok += 1,
                    _ => failed += 1,
                }
                if probe {
                    println!("{:>6.1} s      probe {}", t as f64 / 1000.0, outcome.name());
                }
                if let Some(tr) = breaker.record(admitted.permit, outcome, None, now) {
                    let s = breaker.snapshot(now);
                    let why = match tr.to {
                        State::Open if tr.from == State::Closed => format!(
                            "{} of the last {} calls failed ({:.0}%)",
                            s.window_failures, s.window_calls, s.failure_rate
                        ),
                        State::Open => "a probe failed: back off".to_string(),
                        _ => "probes succeeded".to_string(),
                    };
                    let retry = s.retry_after.map_or(String::new(), |r| {
                        format!(", retry after {:.1} s", r.0 as f64 / 1000.0)
                    });
                    println!(
                        "{:>6.1} s   -> {} ({}{retry}): {why}",
                        t as f64 / 1000.0,
                        tr.to,
                        tr.cause.name()
                    );
                }
            }
        }
    }
    flush(&mut rejected_in_row, &mut last_retry, 30_000);
    let s = breaker.snapshot(Millis(30_000));
    println!(
        "\nAfter 30 s: state {}, {} calls made ({} ok, {} failed), {} rejected without touching the dependency.",
        s.state, s.calls, ok, failed, s.rejected
    );
    println!(
        "Transitions: {} to open, {} to half-open, {} to closed.",
        s.transitions_into(State::Open),
        s.transitions_into(State::HalfOpen),
        s.transitions_into(State::Closed)
    );
    assert_eq!(s.state, State::Closed, "the demo ends recovered");
    assert_eq!(s.calls, u64::from(ok + failed));
}
