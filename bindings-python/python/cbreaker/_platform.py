"""The agents platform's resilience API on the cbreaker core: ``CircuitBreakerManager``,
``RetryPolicy``, ``FallbackHandler`` (tier 1 → 2 → 3) and ``HealthMonitor``."""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import random
import threading
import time
from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, Union

from . import _native
from ._asyncio import CircuitBreaker
from ._errors import AllTiersFailedError, CircuitBreakerOpenError, ConfigError, RetryExhaustedError
from ._types import Metrics

if TYPE_CHECKING:
    from typing_extensions import ParamSpec, Unpack

    from ._types import BreakerOptions

    P = ParamSpec("P")

__all__ = ["CircuitBreakerManager", "FallbackHandler", "HealthMonitor", "RetryPolicy"]

log = logging.getLogger("cbreaker")

R = TypeVar("R")
_OPEN = ("open", "forced_open")


class CircuitBreakerManager:
    """A registry of named breakers. ``defaults`` are the keywords new breakers get; they are
    checked here, at construction (a bad or misspelt one is a :class:`ConfigError` naming it).

    ``shared_memory``: a prefix; every breaker this manager makes lives in the shared-memory
    segment ``"{shared_memory}.{name}"``, one breaker for every worker process of the host
    (docs/python.md, "One breaker for a host's worker processes").

    ``fleet=Fleet(...)`` among the defaults: every breaker this manager makes joins the fleet
    of its name (docs/python.md, "Fleet"); a breaker's own ``fleet=`` overrides it."""

    def __init__(self, *, shared_memory: Optional[str] = None, **defaults: Unpack[BreakerOptions]) -> None:
        if shared_memory is not None:
            if not isinstance(shared_memory, str):
                raise ConfigError(
                    f"invalid config: shared_memory must be a str, got {shared_memory!r}", "shared_memory"
                )
            _native.shared_memory_path(shared_memory)  # a ConfigError for a name that cannot be one
        from .fleet import Fleet

        fleet = defaults.get("fleet")
        if fleet is not None and not isinstance(fleet, Fleet):
            raise TypeError(f"fleet must be a cbreaker.Fleet or None, got {fleet!r}")
        checked: dict[str, Any] = {k: v for k, v in defaults.items() if k != "fleet"}
        CircuitBreaker(None, **checked)  # every default checked now, not at the first request (no join)
        self.defaults: dict[str, Any] = dict(defaults)
        self.shared_memory = shared_memory
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()  # registration only; never held during a call
        self._version = 0  # bumped by every (un)registration (FallbackHandler's tier lookup)

    @classmethod
    def from_env(
        cls,
        *,
        environ: Optional[Mapping[str, str]] = None,
        shared_memory: Optional[str] = None,
        **defaults: Unpack[BreakerOptions],
    ) -> CircuitBreakerManager:
        """A manager whose new breakers read the ``CIRCUIT_BREAKER_*`` variables."""
        from ._env import breaker_env

        merged: dict[str, Any] = {**breaker_env(environ), **defaults}
        return cls(shared_memory=shared_memory, **merged)

    def _make(self, name: str, shared_memory: Optional[str], config: Mapping[str, Any]) -> CircuitBreaker:
        segment = shared_memory
        if segment is None and self.shared_memory is not None:
            segment = f"{self.shared_memory}.{name}"
        return CircuitBreaker(name, shared_memory=segment, **{**self.defaults, **config})

    def register_breaker(
        self,
        name: str,
        breaker: Optional[CircuitBreaker] = None,
        *,
        shared_memory: Optional[str] = None,
        **config: Unpack[BreakerOptions],
    ) -> CircuitBreaker:
        """Registers ``breaker`` under ``name`` (a new one from the defaults and ``config`` if
        none is given) and returns it. An existing name is replaced."""
        if breaker is None:
            breaker = self._make(name, shared_memory, config)
        elif config or shared_memory is not None:
            raise TypeError("pass either a breaker or config keywords, not both")
        with self._lock:
            self._breakers[name] = breaker
            self._version += 1
        return breaker

    def get_breaker(self, name: str) -> Optional[CircuitBreaker]:
        return self._breakers.get(name)

    def get_or_create(
        self, name: str, *, shared_memory: Optional[str] = None, **config: Unpack[BreakerOptions]
    ) -> CircuitBreaker:
        """The breaker named ``name``, registering a new one if there is none."""
        with self._lock:
            b = self._breakers.get(name)
            if b is None:
                b = self._make(name, shared_memory, config)
                self._breakers[name] = b
                self._version += 1
            return b

    def unregister_breaker(self, name: str) -> bool:
        with self._lock:
            self._version += 1
            return self._breakers.pop(name, None) is not None

    def list_names(self) -> list[str]:
        return list(self._breakers)

    def get_all_metrics(self) -> dict[str, Metrics]:
        return {name: b.get_metrics() for name, b in list(self._breakers.items())}

    def reset_all(self) -> None:
        for b in list(self._breakers.values()):
            b.reset()

    def get_open_circuits(self) -> list[str]:
        return [name for name, b in list(self._breakers.items()) if b.state in _OPEN]

    def health(self) -> dict[str, Any]:
        """What a ``/health/circuit-breaker`` endpoint serves: ``{"status": "healthy" |
        "degraded" | "unhealthy", "open": [...], "breakers": {name: {"state",
        "retry_after"}}}``. The core's rule: a breaker that is open, half-open or forced open is
        unhealthy; the group is unhealthy when all are, degraded when some are."""
        breakers: dict[str, Any] = {}
        for name, b in list(self._breakers.items()):
            s = b.snapshot()
            breakers[name] = {"state": s["state"], "retry_after": s["retry_after"]}
        status = _native.group_health([v["state"] for v in breakers.values()])
        open_names = [n for n, v in breakers.items() if v["state"] in _OPEN]
        return {"status": status, "open": open_names, "breakers": breakers}

    def __contains__(self, name: object) -> bool:
        return name in self._breakers

    def __len__(self) -> int:
        return len(self._breakers)


class _HandOver(Exception):
    """A tier's breaker refused a call and another tier can answer: the fallback moves on at
    once. ``real`` is the tier's own error from an earlier attempt of this request, if any."""

    def __init__(self, rejection: CircuitBreakerOpenError, real: Optional[BaseException]) -> None:
        super().__init__(rejection)
        self.rejection = rejection
        self.real = real


def _number(field: str, value: Any, low: float) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or value != value or value < low or value == math.inf:
        raise ConfigError(f"invalid config: {field} must be a finite number ≥ {low}, got {value!r}", field)
    return float(value)


class RetryPolicy:
    """Retries an async call with exponential backoff: attempt ``n`` waits
    ``min(base_delay × exponential_base^(n-1), max_delay)``, times a random factor in
    [0.5, 1.0] when ``jitter``. A :class:`CircuitBreakerOpenError` is retried after exactly
    its ``retry_after`` (the core's advice), and only where no other tier can answer (in a
    :class:`FallbackHandler`, a refused tier hands over at once); it is re-raised at once when
    forced open, when ``retry_after`` is over ``max_delay``, or on the last attempt. Only
    ``Exception`` s in ``retry_on`` are retried; cancellation always propagates. Every value is
    checked here (:class:`ConfigError` naming it)."""

    def __init__(
        self,
        max_attempts: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        exponential_base: float = 2.0,
        jitter: bool = True,
        *,
        retry_on: tuple[type[BaseException], ...] = (Exception,),
        sleep: Optional[Callable[[float], Awaitable[Any]]] = None,
        rng: Optional[random.Random] = None,
    ) -> None:
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ConfigError(
                f"invalid config: max_attempts must be a whole number ≥ 1, got {max_attempts!r}",
                "max_attempts",
            )
        self.base_delay = _number("base_delay", base_delay, 0)
        self.max_delay = _number("max_delay", max_delay, 0)
        self.exponential_base = _number("exponential_base", exponential_base, 1)
        if not isinstance(jitter, bool):
            raise ConfigError(f"invalid config: jitter must be True or False, got {jitter!r}", "jitter")
        ok = isinstance(retry_on, tuple) and all(
            isinstance(t, type) and issubclass(t, BaseException) for t in retry_on
        )
        if not ok:
            raise ConfigError(
                f"invalid config: retry_on must be a tuple of exception types, got {retry_on!r}", "retry_on"
            )
        for field, fn in (("sleep", sleep), ("rng", None if rng is None else getattr(rng, "random", None))):
            if (fn is not None and not callable(fn)) or (field == "rng" and rng is not None and fn is None):
                raise ConfigError(f"invalid config: {field} must be callable, got {fn!r}", field)
        self.max_attempts = max_attempts
        self.jitter = jitter
        self.retry_on = retry_on
        self._sleep = sleep or asyncio.sleep
        self._rng = rng or random.Random()

    @classmethod
    def from_env(cls, *, environ: Optional[Mapping[str, str]] = None, **overrides: Any) -> RetryPolicy:
        """Reads ``MAX_RETRY_ATTEMPTS``, ``RETRY_BASE_DELAY``, ``RETRY_MAX_DELAY``,
        ``RETRY_EXPONENTIAL_BASE`` and ``RETRY_JITTER_ENABLED``; an unset variable keeps the
        constructor's default."""
        from ._env import retry_env

        return cls(**{**retry_env(environ), **overrides})

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` (1-based); never overflows."""
        if self.base_delay == 0 or self.max_delay == 0:
            d = 0.0
        else:
            try:
                d = min(self.base_delay * self.exponential_base ** (attempt - 1), self.max_delay)
            except OverflowError:
                d = self.max_delay
        if self.jitter:
            d *= 0.5 + self._rng.random() / 2
        return d

    async def execute(self, fn: Callable[P, Awaitable[R]], *args: P.args, **kwargs: P.kwargs) -> R:
        """``await fn(*args, **kwargs)``, retried; :class:`RetryExhaustedError` when every
        attempt failed."""
        return await self._run(fn, args, kwargs, hand_over=False, deadline=None)

    async def _run(
        self,
        fn: Callable[..., Awaitable[R]],
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        *,
        hand_over: bool,
        deadline: Optional[float],
        breaker: Optional[CircuitBreaker] = None,
    ) -> R:
        """The attempts. ``hand_over``: another tier can answer, so a refusal is never waited
        for. ``deadline`` (the loop's clock): no wait ends past it. ``breaker`` (a
        :class:`FallbackHandler`'s tier): a failure that opened it is a refusal at once (the
        next attempt would be refused), and a refusal that ends the attempts raises
        :class:`_HandOver` with the tier's real error."""
        last: Optional[BaseException] = None
        real: Optional[BaseException] = None
        loop = asyncio.get_running_loop()

        def fits(wait: float) -> bool:
            return deadline is None or loop.time() + wait <= deadline

        for attempt in range(1, self.max_attempts + 1):
            try:
                return await fn(*args, **kwargs)
            except CircuitBreakerOpenError as e:
                refusal: Optional[CircuitBreakerOpenError] = e
            except self.retry_on as e:
                last = real = e
                refusal = _refusal(breaker) if breaker is not None else None
                if refusal is None:
                    wait = self.delay(attempt)
                    if attempt == self.max_attempts or not fits(wait):
                        break
                    log.debug("retry %d/%d after %r", attempt, self.max_attempts, e)
                    await self._sleep(wait)
                    continue
            assert refusal is not None
            ra = refusal.retry_after
            if hand_over or ra is None or ra > self.max_delay or attempt == self.max_attempts or not fits(ra):
                if breaker is not None:
                    raise _HandOver(refusal, real) from real
                raise refusal
            last = refusal if real is None else last
            await self._sleep(ra)
        raise RetryExhaustedError(attempt, last) from last


def _refusal(breaker: CircuitBreaker) -> Optional[CircuitBreakerOpenError]:
    """What the breaker would answer a call now, if it refuses every call: open or forced
    open (half-open may still admit a probe)."""
    s = breaker.snapshot()
    if s["state"] == "forced_open":
        return CircuitBreakerOpenError(None, breaker.name, "forced_open")
    if s["state"] == "open":
        return CircuitBreakerOpenError(s["retry_after"], breaker.name, "open")
    return None


class FallbackHandler:
    """Runs tier 1, then tier 2, then tier 3, each through its breaker; the first answer wins.

    Which breaker guards a tier: ``tiers=`` names them (a sequence of up to three names, or a
    mapping ``{1: "tier1_mcp", ...}``; a name not registered yet is created with the
    manager's defaults). By default, tier *n* uses the manager's breaker named ``tier{n}`` or
    ``tier{n}_...`` (the platform's ``tier1_mcp``, ``tier2_sdk``, ``tier3_rest``); with none
    registered, ``"{operation_name}.tier{n}"``, created on first use; two registered for one
    tier is a :class:`ConfigError`.

    A tier whose circuit refuses the call hands over to the next at once (logged at DEBUG);
    with a ``retry_policy`` a tier that fails is retried with backoff before falling back, and
    a wait for a breaker's ``retry_after`` happens only on the last tier (no other can answer),
    never past ``max_delay`` nor past ``timeout`` seconds from the start, when given.
    :class:`AllTiersFailedError` keeps each tier's real error (a tier that failed and then
    opened keeps its failure) and is chained to the last real one."""

    def __init__(
        self,
        manager: CircuitBreakerManager,
        retry_policy: Optional[RetryPolicy] = None,
        *,
        tiers: Union[Sequence[Optional[str]], Mapping[int, str], None] = None,
    ) -> None:
        if not isinstance(manager, CircuitBreakerManager):
            raise TypeError(f"manager must be a CircuitBreakerManager, got {manager!r}")
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise TypeError(f"retry_policy must be a RetryPolicy, got {retry_policy!r}")
        named: dict[int, str] = {}
        if isinstance(tiers, Mapping):
            named = dict(tiers)
        elif tiers is not None:
            if isinstance(tiers, str):
                raise ConfigError("invalid config: tiers must be a sequence of names, not a str", "tiers")
            named = {n: t for n, t in enumerate(tiers, start=1) if t is not None}
        for n, t in named.items():
            if n not in (1, 2, 3) or not isinstance(t, str) or not t:
                raise ConfigError(
                    f"invalid config: tiers maps 1, 2, 3 to breaker names, got {n!r}: {t!r}", "tiers"
                )
        self.manager = manager
        self.retry_policy = retry_policy
        self.tiers = named
        self._found: tuple[int, dict[int, list[str]]] = (-1, {})

    def _registered(self, tier: int) -> Optional[str]:
        """The registered ``tier{n}`` / ``tier{n}_*`` breaker's name, if any."""
        version = self.manager._version
        if self._found[0] != version:
            names = self.manager.list_names()
            found = {n: [k for k in names if k == f"tier{n}" or k.startswith(f"tier{n}_")] for n in (1, 2, 3)}
            self._found = (version, found)
        hits = self._found[1][tier]
        if len(hits) > 1:
            raise ConfigError(
                f"invalid config: tier {tier} could be any of {hits}: "
                "name one with FallbackHandler(..., tiers=...)",
                "tiers",
            )
        return hits[0] if hits else None

    def breaker_for(self, operation_name: str, tier: int) -> CircuitBreaker:
        """The breaker guarding ``tier`` (1, 2 or 3) of ``operation_name``."""
        name = self.tiers.get(tier) or self._registered(tier) or f"{operation_name}.tier{tier}"
        return self.manager.get_breaker(name) or self.manager.get_or_create(name)

    async def execute_with_fallback(
        self,
        tier1: Callable[[], Awaitable[R]],
        tier2: Optional[Callable[[], Awaitable[R]]] = None,
        tier3: Optional[Callable[[], Awaitable[R]]] = None,
        operation_name: str = "operation",
        *,
        timeout: Optional[float] = None,
    ) -> R:
        """The first tier's answer; :class:`AllTiersFailedError` (with every tier's error)
        when none answers. ``timeout``: seconds this call allows its waits (backoff, a
        breaker's ``retry_after``) to run to; the calls themselves are not cut."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        tiers = [(n, t) for n, t in enumerate((tier1, tier2, tier3), start=1) if t is not None]
        errors: dict[str, BaseException] = {}
        last_real: Optional[BaseException] = None
        for i, (n, tier) in enumerate(tiers):
            breaker = self.breaker_for(operation_name, n)
            key = breaker.name
            last = i == len(tiers) - 1
            try:
                if self.retry_policy is not None:
                    return await self.retry_policy._run(
                        breaker.call, (tier,), {}, hand_over=not last, deadline=deadline, breaker=breaker
                    )
                return await breaker.call(tier)
            except _HandOver as e:
                if e.real is None:
                    log.debug("%s: tier %d skipped (%s)", operation_name, n, e.rejection)
                    errors[key] = e.rejection
                else:
                    log.warning(
                        "%s: tier %d failed: %r (now refused: %s)", operation_name, n, e.real, e.rejection
                    )
                    errors[key] = last_real = e.real
            except CircuitBreakerOpenError as e:
                log.debug("%s: tier %d skipped (%s)", operation_name, n, e)
                errors[key] = e
            except RetryExhaustedError as e:
                log.warning("%s: tier %d failed: %r", operation_name, n, e.last_exception)
                real = e.last_exception if not isinstance(e.last_exception, CircuitBreakerOpenError) else None
                errors[key] = e
                last_real = real or last_real
            except Exception as e:
                log.warning("%s: tier %d failed: %r", operation_name, n, e)
                errors[key] = last_real = e
        raise AllTiersFailedError(operation_name, errors) from last_real


HealthCheck = Callable[[], Any]


class HealthMonitor:
    """Checks named clients every ``check_interval`` seconds in a background asyncio task.

    A client is anything with a ``health_check()`` method (sync or async) or a plain
    callable. A check is healthy when it returns without raising within ``timeout`` seconds
    and its result is not ``False``.
    """

    def __init__(
        self,
        mcp_client: Any = None,
        sdk_client: Any = None,
        rest_client: Any = None,
        check_interval: float = 30.0,
        timeout: float = 10.0,
        **clients: Any,
    ) -> None:
        named = {"mcp": mcp_client, "sdk": sdk_client, "rest": rest_client, **clients}
        self.clients: dict[str, Any] = {k: v for k, v in named.items() if v is not None}
        for field, value in (("check_interval", check_interval), ("timeout", timeout)):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not (0 < value < float("inf")):
                raise ConfigError(f"invalid config: {field} must be a positive number, got {value!r}", field)
        self.check_interval = float(check_interval)
        self.timeout = float(timeout)
        self._status: dict[str, dict[str, Any]] = {}
        self._task: Optional[asyncio.Task[None]] = None

    @classmethod
    def from_env(cls, *, environ: Optional[Mapping[str, str]] = None, **clients: Any) -> HealthMonitor:
        """Reads ``HEALTH_CHECK_INTERVAL`` and ``HEALTH_CHECK_TIMEOUT``; an unset variable keeps
        the constructor's default."""
        from ._env import health_env

        return cls(**{**health_env(environ), **clients})

    async def _check_one(self, name: str, client: Any) -> dict[str, Any]:
        start = time.monotonic()
        fn = getattr(client, "health_check", None)
        fn = fn if callable(fn) else client
        try:
            result = fn()
            if inspect.isawaitable(result):
                result = await asyncio.wait_for(result, self.timeout)
            healthy, error = result is not False, None
        except asyncio.CancelledError:
            raise
        except Exception as e:
            healthy, error = False, f"{type(e).__name__}: {e}"
        return {
            "healthy": healthy,
            "error": error,
            "latency": time.monotonic() - start,
            "last_check": time.time(),
        }

    async def check_all(self) -> dict[str, Any]:
        """Checks every client once, concurrently, and returns :meth:`get_health_status`."""
        names = list(self.clients)
        results = await asyncio.gather(*(self._check_one(n, self.clients[n]) for n in names))
        self._status = dict(zip(names, results))
        return self.get_health_status()

    async def _run(self) -> None:
        while True:
            try:
                await self.check_all()
            except asyncio.CancelledError:
                raise
            except Exception:  # pragma: no cover - _check_one catches client errors
                log.exception("health check round failed")
            await asyncio.sleep(self.check_interval)

    async def start_monitoring(self) -> None:
        """Starts the background task (once; a second call does nothing)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="cbreaker-health")

    async def stop_monitoring(self) -> None:
        """Stops the background task and waits for it."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    @property
    def is_monitoring(self) -> bool:
        return self._task is not None and not self._task.done()

    def get_health_status(self) -> dict[str, Any]:
        """``{"overall": "healthy" | "degraded" | "unhealthy" | "unknown", "clients": {name:
        {"healthy", "error", "latency", "last_check"}}}``."""
        status = dict(self._status)
        if not status:
            overall = "unknown"
        elif all(s["healthy"] for s in status.values()):
            overall = "healthy"
        elif any(s["healthy"] for s in status.values()):
            overall = "degraded"
        else:
            overall = "unhealthy"
        return {"overall": overall, "clients": status}
