"""The agents platform's resilience API on the cbreaker core: ``CircuitBreakerManager``,
``RetryPolicy``, ``FallbackHandler`` (tier 1 → 2 → 3) and ``HealthMonitor``."""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import threading
import time
from collections.abc import Awaitable, Mapping
from typing import Any, Callable, Optional

from . import _native
from ._asyncio import CircuitBreaker
from ._errors import AllTiersFailedError, CircuitBreakerOpenError, ConfigError, RetryExhaustedError

__all__ = ["CircuitBreakerManager", "FallbackHandler", "HealthMonitor", "RetryPolicy"]

log = logging.getLogger("cbreaker")

_OPEN = ("open", "forced_open")


class CircuitBreakerManager:
    """A registry of named breakers. ``defaults`` are the keywords new breakers get."""

    def __init__(self, **defaults: Any) -> None:
        self.defaults = defaults
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()  # registration only; never held during a call

    @classmethod
    def from_env(
        cls, *, environ: Optional[Mapping[str, str]] = None, **defaults: Any
    ) -> CircuitBreakerManager:
        """A manager whose new breakers read the ``CIRCUIT_BREAKER_*`` variables."""
        from ._env import breaker_env

        return cls(**{**breaker_env(environ), **defaults})

    def register_breaker(
        self, name: str, breaker: Optional[CircuitBreaker] = None, **config: Any
    ) -> CircuitBreaker:
        """Registers ``breaker`` under ``name`` (a new one from the defaults and ``config`` if
        none is given) and returns it. An existing name is replaced."""
        if breaker is None:
            breaker = CircuitBreaker(name, **{**self.defaults, **config})
        elif config:
            raise TypeError("pass either a breaker or config keywords, not both")
        with self._lock:
            self._breakers[name] = breaker
        return breaker

    def get_breaker(self, name: str) -> Optional[CircuitBreaker]:
        return self._breakers.get(name)

    def get_or_create(self, name: str, **config: Any) -> CircuitBreaker:
        """The breaker named ``name``, registering a new one if there is none."""
        with self._lock:
            b = self._breakers.get(name)
            if b is None:
                b = CircuitBreaker(name, **{**self.defaults, **config})
                self._breakers[name] = b
            return b

    def unregister_breaker(self, name: str) -> bool:
        with self._lock:
            return self._breakers.pop(name, None) is not None

    def list_names(self) -> list[str]:
        return list(self._breakers)

    def get_all_metrics(self) -> dict[str, dict[str, Any]]:
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


class RetryPolicy:
    """Retries an async call with exponential backoff: attempt ``n`` waits
    ``min(base_delay × exponential_base^(n-1), max_delay)``, times a random factor in
    [0.5, 1.0] when ``jitter``. A :class:`CircuitBreakerOpenError` is retried after exactly
    its ``retry_after`` (the core's advice, as is); it is re-raised at once when forced open,
    when ``retry_after`` is over ``max_delay``, or on the last attempt. Only ``Exception`` s
    in ``retry_on`` are retried; cancellation always propagates."""

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
        checks = (
            ("max_attempts", max_attempts, 1),
            ("base_delay", base_delay, 0),
            ("max_delay", max_delay, 0),
            ("exponential_base", exponential_base, 1),
        )
        for field, value, low in checks:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or value != value or value < low or value == float("inf"):
                raise ConfigError(f"invalid config: {field} must be ≥ {low}, got {value!r}", field)
        if not isinstance(max_attempts, int):
            raise ConfigError(
                f"invalid config: max_attempts must be an int, got {max_attempts!r}", "max_attempts"
            )
        self.max_attempts = max_attempts
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self.exponential_base = float(exponential_base)
        self.jitter = bool(jitter)
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
        """The wait after failed attempt ``attempt`` (1-based)."""
        d = min(self.base_delay * self.exponential_base ** (attempt - 1), self.max_delay)
        if self.jitter:
            d *= 0.5 + self._rng.random() / 2
        return d

    async def execute(self, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """``await fn(*args, **kwargs)``, retried; :class:`RetryExhaustedError` when every
        attempt failed."""
        last: Optional[BaseException] = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                return await fn(*args, **kwargs)
            except CircuitBreakerOpenError as e:
                ra = e.retry_after
                if ra is None or ra > self.max_delay or attempt == self.max_attempts:
                    raise
                last = e
                await self._sleep(ra)
            except self.retry_on as e:
                last = e
                if attempt == self.max_attempts:
                    break
                log.debug("retry %d/%d after %r", attempt, self.max_attempts, e)
                await self._sleep(self.delay(attempt))
        raise RetryExhaustedError(self.max_attempts, last) from last


class FallbackHandler:
    """Runs tier 1, then tier 2, then tier 3, each through its own breaker (registered in
    ``manager`` as ``"{operation_name}.tier{n}"`` on first use), skipping tiers whose circuit
    is open. With a ``retry_policy``, each tier is retried before falling back."""

    def __init__(self, manager: CircuitBreakerManager, retry_policy: Optional[RetryPolicy] = None) -> None:
        self.manager = manager
        self.retry_policy = retry_policy

    def breaker_for(self, operation_name: str, tier: int) -> CircuitBreaker:
        return self.manager.get_or_create(f"{operation_name}.tier{tier}")

    async def execute_with_fallback(
        self,
        tier1: Callable[[], Awaitable[Any]],
        tier2: Optional[Callable[[], Awaitable[Any]]] = None,
        tier3: Optional[Callable[[], Awaitable[Any]]] = None,
        operation_name: str = "operation",
    ) -> Any:
        """The first tier's result that succeeds; :class:`AllTiersFailedError` (with every
        tier's error) when none does."""
        errors: dict[str, BaseException] = {}
        for n, tier in enumerate((tier1, tier2, tier3), start=1):
            if tier is None:
                continue
            breaker = self.breaker_for(operation_name, n)
            key = breaker.name
            try:
                if self.retry_policy is not None:
                    return await self.retry_policy.execute(breaker.call, tier)
                return await breaker.call(tier)
            except CircuitBreakerOpenError as e:
                log.info("%s: tier %d skipped (circuit open)", operation_name, n)
                errors[key] = e
            except (RetryExhaustedError, Exception) as e:
                log.warning("%s: tier %d failed: %r", operation_name, n, e)
                errors[key] = e
        raise AllTiersFailedError(operation_name, errors)


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
