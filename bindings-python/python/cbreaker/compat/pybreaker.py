"""A drop-in for ``import pybreaker`` (PyBreaker 1.4) on the cbreaker core: change the import
line only. PyBreaker's own test suite passes through it (``tests/test_pybreaker_suite.py``),
except three tests of PyBreaker's private state classes (docs/python.md).

``CircuitBreaker(fail_max, reset_timeout, success_threshold, exclude, listeners,
state_storage, name, throw_new_error_on_trip)`` with ``call``, ``call_async``, ``calling()``,
the decorator (sync, async and generator functions), the setters, ``open()`` / ``half_open()``
/ ``close()``, excluded exceptions, listeners, ``CircuitMemoryStorage`` and
``CircuitRedisStorage``.

Where the record lives decides who decides:
- ``CircuitMemoryStorage`` (the default): the record is a cbreaker core breaker (the
  ``"pybreaker"`` preset with the values given); the core admits, trips, times the open state
  and decides each trial call. ``open()`` is the core's ``trip`` (open for ``reset_timeout``,
  then trial calls), ``half_open()`` its ``half_open``, ``close()`` its ``reset``.
- ``CircuitRedisStorage`` (or any other ``CircuitBreakerStorage``): the record is the
  storage's, in PyBreaker's layout, so processes running PyBreaker and processes running this
  shim share one breaker during a migration; the shim then follows PyBreaker's protocol on
  the storage step for step.

Like PyBreaker, one breaker's bookkeeping and listeners run under its lock (listeners never
run concurrently, ``fail_counter`` counts each counted failure once, no failure is counted
past the trip); unlike PyBreaker, the guarded call itself runs outside the lock.
"""

from __future__ import annotations

import calendar
import contextlib
import functools
import importlib.util
import inspect
import logging
import threading
import time
import types
from collections.abc import Generator, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union

from .. import _native
from .._asyncio import CircuitBreaker as _Breaker
from .._errors import CircuitBreakerOpenError, ConfigError
from .._native import Permit, Transition

if TYPE_CHECKING:
    from .._native import EndName

__all__ = [
    "STATE_CLOSED",
    "STATE_HALF_OPEN",
    "STATE_OPEN",
    "CircuitBreaker",
    "CircuitBreakerError",
    "CircuitBreakerListener",
    "CircuitBreakerStorage",
    "CircuitMemoryStorage",
    "CircuitRedisStorage",
]

# What PyBreaker's module says about its optional dependencies (read at call time, as there).
HAS_TORNADO_SUPPORT = importlib.util.find_spec("tornado") is not None
HAS_REDIS_SUPPORT = importlib.util.find_spec("redis") is not None

UTC = timezone.utc
STATE_OPEN = "open"
STATE_CLOSED = "closed"
STATE_HALF_OPEN = "half-open"
_STATES = (STATE_CLOSED, STATE_OPEN, STATE_HALF_OPEN)

# The core's states as PyBreaker names them.
_NAMES = {
    "closed": STATE_CLOSED,
    "open": STATE_OPEN,
    "half_open": STATE_HALF_OPEN,
    "forced_open": STATE_OPEN,
    "disabled": STATE_CLOSED,
    "metrics_only": STATE_CLOSED,
}

# PyBreaker's defaults are the core's "pybreaker" preset.
_PRESET = _native.CircuitBreaker(preset="pybreaker").config

R = TypeVar("R")
ExcludeItem = Union[type[BaseException], Callable[[BaseException], bool]]


class CircuitBreakerError(CircuitBreakerOpenError):
    """Raised when the circuit is open (and, with ``throw_new_error_on_trip``, by the call
    that trips it). Also a :class:`cbreaker.CircuitBreakerOpenError`."""

    def __init__(self, message: str = "", retry_after: Optional[float] = None) -> None:
        super().__init__(retry_after)
        self.args = (message,) if message else self.args


class State(str):
    """A state name that also has PyBreaker's ``.name``: what listeners get as
    ``old_state`` / ``new_state`` and what ``breaker.state`` returns."""

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


# ---- storages --------------------------------------------------------------------------------


class CircuitBreakerStorage:
    """The record of a breaker: state, failure and success counters, when it opened.
    Subclass it for a record elsewhere; the shim follows PyBreaker's protocol on it."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def state(self) -> str:
        raise NotImplementedError

    @state.setter
    def state(self, state: str) -> None:
        raise NotImplementedError

    def increment_counter(self) -> None:
        raise NotImplementedError

    def reset_counter(self) -> None:
        raise NotImplementedError

    def increment_success_counter(self) -> None:
        raise NotImplementedError

    def reset_success_counter(self) -> None:
        raise NotImplementedError

    @property
    def counter(self) -> int:
        raise NotImplementedError

    @property
    def success_counter(self) -> int:
        raise NotImplementedError

    @property
    def opened_at(self) -> Optional[datetime]:
        raise NotImplementedError

    @opened_at.setter
    def opened_at(self, value: datetime) -> None:
        raise NotImplementedError


class CircuitMemoryStorage(CircuitBreakerStorage):
    """The record in this process: once a :class:`CircuitBreaker` uses it, the state is a
    cbreaker core breaker's (shared by every breaker given this storage) and the counters are
    PyBreaker's, kept by the breaker under its lock."""

    def __init__(self, state: str) -> None:
        super().__init__("memory")
        if state not in _STATES:
            raise ValueError(f"Unknown state {state!r}, valid states: {', '.join(_STATES)}")
        self._fail_counter = 0
        self._success_counter = 0
        self._opened_at: Optional[datetime] = None
        self._state = state
        self._core: Optional[_Breaker] = None

    @property
    def state(self) -> str:
        core = self._core
        return self._state if core is None else _NAMES[core.state]

    @state.setter
    def state(self, state: str) -> None:
        """Moves the record (no listener hears it: PyBreaker's storages notify nobody)."""
        if state not in _STATES:
            raise ValueError(f"Unknown state {state!r}, valid states: {', '.join(_STATES)}")
        self._state = state
        if self._core is not None:
            self._move(self._core, state)

    @staticmethod
    def _move(core: _Breaker, state: str) -> Optional[Transition]:
        if state == STATE_OPEN:
            return core.trip()
        if state == STATE_HALF_OPEN:
            return core.half_open()
        return core.reset()

    def increment_counter(self) -> None:
        self._fail_counter += 1

    def reset_counter(self) -> None:
        self._fail_counter = 0

    def increment_success_counter(self) -> None:
        self._success_counter += 1

    def reset_success_counter(self) -> None:
        self._success_counter = 0

    @property
    def counter(self) -> int:
        return self._fail_counter

    @property
    def success_counter(self) -> int:
        return self._success_counter

    @property
    def opened_at(self) -> Optional[datetime]:
        return self._opened_at

    @opened_at.setter
    def opened_at(self, value: datetime) -> None:
        self._opened_at = value

    def _adopt(self, name: Optional[str], clock: Optional[Callable[[], int]], **config: Any) -> _Breaker:
        """The core breaker for ``config``: the one in use if its config is the same, else a
        new one that starts where the record is (its state, its run of failures)."""
        new = _Breaker(name, preset="pybreaker", clock=clock, **config)
        old = self._core
        if old is not None and old.config == new.config and old.clock is clock:
            return old
        state = self.state
        if state == STATE_CLOSED:
            # The run of failures carries over, short of a trip (PyBreaker trips on the next
            # failure, not on a new fail_max).
            for _ in range(min(self._fail_counter, new.config["consecutive_failures"] - 1)):
                permit = new.acquire_or_raise()
                permit.finish("failure")
        else:
            self._move(new, state)
        # PyBreaker logs no transitions: the listeners hear them (hooks on again if a listener
        # is added to `breaker.breaker`).
        new._set_hooks(0)
        self._core = new
        return new


class CircuitRedisStorage(CircuitBreakerStorage):
    """The record in Redis, in PyBreaker's layout (``[namespace:]pybreaker:state``,
    ``fail_counter``, ``success_counter``, ``opened_at`` as Unix seconds): processes running
    PyBreaker and processes running this shim share one breaker. ``redis_object`` is a
    redis-py client (``redis.Redis``, ``redis.RedisCluster`` with ``cluster_mode=True``). When
    Redis fails, the state is ``fallback_circuit_state`` and the counters read 0."""

    BASE_NAMESPACE = "pybreaker"
    logger = logging.getLogger("pybreaker")

    def __init__(
        self,
        state: str,
        redis_object: Any,
        namespace: Optional[str] = None,
        fallback_circuit_state: str = STATE_CLOSED,
        cluster_mode: bool = False,
    ) -> None:
        if not HAS_REDIS_SUPPORT:
            raise ImportError("CircuitRedisStorage can only be used if the required dependencies exist")
        from redis.exceptions import RedisError

        super().__init__("redis")
        self._error: type[Exception] = RedisError
        self._redis = redis_object
        self._namespace_name = namespace
        self._fallback_circuit_state = fallback_circuit_state
        self._initial_state = str(state)
        self._cluster_mode = cluster_mode
        self._initialize_redis_state(self._initial_state)

    def _key(self, key: str) -> str:
        parts = [self.BASE_NAMESPACE, key]
        if self._namespace_name:
            parts.insert(0, self._namespace_name)
        return ":".join(parts)

    def _initialize_redis_state(self, state: str) -> None:
        self._redis.setnx(self._key("fail_counter"), 0)
        self._redis.setnx(self._key("success_counter"), 0)
        self._redis.setnx(self._key("state"), state)

    def _write(self, what: str, op: Callable[[], Any]) -> None:
        try:
            op()
        except self._error:
            self.logger.exception("RedisError: %s", what)

    def _int(self, key: str) -> int:
        try:
            value = self._redis.get(self._key(key))
            return int(value) if value else 0
        except self._error:
            self.logger.exception("RedisError: assuming 0 for %s", key)
            return 0

    @property
    def state(self) -> str:
        """The state in Redis; a missing one is re-initialized to the fallback state."""
        try:
            raw = self._redis.get(self._key("state"))
        except self._error:
            self.logger.exception("RedisError: falling back to default circuit state")
            return self._fallback_circuit_state
        if raw is None:
            self._initialize_redis_state(self._fallback_circuit_state)
            return self._fallback_circuit_state
        return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)

    @state.setter
    def state(self, state: str) -> None:
        self._write("state", lambda: self._redis.set(self._key("state"), str(state)))

    def increment_counter(self) -> None:
        self._write("fail_counter", lambda: self._redis.incr(self._key("fail_counter")))

    def reset_counter(self) -> None:
        self._write("fail_counter", lambda: self._redis.set(self._key("fail_counter"), 0))

    def increment_success_counter(self) -> None:
        self._write("success_counter", lambda: self._redis.incr(self._key("success_counter")))

    def reset_success_counter(self) -> None:
        self._write("success_counter", lambda: self._redis.set(self._key("success_counter"), 0))

    @property
    def counter(self) -> int:
        return self._int("fail_counter")

    @property
    def success_counter(self) -> int:
        return self._int("success_counter")

    @property
    def opened_at(self) -> Optional[datetime]:
        try:
            stamp = self._redis.get(self._key("opened_at"))
        except self._error:
            self.logger.exception("RedisError: opened_at")
            return None
        return datetime(*time.gmtime(int(stamp))[:6], tzinfo=UTC) if stamp else None

    @opened_at.setter
    def opened_at(self, now: datetime) -> None:
        """Sets the opening time (Unix seconds) unless a later one is stored: atomically with
        ``WATCH``/``MULTI`` (one key per transaction), or read-then-write in cluster mode."""
        key = self._key("opened_at")
        value = int(calendar.timegm(now.timetuple()))

        def later(current: Any) -> bool:
            return not current or value > int(current)

        def plain() -> None:
            if later(self._redis.get(key)):
                self._redis.set(key, value)

        def transaction(pipe: Any) -> None:
            current = pipe.get(key)
            pipe.multi()
            if later(current):
                pipe.set(key, value)

        self._write(
            "opened_at", plain if self._cluster_mode else lambda: self._redis.transaction(transaction, key)
        )


# ---- the breaker ------------------------------------------------------------------------------


def _positive(field: str, value: Any, whole: bool) -> Any:
    kinds: tuple[type[int], ...] | tuple[type[int], type[float]] = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value != value or value < 0:
        what = "a whole number" if whole else "a non-negative number of seconds"
        raise ConfigError(f"invalid config: {field} must be {what}, got {value!r}", field)
    return value


class _Ticket:
    """One admitted call: the core permit (memory storage), or the state it started in."""

    __slots__ = ("core", "permit", "state")

    def __init__(self, core: Optional[_Breaker], permit: Optional[Permit], state: str) -> None:
        self.core, self.permit, self.state = core, permit, state


class CircuitBreaker:
    """PyBreaker's ``CircuitBreaker``: trips after ``fail_max`` consecutive failures, stays
    open ``reset_timeout`` seconds, then lets a trial call through; ``success_threshold``
    trial successes close it, a trial failure re-opens it. Unset values are the core's
    ``"pybreaker"`` preset's (5, 60 s, 1)."""

    def __init__(
        self,
        fail_max: Optional[int] = None,
        reset_timeout: Optional[float] = None,
        success_threshold: Optional[int] = None,
        exclude: Optional[Iterable[ExcludeItem]] = None,
        listeners: Optional[Sequence[CircuitBreakerListener]] = None,
        state_storage: Optional[CircuitBreakerStorage] = None,
        name: Optional[str] = None,
        throw_new_error_on_trip: bool = True,
        *,
        clock: Optional[Callable[[], int]] = None,
    ) -> None:
        self._lock = threading.RLock()
        self._fail_max = _positive(
            "fail_max", _PRESET["consecutive_failures"] if fail_max is None else fail_max, True
        )
        self._reset_timeout = _positive(
            "reset_timeout", _PRESET["open_duration"] if reset_timeout is None else reset_timeout, False
        )
        self._success_threshold = _positive(
            "success_threshold",
            _PRESET["success_threshold"] if success_threshold is None else success_threshold,
            True,
        )
        self._excluded_exceptions: list[ExcludeItem] = list(exclude or [])
        self._listeners: list[CircuitBreakerListener] = list(listeners or [])
        self._name = name
        self._throw_new_error_on_trip = throw_new_error_on_trip
        self._clock = clock
        self._state_storage: CircuitBreakerStorage = state_storage or CircuitMemoryStorage(STATE_CLOSED)
        self._memory = isinstance(self._state_storage, CircuitMemoryStorage)
        self._trials = 0  # trial calls in flight from this process (another storage)
        self._core: Optional[_Breaker] = None
        self._adopt()
        # The state this breaker last saw (another storage: a change made elsewhere is
        # noticed, and heard by the listeners, as PyBreaker does).
        self._seen = self.current_state

    def _adopt(self) -> None:
        storage = self._state_storage
        if isinstance(storage, CircuitMemoryStorage):
            self._core = storage._adopt(
                self._name,
                self._clock,
                consecutive_failures=max(1, self._fail_max),  # PyBreaker: 0 trips as 1 does
                open_duration=self._reset_timeout,
                success_threshold=max(1, self._success_threshold),
            )

    # ---- configuration -------------------------------------------------------------------

    @property
    def fail_max(self) -> int:
        return int(self._fail_max)

    @fail_max.setter
    def fail_max(self, number: int) -> None:
        with self._lock:
            self._fail_max = _positive("fail_max", number, True)
            self._adopt()

    @property
    def reset_timeout(self) -> float:
        return self._reset_timeout  # type: ignore[no-any-return]

    @reset_timeout.setter
    def reset_timeout(self, timeout: float) -> None:
        with self._lock:
            self._reset_timeout = _positive("reset_timeout", timeout, False)
            self._adopt()

    @property
    def success_threshold(self) -> int:
        return int(self._success_threshold)

    @success_threshold.setter
    def success_threshold(self, threshold: int) -> None:
        with self._lock:
            self._success_threshold = _positive("success_threshold", threshold, True)
            self._adopt()

    @property
    def name(self) -> Optional[str]:
        return self._name

    @name.setter
    def name(self, name: str) -> None:
        self._name = name
        if self._core is not None:
            self._core.name = name

    @property
    def excluded_exceptions(self) -> tuple[ExcludeItem, ...]:
        return tuple(self._excluded_exceptions)

    def add_excluded_exception(self, exception: ExcludeItem) -> None:
        with self._lock:
            self._excluded_exceptions.append(exception)

    def add_excluded_exceptions(self, *exceptions: ExcludeItem) -> None:
        for exc in exceptions:
            self.add_excluded_exception(exc)

    def remove_excluded_exception(self, exception: ExcludeItem) -> None:
        with self._lock:
            self._excluded_exceptions.remove(exception)

    def is_system_error(self, exception: BaseException) -> bool:
        """PyBreaker's rule: not excluded by type (subclasses too) nor by a predicate."""
        kind = type(exception)
        for exclusion in self._excluded_exceptions:
            if type(exclusion) is type:
                if issubclass(kind, exclusion):
                    return False
            elif callable(exclusion) and exclusion(exception):
                return False
        return True

    @property
    def listeners(self) -> tuple[CircuitBreakerListener, ...]:
        return tuple(self._listeners)

    def add_listener(self, listener: CircuitBreakerListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def add_listeners(self, *listeners: CircuitBreakerListener) -> None:
        for listener in listeners:
            self.add_listener(listener)

    def remove_listener(self, listener: CircuitBreakerListener) -> None:
        with self._lock:
            self._listeners.remove(listener)

    # ---- state ------------------------------------------------------------------------------

    @property
    def current_state(self) -> str:
        return self._state_storage.state

    @property
    def state(self) -> State:
        """The state; a change made elsewhere (another process sharing the storage) is
        heard by the listeners, as in PyBreaker."""
        if self._memory:
            return State(self.current_state)
        with self._lock:
            return State(self._observe())

    @property
    def fail_counter(self) -> int:
        """PyBreaker's failure counter: failures since the last success or close."""
        return self._state_storage.counter

    @property
    def success_counter(self) -> int:
        """PyBreaker's half-open counter: trial successes since entering half-open (0 after a
        close or a re-open)."""
        return self._state_storage.success_counter

    @property
    def breaker(self) -> Optional[_Breaker]:
        """The cbreaker breaker underneath (memory storage), else ``None``."""
        return self._core

    def _inc_counter(self) -> None:
        """Counts one failure (PyBreaker's name; called under the lock)."""
        self._state_storage.increment_counter()

    def _entered(self, old: Optional[str], new: str) -> None:
        """PyBreaker's bookkeeping on entering ``new``, then the listeners (under the lock)."""
        storage = self._state_storage
        if new == STATE_CLOSED:
            storage.reset_counter()
        storage.reset_success_counter()
        self._seen = new
        prev = None if old is None else State(old)
        for listener in self._listeners:
            listener.state_change(self, prev, State(new))

    def _moved(self, t: Optional[Transition]) -> None:
        """Applies a core transition (memory storage, under the lock)."""
        if t is None:
            return
        new = _NAMES[t.to_state]
        if new == STATE_OPEN:
            self._state_storage.opened_at = datetime.now(UTC)
        self._entered(_NAMES[t.from_state], new)

    def _observe(self) -> str:
        """Another storage: the stored state, heard by the listeners if it changed."""
        now = self.current_state
        if now != self._seen:
            self._entered(self._seen, now)
        return now

    def open(self) -> bool:
        """Opens the circuit: calls fail at once until ``reset_timeout`` elapses, then trial
        calls go through (the core's ``trip``). Returns ``throw_new_error_on_trip``."""
        with self._lock:
            if self._core is not None:
                self._moved(self._core.trip())
            else:
                self._state_storage.opened_at = datetime.now(UTC)
                self._state_storage.state = STATE_OPEN
                self._entered(self._seen, STATE_OPEN)
            return self._throw_new_error_on_trip

    def half_open(self) -> None:
        """Half-opens the circuit: the next call is a trial (the core's ``half_open``)."""
        with self._lock:
            if self._core is not None:
                self._moved(self._core.half_open())
            else:
                self._state_storage.state = STATE_HALF_OPEN
                self._entered(self._seen, STATE_HALF_OPEN)

    def close(self) -> None:
        """Closes the circuit and clears the counters (the core's ``reset``)."""
        with self._lock:
            self._state_storage.reset_success_counter()
            if self._core is not None:
                self._moved(self._core.reset())
            else:
                self._state_storage.state = STATE_CLOSED
                self._entered(self._seen, STATE_CLOSED)

    # ---- calls ------------------------------------------------------------------------------

    def _begin(self, func: Callable[..., Any], args: Any, kwargs: Any) -> _Ticket:
        """Admits a call or raises :class:`CircuitBreakerError`; then ``before_call``."""
        core = self._core
        if core is not None:
            # Admission under the lock too: a call waits for another's before_call listeners,
            # as in PyBreaker, and then sees what they left.
            with self._lock:
                try:
                    permit = core.acquire_or_raise()
                except CircuitBreakerOpenError as e:
                    msg = "Timeout not elapsed yet, circuit breaker still open"
                    raise CircuitBreakerError(msg, e.retry_after) from None
                ticket = _Ticket(core, permit, permit.state)
                try:
                    self._moved(permit.transition)
                    for listener in self._listeners:
                        listener.before_call(self, func, *args, **kwargs)
                except BaseException:
                    permit.finish("cancelled")
                    raise
            return ticket
        with self._lock:
            state = self._observe()
            if state == STATE_OPEN:
                opened_at = self._state_storage.opened_at
                timeout = timedelta(seconds=self._reset_timeout)
                if opened_at and datetime.now(UTC) < opened_at + timeout:
                    left = (opened_at + timeout - datetime.now(UTC)).total_seconds()
                    msg = "Timeout not elapsed yet, circuit breaker still open"
                    raise CircuitBreakerError(msg, max(left, 0.0))
                self.half_open()
                state = STATE_HALF_OPEN
            if state == STATE_HALF_OPEN:
                if self._trials >= 1:
                    raise CircuitBreakerError("Trial call in progress, circuit breaker half-open", 0.0)
                self._trials += 1
            try:
                for listener in self._listeners:
                    listener.before_call(self, func, *args, **kwargs)
            except BaseException:
                self._trials -= state == STATE_HALF_OPEN
                raise
            return _Ticket(None, None, state)

    def _end(self, ticket: _Ticket, exc: Optional[BaseException]) -> None:
        """Settles a call: the record, the counters, the listeners (under the lock); raises
        :class:`CircuitBreakerError` from ``exc`` when this failure opened the circuit."""
        end: EndName
        if exc is None:
            end = "success"
        elif not isinstance(exc, Exception):
            end = "cancelled"  # cancellation, KeyboardInterrupt, GeneratorExit: not the service's fault
        else:
            end = "failure" if self.is_system_error(exc) else "success"  # PyBreaker: excluded = success
        with self._lock:
            opened = (
                self._settle_core(ticket, end)
                if ticket.core is not None
                else self._settle_storage(ticket, end)
            )
            if end == "failure":
                assert exc is not None
                for listener in self._listeners:
                    listener.failure(self, exc)
            if opened is not None:
                self._entered(*opened)
            if end == "success":
                for listener in self._listeners:
                    listener.success(self)
        if (
            opened is not None
            and opened[1] == STATE_OPEN
            and end == "failure"
            and self._throw_new_error_on_trip
        ):
            trial = opened[0] == STATE_HALF_OPEN
            msg = (
                "Trial call failed, circuit breaker opened"
                if trial
                else "Failures threshold reached, circuit breaker opened"
            )
            raise CircuitBreakerError(msg) from exc

    def _settle_core(self, ticket: _Ticket, end: EndName) -> Optional[tuple[str, str]]:
        core, permit = ticket.core, ticket.permit
        assert core is not None and permit is not None
        # Counted only if the core counts it: a permit of the current generation (a call that
        # started before a trip, or a reclaimed probe, is stale and counts nowhere).
        counted = core is self._core and permit.generation == core._generation()
        t = permit.finish(end)
        if counted and end == "failure":
            self._inc_counter()
        elif counted and end == "success":
            self._state_storage.reset_counter()
            if ticket.state == "half_open" and (t is None or t.to_state != "closed"):
                self._state_storage.increment_success_counter()
        if t is None:
            return None
        new = _NAMES[t.to_state]
        if new == STATE_OPEN:
            self._state_storage.opened_at = datetime.now(UTC)
        return (_NAMES[t.from_state], new)

    def _settle_storage(self, ticket: _Ticket, end: EndName) -> Optional[tuple[str, str]]:
        """PyBreaker's protocol on a storage, for a call that started in ``ticket.state``."""
        storage = self._state_storage
        if ticket.state == STATE_HALF_OPEN:
            self._trials -= 1
        if end == "cancelled":
            return None
        still = storage.state == ticket.state  # a move made meanwhile (elsewhere) decides instead
        if end == "success":
            storage.reset_counter()
            if still and ticket.state == STATE_HALF_OPEN:
                storage.increment_success_counter()
                if storage.success_counter >= self._success_threshold:
                    storage.reset_success_counter()
                    storage.state = STATE_CLOSED
                    return (STATE_HALF_OPEN, STATE_CLOSED)
            return None
        self._inc_counter()
        if still and (ticket.state == STATE_HALF_OPEN or storage.counter >= self._fail_max):
            storage.opened_at = datetime.now(UTC)
            storage.state = STATE_OPEN
            return (ticket.state, STATE_OPEN)
        return None

    def call(self, func: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """``func(*args, **kwargs)`` under the breaker. A generator it returns is guarded while
        it is iterated: its end (or its error) settles the call."""
        ticket = self._begin(func, args, kwargs)
        try:
            result = func(*args, **kwargs)
        except BaseException as e:
            self._end(ticket, e)
            raise
        if isinstance(result, types.GeneratorType):
            return self._guarded(ticket, result)  # type: ignore[return-value]
        self._end(ticket, None)
        return result

    def _guarded(self, ticket: _Ticket, gen: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
        try:
            value = yield from gen
        except BaseException as e:
            self._end(ticket, e)
            raise
        self._end(ticket, None)
        return value

    async def call_async(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``await func(*args, **kwargs)`` under the breaker: a coroutine function, or one
        returning an awaitable (a Tornado ``gen.coroutine``'s future too)."""
        ticket = self._begin(func, args, kwargs)
        try:
            result = func(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except BaseException as e:
            self._end(ticket, e)
            raise
        self._end(ticket, None)
        return result

    @contextlib.contextmanager
    def calling(self) -> Iterator[None]:
        """``with breaker.calling(): ...``: the block is the guarded call."""
        ticket = self._begin(self.calling, (), {})
        try:
            yield
        except BaseException as e:
            self._end(ticket, e)
            raise
        self._end(ticket, None)

    def __call__(self, *call_args: Any, **call_kwargs: Any) -> Any:
        """``@breaker`` on a sync, async or generator function; ``@breaker(__pybreaker_call_async=True)``
        for a function returning an awaitable (PyBreaker: Tornado required)."""
        call_async = call_kwargs.pop("__pybreaker_call_async", False)
        if call_async and not HAS_TORNADO_SUPPORT:
            raise ImportError("No module named tornado")

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            if call_async or inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                    return await self.call_async(fn, *args, **kwargs)

                return async_wrapper

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                return self.call(fn, *args, **kwargs)

            return wrapper

        if call_args:
            return decorate(call_args[0])
        return decorate

    def __repr__(self) -> str:
        return f"<cbreaker.compat.pybreaker.CircuitBreaker {self._name!r} state={self.current_state!r}>"
