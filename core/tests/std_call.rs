//! `std` feature: the clock, `call`, `call_async`, classifiers, fallbacks and permit guards.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::thread::sleep;
use std::time::Duration;

use cbreaker::Calls as _;
use cbreaker::{
    Breaker, CallError, Config, Millis, Outcome, RejectReason, ServiceBreaker, State, monotonic,
};

fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = poll_once(fut.as_mut()) {
            return v;
        }
    }
}

/// Trips after `n` consecutive failures, stays open `open_ms`.
fn breaker(n: u32, open_ms: u64) -> Breaker {
    Breaker::new(Config {
        open_duration: Millis(open_ms),
        ..Config::consecutive(n)
    })
    .unwrap()
}

#[test]
fn clock_is_monotonic_and_advances_in_milliseconds() {
    let a = monotonic::now();
    let mut last = a;
    for _ in 0..10_000 {
        let t = monotonic::now();
        assert!(t >= last, "{last} -> {t}");
        last = t;
    }
    sleep(Duration::from_millis(50));
    let b = monotonic::now();
    // Coarse: one kernel tick (at most 10 ms) of resolution at each end.
    assert!(b.0 >= a.0 + 30, "{a} -> {b}");
    assert!(b.0 < a.0 + 5_000, "{a} -> {b}");
}

#[test]
fn call_counts_errors_as_failures_trips_and_then_rejects_without_running() {
    let b = breaker(2, 60_000);
    assert_eq!(b.call(|| Ok::<_, &str>(1)), Ok(1));
    assert_eq!(b.call(|| Err::<u8, _>("e1")), Err(CallError::Inner("e1")));
    assert_eq!(b.call(|| Err::<u8, _>("e2")), Err(CallError::Inner("e2")));
    assert_eq!(b.state(monotonic::now), State::Open);
    let mut ran = false;
    let err = b
        .call(|| {
            ran = true;
            Ok::<_, &str>(())
        })
        .unwrap_err();
    assert!(!ran);
    match err {
        CallError::Rejected {
            retry_after: Some(after),
            reason: RejectReason::Open,
        } => assert!(after.0 > 59_000 && after.0 <= 60_000, "{after}"),
        other => panic!("{other:?}"),
    }
    let s = b.snapshot(monotonic::now);
    assert_eq!((s.successes, s.failures, s.rejected), (1, 2, 1));
    assert!(err.to_string().starts_with("circuit open: retry after"));
}

#[test]
fn forced_open_rejects_with_no_retry_after() {
    let b = breaker(1, 1_000);
    let _ = b.force_open(monotonic::now);
    assert_eq!(
        b.call(|| Ok::<_, ()>(())),
        Err(CallError::Rejected {
            retry_after: None,
            reason: RejectReason::ForcedOpen
        })
    );
}

#[test]
fn classifier_decides_what_counts() {
    let b = breaker(1, 60_000);
    // "not found" is an answer, not a failure; "bad request" is the caller's fault.
    let classify = |r: &Result<(), &str>| match r {
        Ok(()) | Err("not found") => Outcome::Success,
        Err("bad request") => Outcome::Ignored,
        Err(_) => Outcome::Failure,
    };
    for e in ["not found", "bad request", "not found"] {
        assert_eq!(
            b.call_classified(classify, || Err(e)),
            Err(CallError::Inner(e))
        );
    }
    assert_eq!(b.state(monotonic::now), State::Closed);
    let s = b.snapshot(monotonic::now);
    assert_eq!((s.successes, s.failures, s.ignored), (2, 0, 1));
    let _ = b.call_classified(classify, || Err("timeout"));
    assert_eq!(b.state(monotonic::now), State::Open);
}

#[test]
fn fallback_runs_on_rejection_and_on_error() {
    let b = breaker(1, 60_000);
    let v = b.call_with_fallback(
        || Err::<&str, _>(500),
        |e| {
            assert_eq!(e, CallError::Inner(500));
            "from error"
        },
    );
    assert_eq!(v, "from error");
    let v = b.call_with_fallback(
        || Ok::<_, u16>("live"),
        |e| {
            assert!(e.is_rejected());
            "cached"
        },
    );
    assert_eq!(v, "cached");
    let v = block_on(b.call_async_with_fallback(async { Ok::<_, u16>("live") }, |_| "cached"));
    assert_eq!(v, "cached");
}

#[test]
fn call_async_records_outcomes() {
    let b = breaker(2, 60_000);
    assert_eq!(block_on(b.call_async(async { Ok::<_, ()>(5) })), Ok(5));
    assert_eq!(
        block_on(b.call_async(async { Err::<(), _>("x") })),
        Err(CallError::Inner("x"))
    );
    let _ = block_on(b.call_async(async { Err::<(), _>("x") }));
    let mut polled = false;
    let r = block_on(b.call_async(async {
        polled = true;
        Ok::<_, &str>(())
    }));
    assert!(r.unwrap_err().is_rejected());
    assert!(!polled, "a rejected call must not poll the inner future");
}

#[test]
fn dropped_future_records_ignored_and_frees_the_half_open_slot() {
    let b = breaker(1, 20);
    let _ = b.call(|| Err::<(), _>(()));
    sleep(Duration::from_millis(30));
    {
        // The only probe slot is taken on the first poll; then the call is cancelled.
        let mut fut = pin!(b.call_async(std::future::pending::<Result<(), ()>>()));
        assert!(poll_once(fut.as_mut()).is_pending());
        assert_eq!(b.state(monotonic::now), State::HalfOpen);
        assert!(b.call(|| Ok::<_, ()>(())).unwrap_err().is_rejected());
    }
    let s = b.snapshot(monotonic::now);
    assert_eq!(s.ignored, 1);
    // The slot is free again: the next probe is admitted and closes the circuit.
    assert_eq!(b.call(|| Ok::<_, ()>(7)), Ok(7));
    assert_eq!(b.state(monotonic::now), State::Closed);
}

#[test]
fn a_future_never_polled_takes_nothing() {
    let b = breaker(1, 60_000);
    drop(b.call_async(async { Ok::<_, ()>(()) }));
    let s = b.snapshot(monotonic::now);
    assert_eq!((s.calls, s.ignored), (0, 0));
}

#[test]
fn guard_records_the_duration_and_a_dropped_guard_is_ignored() {
    // Calls are timed because the slow-call rule is on.
    let b: Breaker = Breaker::new(Config {
        slow_call_duration: Millis(10),
        slow_call_rate_threshold: 100,
        ..Config::count(10)
    })
    .unwrap();
    let g = b.guard().unwrap();
    sleep(Duration::from_millis(15));
    assert_eq!(g.record(Outcome::Success), None);
    let g = b.guard().unwrap();
    assert_eq!(g.record(Outcome::Success), None);
    drop(b.guard().unwrap());
    b.guard().unwrap().release();
    let s = b.snapshot(monotonic::now);
    assert_eq!((s.successes, s.slow, s.ignored, s.calls), (2, 1, 2, 4));
}

#[test]
fn panicking_call_releases_its_permit() {
    let b = breaker(1, 60_000);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = b.call(|| -> Result<(), ()> { panic!("boom") });
    }));
    assert!(r.is_err());
    let s = b.snapshot(monotonic::now);
    assert_eq!((s.ignored, s.failures), (1, 0));
    assert_eq!(b.state(monotonic::now), State::Closed);
}

#[test]
fn service_breaker_keeps_a_histogram_of_recorded_calls_only() {
    let sb: ServiceBreaker = ServiceBreaker::new(Config::consecutive(1)).unwrap();
    assert_eq!(sb.call(|| Ok::<_, ()>(1)), Ok(1));
    let _ = block_on(sb.call_async(async {
        sleep(Duration::from_millis(3));
        Err::<(), _>(())
    }));
    assert!(sb.call(|| Ok::<_, ()>(1)).unwrap_err().is_rejected());
    let _ = sb.reset(monotonic::now);
    drop(sb.guard().unwrap());
    let h = sb.histogram().snapshot();
    assert_eq!(h.count, 2, "rejected and cancelled calls are not timed");
    assert!(h.sum_seconds >= 0.003, "{}", h.sum_seconds);
    assert_eq!(h.cumulative[0], 1, "the quick call is under 1 ms");
}

#[test]
fn calls_are_timed_only_when_something_uses_the_duration() {
    let slow = |d| {
        sleep(Duration::from_millis(d));
        Ok::<_, ()>(())
    };
    // Slow-call rule off: no duration, so never slow.
    let off: Breaker = Breaker::new(Config {
        slow_call_duration: Millis(5),
        ..Config::count(10)
    })
    .unwrap();
    let _ = off.call(|| slow(10));
    assert_eq!(off.snapshot(monotonic::now).slow, 0);
    // On: the call is timed and counted slow.
    let on: Breaker = Breaker::new(Config {
        slow_call_duration: Millis(5),
        slow_call_rate_threshold: 100,
        minimum_calls: 2,
        ..Config::count(10)
    })
    .unwrap();
    let _ = on.call(|| slow(10));
    let _ = on.call(|| slow(10));
    assert_eq!(on.snapshot(monotonic::now).slow, 2);
    assert_eq!(on.state(monotonic::now), State::Open);
    // A ServiceBreaker times for its histogram; an untimed one does not.
    let timed: ServiceBreaker = ServiceBreaker::new(Config::count(10)).unwrap();
    let untimed: ServiceBreaker = ServiceBreaker::untimed(Config::count(10)).unwrap();
    let _ = timed.call(|| slow(1));
    let _ = untimed.call(|| slow(1));
    assert_eq!(timed.histogram().snapshot().count, 1);
    assert_eq!(untimed.histogram().snapshot().count, 0);
}
