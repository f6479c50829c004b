"""4 threads × 100k calls on one breaker: every counter exact."""

from __future__ import annotations

import sys
import threading

import pytest

from cbreaker import CircuitBreaker, CircuitBreakerOpenError

THREADS, CALLS = 4, 100_000


class Boom(Exception):
    pass


def run_threads(target: object) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(THREADS)]  # type: ignore[arg-type]
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as CPython allows
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)


@pytest.mark.timeout(300)
def test_exact_counters_without_trips() -> None:
    b = CircuitBreaker("threads", window="count", window_size=1024, failure_rate_threshold=0)
    go = threading.Barrier(THREADS)

    def fail() -> None:
        raise Boom()

    def ok() -> int:
        return 1

    def work(_: int) -> None:
        go.wait()
        call = b.call_sync
        for i in range(CALLS):
            if i % 10 == 0:
                try:
                    call(fail)
                except Boom:
                    pass
            else:
                call(ok)

    run_threads(work)
    s = b.snapshot()
    assert s["calls"] == THREADS * CALLS
    assert s["failures"] == THREADS * CALLS // 10
    assert s["successes"] == THREADS * CALLS - THREADS * CALLS // 10
    assert (s["ignored"], s["rejected"], s["state"]) == (0, 0, "closed")


@pytest.mark.timeout(300)
def test_exact_counters_with_trips_and_probes() -> None:
    """Trips and recoveries all along: admitted calls + rejections = attempts, and the
    breaker's counters match what the threads saw, call for call."""
    clock_ns = [0]
    lock = threading.Lock()

    def clock() -> int:
        with lock:
            clock_ns[0] += 1_000_000  # every read moves time 1 ms
            return clock_ns[0]

    b = CircuitBreaker(
        "threads-trip",
        failure_threshold=3,
        recovery_timeout=0.05,
        half_open_max_calls=2,
        success_threshold=2,
        clock=clock,
    )
    seen = [[0, 0, 0, 0] for _ in range(THREADS)]  # successes, failures, rejected, transitions
    transitions: list[str] = []
    b.add_listener("on_state_change", lambda br, t: transitions.append(str(t)))

    def work(n: int) -> None:
        mine = seen[n]
        for i in range(CALLS):
            try:
                if (i // 8 + n) % 3 == 0:  # bursts of 8 failures
                    b.call_sync(_raise)
                else:
                    b.call_sync(int)
                mine[0] += 1
            except Boom:
                mine[1] += 1
            except CircuitBreakerOpenError:
                mine[2] += 1

    run_threads(work)
    s = b.snapshot()
    successes = sum(m[0] for m in seen)
    failures = sum(m[1] for m in seen)
    rejected = sum(m[2] for m in seen)
    assert successes + failures + rejected == THREADS * CALLS
    assert (s["successes"], s["failures"], s["rejected"], s["ignored"]) == (
        successes,
        failures,
        rejected,
        0,
    )
    assert s["calls"] == successes + failures
    # Exactly one listener call per transition, in a consistent order.
    assert s["transitions"]["open"] == transitions.count("closed->open") + transitions.count(
        "half_open->open"
    )
    assert s["transitions"]["open"] > 10
    assert sum(s["transitions"].values()) == len(transitions)


def _raise() -> None:
    raise Boom()
