"""``cbreaker.CircuitBreaker``: the native breaker plus asyncio, context managers, decorators
and listeners. Every helper runs the core's call protocol (``begin`` → ``finish``); this layer
only maps how a call ended (a result, an exception, a cancellation, its own timeout) to it.
"""

from __future__ import annotations

import asyncio
import contextvars
import difflib
import functools
import inspect
import logging
import sys
from collections.abc import Awaitable, Coroutine, Mapping
from types import CoroutineType as _Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, TypeVar, overload

from . import _native
from ._errors import ConfigError, UnknownOptionError
from ._types import EventName, Listener, Listeners, Metrics

if TYPE_CHECKING:
    from typing_extensions import ParamSpec, Unpack

    from ._native import Snapshot, Transition
    from ._types import BreakerOptions, CoreOptions
    from .fleet import Fleet, FleetMember

    P = ParamSpec("P")

__all__ = ["CircuitBreaker", "Listener"]

log = logging.getLogger("cbreaker")

R = TypeVar("R")

_EVENTS = ("on_state_change", "on_reject", "on_success", "on_failure")
_HOOK_TRANSITION, _HOOK_REJECT, _HOOK_OUTCOME, _HOOK_DURATION = 1, 2, 4, 8
_NO_LISTENERS: dict[str, tuple[Listener, ...]] = {e: () for e in _EVENTS}

# Permits of `with` / `async with` blocks, per thread and per task: (breaker, permit) pairs.
_held: contextvars.ContextVar[tuple[tuple[CircuitBreaker, _native.Permit], ...]] = contextvars.ContextVar(
    "cbreaker_held", default=()
)


class _Deadline:
    """A call's own ``timeout``: ``expired`` tells it firing from a ``TimeoutError`` the call
    raised itself (the first ends the call as ``"timeout"``, which the core counts as a failure)."""

    __slots__ = ("expired", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False

    if sys.version_info >= (3, 11):

        async def run(self, aw: Awaitable[R]) -> R:
            cm = asyncio.timeout(self.seconds)
            try:
                async with cm:
                    return await aw
            finally:
                self.expired = cm.expired()

    else:  # pragma: no cover

        async def run(self, aw: Awaitable[R]) -> R:
            try:
                return await asyncio.wait_for(aw, self.seconds)
            except asyncio.TimeoutError:
                self.expired = True
                raise


# The platform's names for native keywords.
_ALIASES = {"failure_threshold": "consecutive_failures", "recovery_timeout": "open_duration"}
# Every keyword a CircuitBreaker takes (for a misspelt one's "did you mean").
_KEYWORDS = (
    "name", "failure_threshold", "recovery_timeout", "half_open_max_calls", "success_threshold",
    "timeout", "on_state_change", "on_reject", "on_success", "on_failure", "preset", "shared_memory",
    "window", "window_size", "window_duration", "window_buckets", "failure_rate_threshold",
    "slow_call_rate_threshold", "slow_call_duration", "consecutive_failures", "minimum_calls",
    "open_duration", "open_duration_max", "open_duration_multiplier", "jitter_percent", "jitter_seed",
    "half_open_max_wait", "exclude", "clock", "fleet",
)  # fmt: skip


class CircuitBreaker(_native.CircuitBreaker):
    """A lock-free circuit breaker for asyncio and threads.

    ``CircuitBreaker(name, failure_threshold, recovery_timeout, half_open_max_calls,
    success_threshold)`` is the agents platform's breaker: the core's ``"agents_platform"``
    preset (trip after ``failure_threshold`` consecutive failures, stay open
    ``recovery_timeout`` seconds), with the values given. ``preset=`` starts from another of
    the core's presets (``cbreaker.PRESETS``). Every core option is also a keyword argument
    (``window="count"``, ``window_size``, ``failure_rate_threshold``, ``open_duration``, ...;
    seconds as floats, rates as percent); a window keyword picks that window.

    ``exclude``: exception types (or predicates ``exc -> bool``) that count as ignored.
    ``timeout``: seconds allowed to each :meth:`call`; running out counts as a failure.
    ``clock``: a callable returning nanoseconds (tests inject time); default: the monotonic
    clock ``time.monotonic_ns()`` reads.
    ``fleet``: a :class:`~cbreaker.fleet.Fleet`; the breaker joins the fleet of its name
    (one breaker across processes and hosts, on Redis); ``breaker.fleet`` is its membership.
    """

    __slots__ = ("__weakref__", "_duration_sinks", "_listeners", "fleet", "name", "timeout")

    name: str
    timeout: Optional[float]
    #: The breaker's fleet membership, or ``None``.
    fleet: Optional[FleetMember]
    _listeners: dict[str, tuple[Listener, ...]]
    #: Duration sinks (``_add_duration_sink``); none: calls are not timed for them.
    _duration_sinks: tuple[Callable[[str, float], object], ...]

    def __new__(
        cls,
        name: Optional[str] = None,
        failure_threshold: Optional[int] = None,
        recovery_timeout: Optional[float] = None,
        half_open_max_calls: Optional[int] = None,
        success_threshold: Optional[int] = None,
        *,
        timeout: Optional[float] = None,
        on_state_change: Listeners = None,
        on_reject: Listeners = None,
        on_success: Listeners = None,
        on_failure: Listeners = None,
        preset: Optional[str] = None,
        shared_memory: Optional[str] = None,
        fleet: Optional[Fleet] = None,
        **config: Unpack[CoreOptions],
    ) -> CircuitBreaker:
        cfg: dict[str, Any] = {"preset": "agents_platform" if preset is None else preset, **config}
        given = {
            "failure_threshold": failure_threshold,
            "recovery_timeout": recovery_timeout,
            "half_open_max_calls": half_open_max_calls,
            "success_threshold": success_threshold,
        }
        aliases: dict[str, str] = {}
        for alias, value in given.items():
            key = _ALIASES.get(alias, alias)
            if value is not None and key not in cfg:
                cfg[key] = value
                aliases[key] = alias
        try:
            return super().__new__(cls, shared_memory=shared_memory, fleet=fleet, **cfg)
        except UnknownOptionError as e:
            close = difflib.get_close_matches(e.field, _KEYWORDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UnknownOptionError(f"CircuitBreaker(): {e}{hint}", e.field) from None
        except ConfigError as e:
            if aliases.get(e.field, e.field) != e.field:
                raise ConfigError(f"{e} (given as {aliases[e.field]})", aliases[e.field]) from None
            raise

    def __init__(
        self,
        name: Optional[str] = None,
        failure_threshold: Optional[int] = None,
        recovery_timeout: Optional[float] = None,
        half_open_max_calls: Optional[int] = None,
        success_threshold: Optional[int] = None,
        *,
        timeout: Optional[float] = None,
        on_state_change: Listeners = None,
        on_reject: Listeners = None,
        on_success: Listeners = None,
        on_failure: Listeners = None,
        preset: Optional[str] = None,
        shared_memory: Optional[str] = None,
        fleet: Optional[Fleet] = None,
        **config: Unpack[CoreOptions],
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise ConfigError(f"invalid config: name must be a str, got {name!r}", "name")
        self.name = name if name is not None else f"breaker-{id(self):x}"
        if timeout is not None:
            ok = isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
            if not ok or not (0 < timeout < float("inf")):
                raise ConfigError(
                    f"invalid config: timeout must be a positive number of seconds, got {timeout!r}",
                    "timeout",
                )
        self.timeout = timeout
        self._listeners = _NO_LISTENERS  # shared until a listener is added (copy on write)
        self._duration_sinks = ()
        given = (on_state_change, on_reject, on_success, on_failure)
        for event, fns in zip(_EVENTS, given):
            if fns is None:
                continue
            for fn in [fns] if callable(fns) else list(fns):
                self._add_listener(event, fn)
        self._update_hooks()
        self.fleet = None
        if fleet is not None:
            from .fleet import Fleet

            if not isinstance(fleet, Fleet):
                raise TypeError(f"fleet must be a cbreaker.Fleet or None, got {fleet!r}")
            self.fleet = fleet._join(self)

    # ---- listeners -------------------------------------------------------------------

    @overload
    def add_listener(
        self, event: Literal["on_state_change"], fn: Callable[[CircuitBreaker, Transition], object]
    ) -> None: ...
    @overload
    def add_listener(
        self, event: Literal["on_reject"], fn: Callable[[CircuitBreaker, Optional[float]], object]
    ) -> None: ...
    @overload
    def add_listener(self, event: Literal["on_success"], fn: Callable[[CircuitBreaker], object]) -> None: ...
    @overload
    def add_listener(
        self, event: Literal["on_failure"], fn: Callable[[CircuitBreaker, Optional[BaseException]], object]
    ) -> None: ...
    def add_listener(self, event: EventName, fn: Callable[..., object]) -> None:
        """Adds a listener for ``event`` (see :meth:`_add_listener`)."""
        self._add_listener(event, fn)

    def _add_listener(self, event: str, fn: Callable[..., object]) -> None:
        """Adds a listener: ``on_state_change(breaker, transition)``,
        ``on_reject(breaker, retry_after)``, ``on_success(breaker)``,
        ``on_failure(breaker, exc)``. Listeners run in the calling thread, after the core
        operation (no lock is held); an exception they raise is logged and swallowed."""
        if event not in self._listeners:
            raise ValueError(f"unknown event {event!r}; expected one of {', '.join(_EVENTS)}")
        if not callable(fn):
            raise TypeError(f"listener for {event} must be callable, got {fn!r}")
        self._listeners = {**self._listeners, event: (*self._listeners[event], fn)}
        self._update_hooks()

    def remove_listener(self, event: EventName, fn: Callable[..., object]) -> None:
        """Removes a listener added with :meth:`add_listener`."""
        fns = list(self._listeners[event])
        fns.remove(fn)
        self._listeners = {**self._listeners, event: tuple(fns)}
        self._update_hooks()

    def _update_hooks(self) -> None:
        ls = self._listeners
        mask = _HOOK_TRANSITION  # transitions are always logged
        if ls["on_reject"]:
            mask |= _HOOK_REJECT
        if ls["on_success"] or ls["on_failure"]:
            mask |= _HOOK_OUTCOME
        if self._duration_sinks:
            mask |= _HOOK_DURATION
        self._set_hooks(mask)

    def _add_duration_sink(self, fn: Callable[[str, float], object]) -> None:
        """Times every call of the call helpers and hands ``fn(outcome, seconds)`` each
        success's and failure's duration (``cbreaker.otel``'s ``durations=True``). Timing every
        call is not free: nothing is timed while no sink is attached."""
        self._duration_sinks = (*self._duration_sinks, fn)
        self._update_hooks()

    def _remove_duration_sink(self, fn: Callable[[str, float], object]) -> None:
        sinks = list(self._duration_sinks)
        sinks.remove(fn)
        self._duration_sinks = tuple(sinks)
        self._update_hooks()

    def _on_duration(self, outcome: str, seconds: float) -> None:
        for fn in self._duration_sinks:
            try:
                fn(outcome, seconds)
            except Exception:
                log.exception("cbreaker: a duration sink of %r raised", self.name)

    def _fire(self, event: EventName, *args: Any) -> None:
        for fn in self._listeners[event]:
            try:
                fn(self, *args)
            except Exception:
                log.exception("cbreaker: %s listener %r of %r raised", event, fn, self.name)

    def _on_transition(self, tr: _native.Transition) -> None:
        level = logging.WARNING if tr.to_state in ("open", "forced_open") else logging.INFO
        if log.isEnabledFor(level):
            # Structured: the core's OpenTelemetry attribute keys (a log bridge exports them as is).
            extra = {_native.OTEL_ATTR_NAME: self.name, **dict(_native.otel_transition_attributes(tr))}
            log.log(level, "circuit %r: %s (%s)", self.name, tr, tr.cause, extra=extra)
        self._fire("on_state_change", tr)

    def _on_reject(self, retry_after: Optional[float]) -> None:
        self._fire("on_reject", retry_after)

    def _on_outcome(self, outcome: str, exc: Optional[BaseException]) -> None:
        if outcome == "success":
            self._fire("on_success")
        else:
            self._fire("on_failure", exc)

    # ---- calls ---------------------------------------------------------------------------

    async def call(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """``await fn(*args, **kwargs)`` under the breaker. Typed for coroutine functions (a
        plain function's result is returned as is at run time; :meth:`call_sync` is its typed
        verb). Raises :class:`CircuitBreakerOpenError` when rejected.
        Cancellation counts as ignored and frees a half-open slot; the per-call ``timeout``
        counts as a failure."""
        if self.timeout is not None:
            return await self._call_within(self.timeout, fn, args, kwargs)  # type: ignore[no-any-return]
        token = self._begin()
        try:
            result: Any = fn(*args, **kwargs)
            if result.__class__ is _Coroutine or inspect.isawaitable(result):
                result = await result
        except BaseException as exc:
            self._end(token, exc)
            raise
        self._end(token)
        return result  # type: ignore[no-any-return]

    async def _call_within(
        self, seconds: float, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        """``call`` with a per-call timeout: when it fires, the call ends as timed out."""
        token, deadline = self._begin(), _Deadline(seconds)
        try:
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await deadline.run(result)
        except BaseException as exc:
            self._end(token, exc, deadline.expired)
            raise
        self._end(token)
        return result

    # ---- context managers -------------------------------------------------------------------

    def __enter__(self) -> CircuitBreaker:
        permit = self.acquire_or_raise()
        _held.set((*_held.get(), (self, permit)))
        return self

    def __exit__(
        self,
        et: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        held = _held.get()
        for i in range(len(held) - 1, -1, -1):
            if held[i][0] is self:
                permit = held[i][1]
                _held.set(held[:i] + held[i + 1 :])
                break
        else:  # pragma: no cover - __exit__ without __enter__
            raise RuntimeError("CircuitBreaker.__exit__ without a matching __enter__")
        self._end(permit, exc)

    async def __aenter__(self) -> CircuitBreaker:
        return self.__enter__()

    async def __aexit__(
        self,
        et: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.__exit__(et, exc, tb)

    # ---- decorator ------------------------------------------------------------------------

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]: ...
    @overload
    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]: ...
    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``@breaker`` on a sync or an async function."""
        if inspect.iscoroutinefunction(fn):
            begin, end = self._begin, self._end

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                if self.timeout is not None:
                    return await self._call_within(self.timeout, fn, args, kwargs)
                token = begin()
                try:
                    result = await fn(*args, **kwargs)
                except BaseException as exc:
                    end(token, exc)
                    raise
                end(token)
                return result

            return async_wrapper
        return functools.update_wrapper(_native.Guarded(self, fn), fn)

    # ---- the agents platform's API ----------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The native snapshot; with a fleet, also ``fleet_status``, ``fleet_state``,
        ``fleet_generation`` and ``fleet_members`` (the fleet as last read)."""
        s = super().snapshot()
        if self.fleet is not None:
            s.update(self.fleet._metrics())  # type: ignore[typeddict-item]
        return s

    def get_metrics(self) -> Metrics:
        """The agents platform's ``{"state", "failure_count", "error_rate",
        "time_until_retry"}`` and more: ``"name"``, ``"success_count"``, ``"total_calls"``,
        ``"total_successes"``, ``"total_failures"``, ``"ignored_calls"``, ``"rejected_calls"``,
        ``"slow_calls"``, ``"window_failure_rate"``, ``"transitions"``. ``error_rate`` is
        lifetime failures ÷ calls (0.0–1.0); ``time_until_retry`` is the core's retry advice in
        seconds while calls are refused, ``None`` while they are admitted (closed) and when
        forced open; ``failure_count`` is the current run of consecutive failures for a
        consecutive window, else the failures in the window. With a fleet, also
        ``"fleet_status"``, ``"fleet_state"``, ``"fleet_generation"`` and ``"fleet_members"``."""
        s = self.snapshot()
        calls = s["calls"]
        consecutive = self.config["window"] == "consecutive"
        m: Metrics = {
            "name": self.name,
            "state": s["state"],
            "failure_count": s["consecutive_failures"] if consecutive else s["window_failures"],
            "error_rate": (s["failures"] / calls) if calls else 0.0,
            "time_until_retry": s["retry_after"],
            "success_count": s["successes"],
            "total_calls": calls,
            "total_successes": s["successes"],
            "total_failures": s["failures"],
            "ignored_calls": s["ignored"],
            "rejected_calls": s["rejected"],
            "slow_calls": s["slow"],
            "window_failure_rate": s["failure_rate"],
            "transitions": s["transitions"],
        }
        if self.fleet is not None:
            m.update(self.fleet._metrics())  # type: ignore[typeddict-item]
        return m

    @classmethod
    def from_env(
        cls,
        name: Optional[str] = None,
        *,
        environ: Optional[Mapping[str, str]] = None,
        **overrides: Unpack[BreakerOptions],
    ) -> CircuitBreaker:
        """A breaker configured by ``CIRCUIT_BREAKER_FAILURE_THRESHOLD``,
        ``CIRCUIT_BREAKER_RECOVERY_TIMEOUT``, ``CIRCUIT_BREAKER_HALF_OPEN_CALLS`` and
        ``CIRCUIT_BREAKER_SUCCESS_THRESHOLD``; an unset variable keeps the core's
        ``"agents_platform"`` preset value. A bad value raises :class:`ConfigError` naming the
        variable."""
        from ._env import breaker_env

        kwargs: dict[str, Any] = {**breaker_env(environ), **overrides}
        return cls(name, **kwargs)

    def __repr__(self) -> str:
        return f"<cbreaker.CircuitBreaker {self.name!r} state={self.state!r}>"
