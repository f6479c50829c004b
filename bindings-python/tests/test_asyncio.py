"""The asyncio/sync layer: call, call_sync, context managers, decorators, listeners."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from cbreaker import CircuitBreaker, CircuitBreakerOpenError, Transition
from conftest import FakeClock


class Boom(Exception):
    pass


class Excluded(Exception):
    pass


def breaker(clock: FakeClock, **kw: Any) -> CircuitBreaker:
    kw.setdefault("failure_threshold", 2)
    kw.setdefault("recovery_timeout", 10)
    kw.setdefault("half_open_max_calls", 1)
    kw.setdefault("success_threshold", 1)
    return CircuitBreaker("t", clock=clock, **kw)


def boom() -> None:
    raise Boom("x")


async def aboom() -> None:
    raise Boom("x")


def test_call_sync_counts_and_trips(clock: FakeClock) -> None:
    b = breaker(clock)
    assert b.call_sync(lambda a, *, k: a + k, 1, k=2) == 3
    for _ in range(2):
        with pytest.raises(Boom):
            b.call_sync(boom)
    assert b.state == "open"
    clock.advance(3)
    with pytest.raises(CircuitBreakerOpenError) as e:
        b.call_sync(lambda: 1)
    assert e.value.retry_after == pytest.approx(7.0)
    s = b.snapshot()
    assert (s["successes"], s["failures"], s["rejected"]) == (1, 2, 1)


async def test_call_awaits_coroutines_and_plain_results(clock: FakeClock) -> None:
    b = breaker(clock)

    async def add(a: int, b: int = 0) -> int:
        await asyncio.sleep(0)
        return a + b

    assert await b.call(add, 1, b=2) == 3
    assert await b.call(lambda: 7) == 7
    for _ in range(2):
        with pytest.raises(Boom):
            await b.call(aboom)
    with pytest.raises(CircuitBreakerOpenError):
        await b.call(add, 1)
    assert b.snapshot()["successes"] == 2


async def test_cancellation_is_ignored_and_frees_half_open_slot(clock: FakeClock) -> None:
    b = breaker(clock)
    for _ in range(2):
        with pytest.raises(Boom):
            await b.call(aboom)
    clock.advance(10)
    started = asyncio.Event()

    async def hang() -> None:
        started.set()
        await asyncio.sleep(3600)

    task = asyncio.ensure_future(b.call(hang))
    await started.wait()
    assert b.state == "half_open"
    with pytest.raises(CircuitBreakerOpenError):  # the only probe slot is taken
        await b.call(hang)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    s = b.snapshot()
    assert s["ignored"] == 1 and s["failures"] == 2
    assert await b.call(lambda: "probe") == "probe"  # the slot came back
    assert b.state == "closed"


async def test_timeout_counts_as_failure(clock: FakeClock) -> None:
    b = breaker(clock, timeout=0.01, failure_threshold=1)

    async def slow() -> None:
        await asyncio.sleep(5)

    with pytest.raises(TimeoutError):
        await b.call(slow)
    assert b.snapshot()["failures"] == 1
    assert b.state == "open"


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "1", True])
def test_bad_timeout(clock: FakeClock, timeout: object) -> None:
    from cbreaker import ConfigError

    with pytest.raises(ConfigError) as e:
        breaker(clock, timeout=timeout)
    assert e.value.field == "timeout"


async def test_excluded_exceptions_are_ignored(clock: FakeClock) -> None:
    b = breaker(clock, failure_threshold=1, exclude=[Excluded, lambda e: "skip" in str(e)])
    with pytest.raises(Excluded):
        b.call_sync(lambda: (_ for _ in ()).throw(Excluded()))

    async def skip() -> None:
        raise Boom("please skip")

    with pytest.raises(Boom):
        await b.call(skip)
    assert b.state == "closed"
    s = b.snapshot()
    assert (s["ignored"], s["failures"]) == (2, 0)
    assert b.classify_exception(Boom("x")) == "failure"
    assert b.classify_exception(Excluded()) == "ignored"
    assert b.classify_exception(KeyboardInterrupt()) == "ignored"


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit, GeneratorExit])
async def test_base_exceptions_propagate_and_count_as_ignored(
    clock: FakeClock, exc: type[BaseException]
) -> None:
    b = breaker(clock, failure_threshold=1)

    def raise_it() -> None:
        raise exc()

    async def araise_it() -> None:
        raise exc()

    with pytest.raises(exc):
        b.call_sync(raise_it)
    with pytest.raises(exc):
        await b.call(araise_it)
    with pytest.raises(exc), b:
        raise_it()
    assert b.state == "closed"
    assert b.snapshot()["ignored"] == 3


def test_with_block(clock: FakeClock) -> None:
    b = breaker(clock)
    with b:
        pass
    for _ in range(2):
        with pytest.raises(Boom), b:
            raise Boom()
    with pytest.raises(CircuitBreakerOpenError), b:
        pytest.fail("body must not run")
    s = b.snapshot()
    assert (s["successes"], s["failures"], s["rejected"]) == (1, 2, 1)


def test_nested_with_blocks_on_two_breakers(clock: FakeClock) -> None:
    a, b = breaker(clock), breaker(clock)
    with a, b, pytest.raises(Boom), b:
        raise Boom()
    assert a.snapshot()["successes"] == 1
    assert (b.snapshot()["successes"], b.snapshot()["failures"]) == (1, 1)


async def test_async_with_per_task(clock: FakeClock) -> None:
    b = breaker(clock, failure_threshold=5)
    gate = asyncio.Event()

    async def ok() -> None:
        async with b:
            await gate.wait()

    async def bad() -> None:
        async with b:
            await gate.wait()
            raise Boom()

    tasks = [asyncio.ensure_future(ok()), asyncio.ensure_future(bad()), asyncio.ensure_future(ok())]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert [type(r) for r in results] == [type(None), Boom, type(None)]
    s = b.snapshot()
    assert (s["successes"], s["failures"]) == (2, 1)


async def test_decorators_sync_async_and_methods(clock: FakeClock) -> None:
    b = breaker(clock, failure_threshold=3)

    @b
    def add(a: int, b: int) -> int:
        """Adds."""
        return a + b

    @b
    async def aadd(a: int, b: int) -> int:
        return a + b

    class Svc:
        factor = 3

        @b
        def times(self, x: int) -> int:
            return x * self.factor

        @b
        async def atimes(self, x: int) -> int:
            return x * self.factor

    assert add(1, 2) == 3 and add.__name__ == "add" and add.__doc__ == "Adds."
    assert await aadd(1, 2) == 3
    assert Svc().times(2) == 6 and await Svc().atimes(2) == 6
    assert asyncio.iscoroutinefunction(aadd)
    assert b.snapshot()["successes"] == 4


def test_listeners_run_outside_and_errors_are_logged(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[Any] = []

    def bad_listener(*a: Any) -> None:
        raise RuntimeError("listener bug")

    b = breaker(
        clock,
        on_state_change=[lambda br, t: events.append(("state", str(t))), bad_listener],
        on_failure=lambda br, e: events.append(("failure", type(e).__name__)),
    )
    b.add_listener("on_success", lambda br: events.append(("success",)))
    b.add_listener("on_reject", lambda br, ra: events.append(("reject", ra)))
    b.add_listener("on_reject", bad_listener)

    def reenter(br: CircuitBreaker, t: Transition) -> None:
        # A listener may use the breaker it listens to: no lock is held.
        events.append(("reenter", br.state, br.snapshot()["state"]))

    b.add_listener("on_state_change", reenter)
    with caplog.at_level(logging.INFO, logger="cbreaker"):
        b.call_sync(lambda: 1)
        for _ in range(2):
            with pytest.raises(Boom):
                b.call_sync(boom)
        with pytest.raises(CircuitBreakerOpenError):
            b.call_sync(lambda: 1)
    assert events == [
        ("success",),
        ("failure", "Boom"),
        ("state", "closed->open"),
        ("reenter", "open", "open"),
        ("failure", "Boom"),
        ("reject", 10.0),
    ]
    errors = [r for r in caplog.records if "listener" in r.getMessage()]
    assert len(errors) == 2 and all(r.exc_info for r in errors)
    assert any("closed->open" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    b.remove_listener("on_reject", bad_listener)
    with pytest.raises(ValueError):
        b.add_listener("on_nothing", print)
    with pytest.raises(TypeError):
        b.add_listener("on_success", 3)  # type: ignore[arg-type]


async def test_async_listeners_see_outcomes(clock: FakeClock) -> None:
    seen: list[str] = []
    b = breaker(clock, on_success=lambda br: seen.append("s"), on_failure=lambda br, e: seen.append("f"))
    await b.call(lambda: 1)
    with pytest.raises(Boom):
        await b.call(aboom)
    async with b:
        pass
    assert seen == ["s", "f", "s"]


def test_listener_from_another_thread_transition(clock: FakeClock) -> None:
    got: list[tuple[str, str]] = []
    b = breaker(clock, on_state_change=lambda br, t: got.append((threading.current_thread().name, str(t))))

    def work() -> None:
        for _ in range(2):
            try:
                b.call_sync(boom)
            except Boom:
                pass

    t = threading.Thread(target=work, name="worker")
    t.start()
    t.join()
    assert got == [("worker", "closed->open")]


async def test_decorator_timeout_and_wrapper_attributes(clock: FakeClock) -> None:
    b = breaker(clock, timeout=0.01, failure_threshold=1)

    @b
    async def slow() -> None:
        await asyncio.sleep(5)

    @b
    def fast() -> int:
        return 5

    with pytest.raises(TimeoutError):
        await slow()
    assert b.snapshot()["failures"] == 1 and b.state == "open"
    assert fast.__wrapped__ is not None and fast.__name__ == "fast"  # type: ignore[attr-defined]
    assert fast.breaker is b  # type: ignore[attr-defined]
    with pytest.raises(CircuitBreakerOpenError):
        fast()


async def test_plain_awaitables_and_futures(clock: FakeClock) -> None:
    b = breaker(clock)
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    loop.call_soon(fut.set_result, "done")
    assert await b.call(lambda: fut) == "done"

    class Awaitable:
        def __await__(self):  # type: ignore[no-untyped-def]
            yield from asyncio.sleep(0).__await__()
            return "custom"

    assert await b.call(Awaitable) == "custom"
    assert b.snapshot()["successes"] == 2


async def test_mass_cancellation_keeps_counters_exact(clock: FakeClock) -> None:
    """1,000 concurrent calls, a third cancelled mid-flight, a third failing: every permit is
    settled exactly once and the half-open slots all come back."""
    b = breaker(clock, failure_threshold=10_000, half_open_max_calls=5)
    gate = asyncio.Event()

    async def work(i: int) -> int:
        await gate.wait()
        if i % 3 == 1:
            raise Boom()
        return i

    tasks = [asyncio.ensure_future(b.call(work, i)) for i in range(1000)]
    await asyncio.sleep(0)
    for i, t in enumerate(tasks):
        if i % 3 == 2:
            t.cancel()
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    ok = sum(1 for r in results if isinstance(r, int))
    failed = sum(1 for r in results if isinstance(r, Boom))
    cancelled = sum(1 for r in results if isinstance(r, asyncio.CancelledError))
    assert (ok, failed, cancelled) == (334, 333, 333)
    s = b.snapshot()
    assert (s["successes"], s["failures"], s["ignored"], s["calls"]) == (334, 333, 333, 1000)
    # Half-open: probes cancelled before they finish free their slots.
    b.force_open()
    b.reset()
    for _ in range(10_000):
        with pytest.raises(Boom):
            await b.call(work, 1)
    assert b.state == "open"
    clock.advance(10)
    probes = [asyncio.ensure_future(b.call(asyncio.sleep, 3600)) for _ in range(5)]
    await asyncio.sleep(0)
    with pytest.raises(CircuitBreakerOpenError):
        await b.call(work, 0)
    for p in probes:
        p.cancel()
    await asyncio.gather(*probes, return_exceptions=True)
    assert [await b.call(work, 0) for _ in range(5)] == [0] * 5


async def test_own_timeout_is_a_failure_even_when_timeouts_are_excluded(clock: FakeClock) -> None:
    """The helper's own timeout ends the call as timed out (a failure); a TimeoutError the call
    raises itself is classified like any exception (here: excluded, so ignored)."""
    failures: list[BaseException] = []
    b = breaker(clock, timeout=0.01, failure_threshold=5, exclude=[TimeoutError],
                on_failure=lambda br, e: failures.append(e))  # fmt: skip

    async def slow() -> None:
        await asyncio.sleep(5)

    async def raises_timeout() -> None:
        raise TimeoutError("the call's own")

    with pytest.raises(TimeoutError):
        await b.call(slow)
    with pytest.raises(TimeoutError):
        await b.call(raises_timeout)
    s = b.snapshot()
    assert (s["failures"], s["ignored"]) == (1, 1)
    assert len(failures) == 1 and isinstance(failures[0], TimeoutError)
    assert await b.call(lambda: "sync results skip the timer") == "sync results skip the timer"


async def test_wrapper_trip_half_open_and_preset(clock: FakeClock) -> None:
    heard: list[str] = []
    b = breaker(clock, recovery_timeout=2, on_state_change=lambda br, t: heard.append(f"{t}:{t.cause}"))
    b.trip()
    with pytest.raises(CircuitBreakerOpenError) as e:
        await b.call(lambda: 1)
    assert (e.value.reason, e.value.retry_after) == ("open", 2.0)
    b.half_open()
    assert await b.call(lambda: "probe") == "probe"
    assert heard == ["closed->open:trip", "open->half_open:half_open", "half_open->closed:probes_succeeded"]
    from cbreaker import NativeCircuitBreaker

    assert CircuitBreaker("p").config == NativeCircuitBreaker(preset="agents_platform").config
    assert CircuitBreaker("q", preset="pybreaker").config == NativeCircuitBreaker(preset="pybreaker").config
    c = CircuitBreaker("r", preset="http_api", failure_threshold=3).config
    assert c == {**NativeCircuitBreaker(preset="http_api").config, "consecutive_failures": 3}


async def test_cancelled_call_settles_as_cancelled_even_with_timeout(clock: FakeClock) -> None:
    b = breaker(clock, timeout=60)
    started = asyncio.Event()

    async def hang() -> None:
        started.set()
        await asyncio.sleep(3600)

    task = asyncio.ensure_future(b.call(hang))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    s = b.snapshot()
    assert (s["ignored"], s["failures"]) == (1, 0)
