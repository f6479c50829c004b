"""cbreaker.compat.pybreaker against the real pybreaker 1.4: the same script, the same
observable behaviour (results, exceptions, states, counters, listener calls)."""

from __future__ import annotations

import asyncio
import importlib.metadata
import time
from types import ModuleType
from typing import Any

import pybreaker as real
import pytest

import cbreaker
from cbreaker.compat import pybreaker as compat

RESET = 0.05


class Boom(Exception):
    pass


class NotMine(Exception):
    pass


def make_recorder(mod: ModuleType, log: list[Any]) -> Any:
    class Recorder(mod.CircuitBreakerListener):  # type: ignore[name-defined,misc]
        def before_call(self, cb: Any, func: Any, *args: Any, **kwargs: Any) -> None:
            log.append(("before", args))

        def state_change(self, cb: Any, old: Any, new: Any) -> None:
            log.append(("state", old.name if old is not None else None, new.name))

        def failure(self, cb: Any, exc: BaseException) -> None:
            log.append(("failure", type(exc).__name__))

        def success(self, cb: Any) -> None:
            log.append(("success",))

    return Recorder()


def script(mod: ModuleType, throw_new_error_on_trip: bool) -> list[Any]:
    log: list[Any] = []
    cb = mod.CircuitBreaker(
        fail_max=3, reset_timeout=RESET, success_threshold=2, exclude=[NotMine],
        listeners=[make_recorder(mod, log)], name="diff", throw_new_error_on_trip=throw_new_error_on_trip,
    )  # fmt: skip

    def ok(x: int) -> int:
        return x * 2

    def bad(x: int) -> int:
        raise Boom(x)

    def excluded(x: int) -> int:
        raise NotMine(x)

    def attempt(fn: Any, x: int) -> None:
        try:
            log.append(("result", cb.call(fn, x)))
        except mod.CircuitBreakerError:
            log.append(("CircuitBreakerError", cb.current_state))
        except (Boom, NotMine) as e:
            log.append((type(e).__name__, cb.current_state))
        log.append(("counter", cb.fail_counter, cb.current_state))

    attempt(ok, 1)
    attempt(bad, 2)
    attempt(bad, 3)
    attempt(bad, 4)  # trips
    attempt(ok, 5)  # open: rejected
    time.sleep(RESET * 1.5)
    attempt(ok, 6)  # trial 1 (half-open)
    attempt(ok, 7)  # trial 2: closes
    attempt(bad, 8)
    attempt(excluded, 9)
    log.append(("state", cb.current_state))
    cb.open()
    log.append(("after open()", cb.current_state))
    attempt(ok, 10)
    cb.close()
    log.append(("after close()", cb.current_state, cb.fail_counter))
    attempt(ok, 11)

    @cb
    def decorated(x: int) -> int:
        return x + 100

    log.append(("decorated", decorated(1), decorated.__name__))
    return log


@pytest.mark.parametrize("throw", [True, False])
def test_same_behaviour_as_pybreaker(throw: bool) -> None:
    assert importlib.metadata.version("pybreaker").startswith("1.4")
    theirs = script(real, throw)
    ours = script(compat, throw)
    assert ours == theirs


def test_names_and_constants() -> None:
    for name in ("STATE_OPEN", "STATE_CLOSED", "STATE_HALF_OPEN"):
        assert getattr(compat, name) == getattr(real, name)
    cb = compat.CircuitBreaker()
    assert (cb.fail_max, cb.reset_timeout, cb.success_threshold, cb.current_state) == (5, 60, 1, "closed")
    assert isinstance(cb.breaker, cbreaker.CircuitBreaker)
    assert issubclass(compat.CircuitBreakerError, cbreaker.CircuitBreakerOpenError)
    cb.half_open()  # the core's half_open (issue 13: it used to raise NotImplementedError)
    assert cb.current_state == compat.STATE_HALF_OPEN
    with pytest.raises(ValueError):
        compat.CircuitMemoryStorage("ajar")
    shared = compat.CircuitMemoryStorage(compat.STATE_CLOSED)
    a = compat.CircuitBreaker(fail_max=2, state_storage=shared)
    b = compat.CircuitBreaker(fail_max=2, state_storage=shared)
    assert a.breaker is b.breaker  # one record, one core breaker


def manual_script(mod: ModuleType) -> list[Any]:
    """open(), half_open() and close() by hand, then what calls see."""
    log: list[Any] = []
    cb = mod.CircuitBreaker(fail_max=2, reset_timeout=RESET, listeners=[make_recorder(mod, log)])

    def attempt(fn: Any) -> None:
        try:
            log.append(("result", cb.call(fn)))
        except mod.CircuitBreakerError:
            log.append(("CircuitBreakerError", cb.current_state))
        except Boom:
            log.append(("Boom", cb.current_state))

    def ok() -> int:
        return 1

    def bad() -> int:
        raise Boom()

    log.append(("open() returns", cb.open(), cb.current_state))
    attempt(ok)  # open: rejected
    time.sleep(RESET * 1.5)
    attempt(ok)  # reset_timeout elapsed: a trial call, and it closes
    log.append(("after the trial", cb.current_state))
    cb.half_open()
    log.append(("after half_open()", cb.current_state))
    attempt(ok)  # a trial call: closes
    cb.half_open()
    attempt(bad)  # a failed trial re-opens
    attempt(ok)
    cb.close()
    log.append(("after close()", cb.current_state))
    return log


def test_open_and_half_open_as_pybreaker() -> None:
    """open() is a trip that recovers after reset_timeout; half_open() admits a trial call."""
    assert manual_script(compat) == manual_script(real)


async def test_call_async_and_async_decorator() -> None:
    cb = compat.CircuitBreaker(fail_max=1, reset_timeout=60)

    @cb
    async def fetch(x: int) -> int:
        await asyncio.sleep(0)
        return x

    async def boom() -> None:
        raise Boom()

    assert await fetch(3) == 3
    assert await cb.call_async(fetch, 4) == 4
    with pytest.raises(compat.CircuitBreakerError):
        await cb.call_async(boom)  # trips: the new error, chained to Boom
    with pytest.raises(compat.CircuitBreakerError) as e:
        await fetch(5)
    assert e.value.retry_after is not None and e.value.retry_after > 59
    assert cb.current_state == compat.STATE_OPEN


def test_defaults_are_the_pybreaker_preset() -> None:
    preset = cbreaker.NativeCircuitBreaker(preset="pybreaker").config
    cb = compat.CircuitBreaker()
    assert cb.breaker.config == preset
    assert (cb.fail_max, cb.reset_timeout, cb.success_threshold) == (
        preset["consecutive_failures"],
        preset["open_duration"],
        preset["success_threshold"],
    )
