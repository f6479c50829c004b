"""A drop-in for ``import pybreaker`` on the cbreaker core: change the import line only.

Covers ``CircuitBreaker(fail_max, reset_timeout, success_threshold, exclude, listeners,
name, throw_new_error_on_trip)``, ``call``, ``call_async``, the decorator,
``CircuitBreakerListener``, ``CircuitBreakerError``, ``current_state``, ``fail_counter``,
``open()``, ``close()``, ``half_open()`` and ``STATE_*``: PyBreaker's documented behaviour,
without its lock around every call.

Defaults are the core's ``"pybreaker"`` preset; ``open()`` is the core's ``trip`` (open for
``reset_timeout``, then half-open by itself) and ``half_open()`` the core's ``half_open``.

Differences, each because the core decides:
- An excluded exception counts as ignored in the breaker (PyBreaker counts it as a success, so
  in half-open it would close the circuit); ``fail_counter`` and the listeners' ``success()``
  still treat it as PyBreaker does.
- The config is immutable: ``fail_max``, ``reset_timeout`` ... are read-only, and ``exclude`` is
  fixed at construction; ``state_storage`` (Redis) is not supported.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Optional, TypeVar, Union

from .._asyncio import CircuitBreaker as _Breaker
from .._errors import CircuitBreakerOpenError
from .._native import Permit, Transition

__all__ = [
    "STATE_CLOSED",
    "STATE_HALF_OPEN",
    "STATE_OPEN",
    "CircuitBreaker",
    "CircuitBreakerError",
    "CircuitBreakerListener",
]

STATE_OPEN = "open"
STATE_CLOSED = "closed"
STATE_HALF_OPEN = "half-open"

_NAMES = {
    "closed": STATE_CLOSED,
    "open": STATE_OPEN,
    "half_open": STATE_HALF_OPEN,
    "forced_open": STATE_OPEN,
    "disabled": STATE_CLOSED,
    "metrics_only": STATE_CLOSED,
}

R = TypeVar("R")


class CircuitBreakerError(CircuitBreakerOpenError):
    """Raised when the circuit is open (and, with ``throw_new_error_on_trip``, by the call
    that trips it). Also a :class:`cbreaker.CircuitBreakerOpenError`."""

    def __init__(self, message: str = "", retry_after: Optional[float] = None) -> None:
        super().__init__(retry_after)
        self.args = (message,) if message else self.args


class State(str):
    """A state name that also has PyBreaker's ``.name``."""

    @property
    def name(self) -> str:
        return str(self)


class CircuitBreakerListener:
    """Subclass and override what you need; PyBreaker's listener interface."""

    def before_call(self, cb: CircuitBreaker, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        pass

    def state_change(self, cb: CircuitBreaker, old_state: Optional[State], new_state: State) -> None:
        pass

    def failure(self, cb: CircuitBreaker, exc: BaseException) -> None:
        pass

    def success(self, cb: CircuitBreaker) -> None:
        pass


ExcludeItem = Union[type[BaseException], Callable[[BaseException], bool]]


class CircuitBreaker:
    """PyBreaker's ``CircuitBreaker``: trips after ``fail_max`` consecutive failures, stays
    open ``reset_timeout`` seconds, then lets one trial call through; ``success_threshold``
    trial successes close it, a trial failure re-opens it. Unset values are the core's
    ``"pybreaker"`` preset's."""

    def __init__(
        self,
        fail_max: Optional[int] = None,
        reset_timeout: Optional[float] = None,
        success_threshold: Optional[int] = None,
        exclude: Optional[Iterable[ExcludeItem]] = None,
        listeners: Optional[Sequence[CircuitBreakerListener]] = None,
        state_storage: None = None,
        name: Optional[str] = None,
        throw_new_error_on_trip: bool = True,
        *,
        clock: Optional[Callable[[], int]] = None,
    ) -> None:
        if state_storage is not None:
            raise NotImplementedError("cbreaker keeps state in the breaker itself: no state_storage")
        self._excluded = tuple(exclude or ())
        self._listeners = list(listeners or ())
        self._throw_new_error_on_trip = throw_new_error_on_trip
        self._breaker = _Breaker(
            name,
            preset="pybreaker",
            consecutive_failures=fail_max,
            open_duration=reset_timeout,
            success_threshold=success_threshold,
            exclude=self._excluded,
            clock=clock,
        )
        config = self._breaker.config
        self._fail_max = config["consecutive_failures"]
        self._reset_timeout = config["open_duration"] if reset_timeout is None else reset_timeout
        self._success_threshold = config["success_threshold"]
        self.name = name
        self._fail_counter = 0

    # ---- configuration (read-only: the core's config is immutable) -------------------------

    @property
    def fail_max(self) -> int:
        return self._fail_max

    @property
    def reset_timeout(self) -> float:
        return self._reset_timeout

    @property
    def success_threshold(self) -> int:
        return self._success_threshold

    @property
    def excluded_exceptions(self) -> tuple[ExcludeItem, ...]:
        return self._excluded

    @property
    def listeners(self) -> tuple[CircuitBreakerListener, ...]:
        return tuple(self._listeners)

    def add_listener(self, listener: CircuitBreakerListener) -> None:
        self._listeners.append(listener)

    def add_listeners(self, *listeners: CircuitBreakerListener) -> None:
        self._listeners.extend(listeners)

    def remove_listener(self, listener: CircuitBreakerListener) -> None:
        self._listeners.remove(listener)

    # ---- state ------------------------------------------------------------------------------

    @property
    def current_state(self) -> str:
        return _NAMES[self._breaker.state]

    @property
    def state(self) -> State:
        return State(self.current_state)

    @property
    def fail_counter(self) -> int:
        """Failures since the last success (PyBreaker's counter)."""
        return self._fail_counter

    @property
    def success_counter(self) -> int:
        return int(self._breaker.snapshot()["successes"])

    @property
    def breaker(self) -> _Breaker:
        """The cbreaker breaker underneath."""
        return self._breaker

    def open(self) -> bool:
        """Opens the circuit for ``reset_timeout`` (the core's ``trip``): calls fail at once
        until it elapses, then trial calls go through."""
        self._notify(self._breaker.trip())
        return self._throw_new_error_on_trip

    def close(self) -> None:
        """Closes the circuit and clears the failure count."""
        self._fail_counter = 0
        self._notify(self._breaker.reset())

    def half_open(self) -> None:
        """Half-opens the circuit (the core's ``half_open``): the next call is a trial."""
        self._notify(self._breaker.half_open())

    def _notify(self, t: Optional[Transition]) -> None:
        if t is None:
            return
        old, new = State(_NAMES[t.from_state]), State(_NAMES[t.to_state])
        for listener in self._listeners:
            listener.state_change(self, old, new)

    # ---- calls ------------------------------------------------------------------------------

    def _acquire(self, func: Callable[..., Any], args: Any, kwargs: Any) -> Permit:
        try:
            permit = self._breaker.acquire_or_raise()
        except CircuitBreakerOpenError as e:
            msg = "Timeout not elapsed yet, circuit breaker still open"
            raise CircuitBreakerError(msg, e.retry_after) from None
        self._notify(permit.transition)
        for listener in self._listeners:
            listener.before_call(self, func, *args, **kwargs)
        return permit

    def _settle(self, permit: Permit, exc: Optional[BaseException]) -> None:
        t = self._breaker._end(permit, exc)
        if exc is None or self._breaker.classify_exception(exc) == "ignored":
            self._fail_counter = 0
            self._notify(t)
            if exc is None or isinstance(exc, Exception):
                for listener in self._listeners:
                    listener.success(self)
            return
        self._fail_counter += 1
        for listener in self._listeners:
            listener.failure(self, exc)
        self._notify(t)
        if t is not None and t.to_state == "open" and self._throw_new_error_on_trip:
            raise CircuitBreakerError("Failures threshold reached, circuit breaker opened") from exc

    def call(self, func: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """``func(*args, **kwargs)`` under the breaker."""
        permit = self._acquire(func, args, kwargs)
        try:
            result = func(*args, **kwargs)
        except BaseException as e:
            self._settle(permit, e)
            raise
        self._settle(permit, None)
        return result

    async def call_async(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``await func(*args, **kwargs)`` under the breaker (asyncio, not Tornado)."""
        permit = self._acquire(func, args, kwargs)
        try:
            result = await func(*args, **kwargs)
        except BaseException as e:
            self._settle(permit, e)
            raise
        self._settle(permit, None)
        return result

    def __call__(self, *call_args: Any, **call_kwargs: Any) -> Any:
        """``@breaker`` on a sync or async function (``@breaker(__pybreaker_call_async=True)``
        is accepted too)."""
        call_async = call_kwargs.pop("__pybreaker_call_async", False)
        if call_args and callable(call_args[0]) and not call_kwargs:
            return self._decorate(call_args[0], call_async)
        return lambda fn: self._decorate(fn, call_async)

    def _decorate(self, fn: Callable[..., Any], call_async: bool) -> Callable[..., Any]:
        if call_async or inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await self.call_async(fn, *args, **kwargs)

            return async_wrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self.call(fn, *args, **kwargs)

        return wrapper
