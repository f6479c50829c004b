//! cbreaker on a microcontroller.
//!
//! One [`Breaker`] guards a simulated flaky dependency (a sensor bus that times out between
//! 1.0 s and 2.5 s), driven by a simulated 100 ms tick counter. The program checks a whole
//! cycle: trip → reject with `retry_after` → half-open probe that fails (backoff doubles) →
//! half-open probes that succeed → closed. It prints a short timeline over semihosting and
//! exits with 0 when every check passed, 1 otherwise (QEMU passes the code through).
//!
//! The breaker lives in `main`'s frame: `main` never returns, so `&breaker` is valid for the
//! program's whole life, and the code below only ever uses it through `&` (it is `Sync`).
//! `Breaker::new` is a `const fn`, so a breaker can also live in a `static` (a bad config is
//! then a compile error); this demo builds it at run time to check the config error path.

#![no_std]
#![no_main]

use cbreaker::{Breaker, Cause, Config, Millis, Outcome, State, Transition};
use semihosting::{println, process};

// The crate that supplies the critical-section implementation must be named in the binary,
// or the link fails with `undefined symbol: _critical_section_1_0_acquire`.
#[cfg(all(feature = "critical-section", target_arch = "arm"))]
use cortex_m as _;
#[cfg(all(feature = "critical-section", target_arch = "riscv32"))]
use riscv as _;

#[cfg(target_arch = "arm")]
use cortex_m_rt::entry;
#[cfg(target_arch = "riscv32")]
use riscv_rt::entry;

/// A panic prints its message on the host's stderr and exits with 101, like a test would.
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    semihosting::eprintln!("panicked: {}", info);
    process::exit(101)
}

/// One simulated tick of the firmware's millisecond counter.
const TICK_MS: u64 = 100;
/// The run ends here.
const END_MS: u64 = 4_000;
/// The bus times out from here ...
const DOWN_FROM_MS: u64 = 1_000;
/// ... until here.
const DOWN_UNTIL_MS: u64 = 2_500;

/// Four 32-bit window slots: room for a 16-outcome count window (one byte per outcome).
type FwBreaker = Breaker<4>;

/// Trip at 50 % failures over the last 8 calls (from 4 calls on); open 500 ms, doubling on
/// each failed probe; close after 2 successful probes, one at a time.
const CONFIG: Config = Config {
    failure_rate_threshold: 50,
    minimum_calls: 4,
    open_duration: Millis(500),
    open_duration_multiplier: 2.0,
    half_open_max_calls: 1,
    success_threshold: 2,
    half_open_max_wait: Millis(1_000),
    ..Config::count(8)
};

/// The transitions the run must produce, in order: (from, to, at ms, cause).
const EXPECTED: [(State, State, u64, Cause); 5] = [
    (State::Closed, State::Open, 1_300, Cause::FailureRate),
    (State::Open, State::HalfOpen, 1_800, Cause::OpenElapsed),
    (State::HalfOpen, State::Open, 1_800, Cause::ProbeFailed),
    (State::Open, State::HalfOpen, 2_800, Cause::OpenElapsed),
    (
        State::HalfOpen,
        State::Closed,
        2_900,
        Cause::ProbesSucceeded,
    ),
];

/// Refusals while open: 4 in the first open period (500 ms), 9 in the second (1000 ms).
/// The `inject-failure` feature expects one more, to prove a failed check fails the run.
const EXPECTED_REJECTED: u64 = if cfg!(feature = "inject-failure") {
    14
} else {
    13
};

/// The simulated dependency: answers a reading, or times out while it is down.
struct FlakyBus {
    calls: u32,
}

impl FlakyBus {
    /// One call at `now`: `Ok(reading)` or `Err(())` (a timeout), and how long it took.
    fn read(&mut self, now: Millis) -> (Result<u16, ()>, Millis) {
        self.calls += 1;
        if (DOWN_FROM_MS..DOWN_UNTIL_MS).contains(&now.0) {
            (Err(()), Millis(50))
        } else {
            (Ok(400 + (self.calls % 7) as u16), Millis(2))
        }
    }
}

/// Counts checks; prints each failure.
struct Checks {
    passed: u32,
    failed: u32,
}

impl Checks {
    fn check(&mut self, ok: bool, at: u64, what: &str) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            println!("  FAIL t={} ms: {}", at, what);
        }
    }
}

/// The transitions seen so far (at most `EXPECTED.len()` plus room to report extras).
struct Events {
    seen: [Option<Transition>; 8],
    len: usize,
}

impl Events {
    fn push(&mut self, tr: Transition, open_for: Option<u64>) {
        match open_for {
            Some(d) => println!(
                "t={:>4} ms  {} -> {} ({}), open for {} ms",
                tr.at.0,
                tr.from,
                tr.to,
                tr.cause.name(),
                d
            ),
            None => println!(
                "t={:>4} ms  {} -> {} ({})",
                tr.at.0,
                tr.from,
                tr.to,
                tr.cause.name()
            ),
        }
        if self.len < self.seen.len() {
            self.seen[self.len] = Some(tr);
        }
        self.len += 1;
    }
}

#[entry]
fn main() -> ! {
    let breaker = match FwBreaker::new(CONFIG) {
        Ok(b) => b,
        Err(e) => {
            println!("config rejected: {}", e);
            process::exit(2)
        }
    };
    println!(
        "cbreaker firmware demo: Breaker<4> is {} bytes (the default Breaker<32>: {}); tick {} ms; bus down {}..{} ms",
        core::mem::size_of::<FwBreaker>(),
        core::mem::size_of::<Breaker>(),
        TICK_MS,
        DOWN_FROM_MS,
        DOWN_UNTIL_MS
    );

    let failed = run(&breaker);
    process::exit(if failed == 0 { 0 } else { 1 })
}

/// 60 days later (past 2^32 ms, on a 32-bit core): the breaker, untouched since, must behave
/// exactly as it did on day one. The bus fails for good: the window (8 successes) trips at
/// the 4th failure, rejects for the first open duration (500 ms, backoff reset by the close),
/// then lets one probe through.
fn after_idle(breaker: &FwBreaker, checks: &mut Checks) {
    const DAY_MS: u64 = 24 * 60 * 60 * 1_000;
    let start = END_MS + 60 * DAY_MS;
    println!("t={} ms  (60 days idle) the bus fails for good", start);
    let mut trip_at = None;
    for i in 0..10u64 {
        let t = start + i * TICK_MS;
        match (breaker.try_acquire(Millis(t)), trip_at) {
            (Ok(a), None) => {
                if let Some(tr) = breaker.record(a.permit, Outcome::Failure, None, Millis(t)) {
                    println!("t={} ms  {} -> {} ({})", t, tr.from, tr.to, tr.cause.name());
                    checks.check(tr.to == State::Open, t, "trips after the idle");
                    trip_at = Some(t);
                }
            }
            (Err(r), Some(at)) => {
                let want = Millis(at + 500 - t);
                checks.check(r.retry_after == Some(want), t, "retry_after after the idle");
            }
            (Ok(a), Some(at)) => {
                let tr = a.transition;
                checks.check(t == at + 500, t, "half-open after 500 ms");
                checks.check(tr.is_some_and(|tr| tr.to == State::HalfOpen), t, "probe");
                if let Some(tr) = tr {
                    println!("t={} ms  {} -> {} ({})", t, tr.from, tr.to, tr.cause.name());
                }
                breaker.release(a.permit, Millis(t));
                break;
            }
            (Err(_), None) => checks.check(false, t, "rejected while closed"),
        }
    }
    checks.check(
        trip_at == Some(start + 3 * TICK_MS),
        start,
        "tripped at the 4th failure",
    );
}

/// Drives the breaker through the scenario and returns the number of failed checks.
fn run(breaker: &FwBreaker) -> u32 {
    let mut bus = FlakyBus { calls: 0 };
    let mut checks = Checks {
        passed: 0,
        failed: 0,
    };
    let mut events = Events {
        seen: [None; 8],
        len: 0,
    };
    // The model the checks compare against: the deadline of the current open period and the
    // backoff exponent (consecutive trips since the last close).
    let mut deadline: Option<u64> = None;
    let mut k = 0u32;
    let (mut admitted, mut rejected) = (0u64, 0u64);
    let mut quiet = false;

    let mut tick = 0u64;
    while tick * TICK_MS <= END_MS {
        let t = tick * TICK_MS;
        let now = Millis(t);
        tick += 1;

        // `state` predicts what `try_acquire` will see, without taking a permit.
        let predicted = breaker.state(now);
        match breaker.try_acquire(now) {
            Ok(a) => {
                admitted += 1;
                if let Some(tr) = a.transition {
                    checks.check(
                        predicted == State::HalfOpen,
                        t,
                        "state() predicted half-open",
                    );
                    checks.check(deadline == Some(t), t, "half-open exactly at the deadline");
                    deadline = None;
                    events.push(tr, None);
                } else {
                    checks.check(predicted.admits(), t, "admitted in an admitting state");
                }
                let (result, took) = bus.read(now);
                let outcome = if result.is_ok() {
                    Outcome::Success
                } else {
                    Outcome::Failure
                };
                if let Some(tr) = breaker.record(a.permit, outcome, Some(took), now) {
                    let open_for = match tr.to {
                        State::Open => {
                            let d = 500u64 << k;
                            k += 1;
                            deadline = Some(t + d);
                            quiet = false;
                            Some(d)
                        }
                        State::Closed => {
                            k = 0;
                            None
                        }
                        _ => None,
                    };
                    events.push(tr, open_for);
                }
            }
            Err(r) => {
                if !quiet {
                    // The first refusal of each open period; the rest only count down.
                    let after = r.retry_after.map_or(0, |m| m.0);
                    println!("t={:>4} ms  rejected, retry after {} ms", t, after);
                    quiet = true;
                }
                rejected += 1;
                checks.check(predicted == State::Open, t, "state() predicted open");
                let want = deadline.map(|d| Millis(d - t));
                checks.check(r.retry_after == want, t, "retry_after = deadline - now");
            }
        }
    }

    // The transitions, in order, each exactly once.
    checks.check(events.len == EXPECTED.len(), END_MS, "five transitions");
    for (i, &(from, to, at, cause)) in EXPECTED.iter().enumerate() {
        let ok = events.seen[i].is_some_and(|tr| {
            tr.from == from && tr.to == to && tr.at == Millis(at) && tr.cause == cause
        });
        checks.check(ok, at, "transition as expected");
    }

    // Counters: every permit settled, every refusal counted.
    let s = breaker.snapshot(Millis(END_MS));
    println!(
        "t={:>4} ms  {}: {} calls ({} ok, {} failed), {} rejected, window {}/{} failed",
        END_MS,
        s.state,
        s.calls,
        s.successes,
        s.failures,
        s.rejected,
        s.window_failures,
        s.window_calls
    );
    checks.check(s.state == State::Closed, END_MS, "closed at the end");
    checks.check(
        s.calls == admitted && s.calls == u64::from(bus.calls),
        END_MS,
        "calls = permits = bus calls",
    );
    checks.check(
        s.rejected == rejected && rejected == EXPECTED_REJECTED,
        END_MS,
        "rejected 4 + 9",
    );
    checks.check(
        s.failures == 5,
        END_MS,
        "4 failures to trip + 1 failed probe",
    );
    checks.check(s.transitions_into(State::Open) == 2, END_MS, "opened twice");
    checks.check(
        s.transitions_into(State::HalfOpen) == 2,
        END_MS,
        "half-open twice",
    );
    checks.check(
        s.transitions_into(State::Closed) == 1,
        END_MS,
        "closed once",
    );
    checks.check(s.window_failures == 0, END_MS, "window cleared on close");

    after_idle(breaker, &mut checks);

    println!("{} passed, {} failed", checks.passed, checks.failed);
    checks.failed
}
