"""The agents platform's API: same names and signatures, env config, metrics, manager,
RetryPolicy, FallbackHandler, HealthMonitor."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

from cbreaker import (
    CircuitBreaker,
    CircuitBreakerManager,
    ConfigError,
    FallbackHandler,
    HealthMonitor,
    RetryPolicy,
)
from cbreaker.exceptions import AllTiersFailedError, CircuitBreakerOpenError, RetryExhaustedError
from conftest import FakeClock


class Boom(Exception):
    pass


async def aboom() -> None:
    raise Boom("down")


def test_platform_signature_and_defaults() -> None:
    b = CircuitBreaker("svc")
    c = b.config
    assert (c["window"], c["consecutive_failures"], c["open_duration"]) == ("consecutive", 5, 60.0)
    assert (c["half_open_max_calls"], c["success_threshold"]) == (3, 2)
    b2 = CircuitBreaker("svc", 3, 10, 2, 1)
    c2 = b2.config
    assert (c2["consecutive_failures"], c2["open_duration"], c2["half_open_max_calls"]) == (3, 10.0, 2)
    assert c2["success_threshold"] == 1
    b3 = CircuitBreaker("rate", window="count", window_size=20, minimum_calls=10)
    assert (b3.config["window"], b3.config["consecutive_failures"]) == ("count", 0)
    assert b3.name == "rate" and "rate" in repr(b3)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"failure_threshold": -1}, "failure_threshold"),
        ({"recovery_timeout": -5}, "recovery_timeout"),
        ({"recovery_timeout": float("nan")}, "recovery_timeout"),
        ({"half_open_max_calls": 40}, "half_open_max_calls"),
        ({"success_threshold": 0}, "success_threshold"),
        ({"name": 5}, "name"),
    ],
)
def test_platform_config_errors_name_the_argument(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as e:
        CircuitBreaker(**kwargs)
    assert e.value.field == field


async def test_get_metrics(clock: FakeClock) -> None:
    b = CircuitBreaker("m", failure_threshold=2, recovery_timeout=30, clock=clock)
    await b.call(lambda: 1)
    with pytest.raises(Boom):
        await b.call(aboom)
    m = b.get_metrics()
    assert m["state"] == "closed" and m["failure_count"] == 1
    assert (
        m["error_rate"] == pytest.approx(0.5) and m["time_until_retry"] is None
    )  # as the platform documents
    with pytest.raises(Boom):
        await b.call(aboom)
    clock.advance(10)
    m = b.get_metrics()
    assert (m["state"], m["time_until_retry"], m["total_calls"], m["total_failures"]) == ("open", 20.0, 3, 2)
    b.force_open()
    assert b.get_metrics()["time_until_retry"] is None
    json.dumps(m)


def test_manager() -> None:
    mgr = CircuitBreakerManager(failure_threshold=1)
    a = mgr.register_breaker("a")
    b = mgr.register_breaker("b", CircuitBreaker("b", failure_threshold=3))
    assert mgr.get_breaker("a") is a and mgr.get_breaker("b") is b and mgr.get_breaker("zz") is None
    assert a.config["consecutive_failures"] == 1 and b.config["consecutive_failures"] == 3
    assert mgr.health()["status"] == "healthy"
    with pytest.raises(Boom):
        a.call_sync(lambda: (_ for _ in ()).throw(Boom()))
    assert mgr.get_open_circuits() == ["a"]
    h = mgr.health()
    assert h["status"] == "degraded" and h["open"] == ["a"]
    assert h["breakers"]["a"]["state"] == "open" and h["breakers"]["a"]["retry_after"] > 59
    assert h["breakers"]["b"] == {"state": "closed", "retry_after": None}
    b.force_open()
    assert mgr.health()["status"] == "unhealthy"
    json.dumps(mgr.health())
    assert set(mgr.get_all_metrics()) == {"a", "b"}
    mgr.reset_all()
    assert mgr.get_open_circuits() == [] and mgr.health()["status"] == "healthy"
    assert mgr.unregister_breaker("a") and not mgr.unregister_breaker("a")
    assert mgr.list_names() == ["b"] and "b" in mgr and len(mgr) == 1
    assert mgr.get_or_create("c") is mgr.get_or_create("c")
    with pytest.raises(TypeError):
        mgr.register_breaker("d", b, failure_threshold=2)


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, d: float) -> None:
        self.waits.append(d)


async def test_retry_backoff_and_exhaustion() -> None:
    sleep = Sleeps()
    r = RetryPolicy(max_attempts=4, base_delay=1, max_delay=5, exponential_base=3, jitter=False, sleep=sleep)
    attempts = 0

    async def flaky() -> str:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise Boom()
        return "ok"

    assert await r.execute(flaky) == "ok"
    assert sleep.waits == [1, 3]
    sleep.waits.clear()
    with pytest.raises(RetryExhaustedError) as e:
        await r.execute(aboom)
    assert sleep.waits == [1, 3, 5]
    assert e.value.attempts == 4 and isinstance(e.value.last_exception, Boom)
    assert isinstance(e.value.__cause__, Boom)


async def test_retry_jitter_is_bounded() -> None:
    r = RetryPolicy(base_delay=2, jitter=True, rng=random.Random(7))
    ds = [r.delay(1) for _ in range(200)]
    assert all(1.0 <= d <= 2.0 for d in ds) and len(set(ds)) > 100


async def test_retry_waits_for_retry_after(clock: FakeClock) -> None:
    sleep = Sleeps()
    b = CircuitBreaker(
        "r", failure_threshold=1, recovery_timeout=2, half_open_max_calls=1, success_threshold=1, clock=clock
    )
    with pytest.raises(Boom):
        await b.call(aboom)

    async def advancing(d: float) -> None:
        await sleep(d)
        clock.advance(d)

    r = RetryPolicy(max_attempts=3, base_delay=0.1, jitter=False, sleep=advancing)
    assert await r.execute(b.call, lambda: "back") == "back"
    assert sleep.waits == [2.0]  # not 0.1: never before retry_after
    # Forced open (no deadline) and a retry_after past max_delay are re-raised at once.
    b.force_open()
    sleep.waits.clear()
    with pytest.raises(CircuitBreakerOpenError):
        await r.execute(b.call, lambda: 1)
    long = CircuitBreaker("l", failure_threshold=1, recovery_timeout=600, clock=clock)
    with pytest.raises(Boom):
        await long.call(aboom)
    with pytest.raises(CircuitBreakerOpenError):
        await r.execute(long.call, lambda: 1)
    assert sleep.waits == []


async def test_retry_never_retries_cancellation() -> None:
    sleep = Sleeps()
    r = RetryPolicy(sleep=sleep)

    async def cancelled() -> None:
        raise asyncio.CancelledError()

    with pytest.raises(asyncio.CancelledError):
        await r.execute(cancelled)
    assert sleep.waits == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 1.5}, "max_attempts"),
        ({"base_delay": -1}, "base_delay"),
        ({"max_delay": float("inf")}, "max_delay"),
        ({"exponential_base": 0.5}, "exponential_base"),
    ],
)
def test_retry_config_errors(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as e:
        RetryPolicy(**kwargs)
    assert e.value.field == field


async def test_fallback_tiers_skip_open_circuits(clock: FakeClock) -> None:
    mgr = CircuitBreakerManager(failure_threshold=2, recovery_timeout=30, clock=clock)
    h = FallbackHandler(mgr)
    hits: list[str] = []

    async def t1() -> str:
        hits.append("t1")
        raise Boom("tier1 down")

    async def t2() -> str:
        hits.append("t2")
        return "from t2"

    async def t3() -> str:
        hits.append("t3")
        return "from t3"

    for _ in range(3):
        assert await h.execute_with_fallback(t1, t2, t3, "search") == "from t2"
    assert hits == ["t1", "t2", "t1", "t2", "t2"]  # third time tier 1 is open: skipped
    assert mgr.get_open_circuits() == ["search.tier1"]
    with pytest.raises(AllTiersFailedError) as e:
        await h.execute_with_fallback(t1, aboom, aboom, "search")
    assert list(e.value.errors) == ["search.tier1", "search.tier2", "search.tier3"]
    assert isinstance(e.value.errors["search.tier1"], CircuitBreakerOpenError)
    assert isinstance(e.value.errors["search.tier2"], Boom)
    assert e.value.operation_name == "search"


async def test_fallback_with_retry_policy(clock: FakeClock) -> None:
    mgr = CircuitBreakerManager(failure_threshold=10, clock=clock)
    sleep = Sleeps()
    h = FallbackHandler(mgr, RetryPolicy(max_attempts=2, jitter=False, sleep=sleep))
    with pytest.raises(AllTiersFailedError) as e:
        await h.execute_with_fallback(aboom, None, aboom, "op")
    assert [type(x) for x in e.value.errors.values()] == [RetryExhaustedError, RetryExhaustedError]
    assert sleep.waits == [1.0, 1.0]
    assert mgr.get_breaker("op.tier1").snapshot()["failures"] == 2  # type: ignore[union-attr]


class Client:
    def __init__(self, healthy: bool | Exception) -> None:
        self.result = healthy

    async def health_check(self) -> bool:
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


async def test_health_monitor() -> None:
    hanging = asyncio.Event()

    async def slow_check() -> bool:
        await hanging.wait()
        return True

    mon = HealthMonitor(
        mcp_client=Client(True),
        sdk_client=Client(ConnectionError("refused")),
        rest_client=lambda: True,
        check_interval=0.01,
        timeout=0.05,
        cache=slow_check,
    )
    assert mon.get_health_status() == {"overall": "unknown", "clients": {}}
    await mon.start_monitoring()
    await mon.start_monitoring()  # idempotent
    assert mon.is_monitoring
    for _ in range(200):
        await asyncio.sleep(0.01)
        if mon.get_health_status()["clients"]:
            break
    st = mon.get_health_status()
    await mon.stop_monitoring()
    assert not mon.is_monitoring
    assert st["overall"] == "degraded"
    c = st["clients"]
    assert c["mcp"]["healthy"] and c["rest"]["healthy"]
    assert not c["sdk"]["healthy"] and "refused" in c["sdk"]["error"]
    assert not c["cache"]["healthy"] and "Timeout" in c["cache"]["error"]
    mon2 = HealthMonitor(a=Client(False))
    assert (await mon2.check_all())["overall"] == "unhealthy"
    with pytest.raises(ConfigError):
        HealthMonitor(check_interval=0)


ENV = {
    "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "7",
    "CIRCUIT_BREAKER_RECOVERY_TIMEOUT": "12.5",
    "CIRCUIT_BREAKER_HALF_OPEN_CALLS": "4",
    "CIRCUIT_BREAKER_SUCCESS_THRESHOLD": "3",
    "MAX_RETRY_ATTEMPTS": "5",
    "RETRY_BASE_DELAY": "0.5",
    "RETRY_MAX_DELAY": "9",
    "RETRY_EXPONENTIAL_BASE": "1.5",
    "RETRY_JITTER_ENABLED": "false",
    "HEALTH_CHECK_INTERVAL": "15",
    "HEALTH_CHECK_TIMEOUT": "2",
}


def test_from_env_reads_every_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    c = CircuitBreaker.from_env("svc").config
    assert (
        c["consecutive_failures"],
        c["open_duration"],
        c["half_open_max_calls"],
        c["success_threshold"],
    ) == (
        7,
        12.5,
        4,
        3,
    )
    r = RetryPolicy.from_env()
    assert (r.max_attempts, r.base_delay, r.max_delay, r.exponential_base, r.jitter) == (
        5,
        0.5,
        9.0,
        1.5,
        False,
    )
    m = HealthMonitor.from_env(x=lambda: True)
    assert (m.check_interval, m.timeout) == (15.0, 2.0)
    assert CircuitBreakerManager.from_env().register_breaker("z").config["consecutive_failures"] == 7


def test_from_env_defaults() -> None:
    c = CircuitBreaker.from_env("svc", environ={}).config
    assert (
        c["consecutive_failures"],
        c["open_duration"],
        c["half_open_max_calls"],
        c["success_threshold"],
    ) == (
        5,
        60.0,
        3,
        2,
    )
    r = RetryPolicy.from_env(environ={})
    assert (r.max_attempts, r.base_delay, r.max_delay, r.exponential_base, r.jitter) == (
        3,
        1.0,
        60.0,
        2.0,
        True,
    )
    m = HealthMonitor.from_env(environ={})
    assert (m.check_interval, m.timeout) == (30.0, 10.0)


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("CIRCUIT_BREAKER_FAILURE_THRESHOLD", "five"),
        ("CIRCUIT_BREAKER_FAILURE_THRESHOLD", "0"),
        ("CIRCUIT_BREAKER_RECOVERY_TIMEOUT", "-1"),
        ("CIRCUIT_BREAKER_RECOVERY_TIMEOUT", "nan"),
        ("CIRCUIT_BREAKER_HALF_OPEN_CALLS", "99"),
        ("CIRCUIT_BREAKER_SUCCESS_THRESHOLD", "2.5"),
        ("MAX_RETRY_ATTEMPTS", "0"),
        ("RETRY_BASE_DELAY", "soon"),
        ("RETRY_MAX_DELAY", "inf"),
        ("RETRY_EXPONENTIAL_BASE", "0.5"),
        ("RETRY_JITTER_ENABLED", "maybe"),
        ("HEALTH_CHECK_INTERVAL", "0"),
        ("HEALTH_CHECK_TIMEOUT", "x"),
    ],
)
def test_from_env_bad_values_name_the_variable(var: str, value: str) -> None:
    env = {var: value}
    with pytest.raises(ConfigError) as e:
        if var.startswith("CIRCUIT"):
            CircuitBreaker.from_env("svc", environ=env)
        elif var.startswith("HEALTH"):
            HealthMonitor.from_env(environ=env)
        else:
            RetryPolicy.from_env(environ=env)
    assert e.value.field == var and var in str(e.value)


def test_health_uses_the_cores_rule(clock: FakeClock) -> None:
    """Half-open is not healthy: the group is degraded while one breaker probes."""
    mgr = CircuitBreakerManager(clock=clock)
    a, b = mgr.register_breaker("a"), mgr.register_breaker("b")
    a.half_open()
    h = mgr.health()
    assert (h["status"], h["open"]) == ("degraded", [])
    b.trip()
    assert mgr.health()["status"] == "unhealthy"
    a.reset()
    b.force_closed()
    assert mgr.health()["status"] == "healthy"


async def test_retry_uses_the_advice_as_is(clock: FakeClock) -> None:
    sleep = Sleeps()
    b = CircuitBreaker("r", failure_threshold=1, recovery_timeout=2, half_open_max_calls=1, clock=clock)
    with pytest.raises(Boom):
        await b.call(aboom)

    async def advancing(d: float) -> None:
        await sleep(d)
        clock.advance(d)

    r = RetryPolicy(max_attempts=3, base_delay=5, max_delay=10, jitter=False, sleep=advancing)
    assert await r.execute(b.call, lambda: "back") == "back"
    assert sleep.waits == [2.0]  # the core's advice, not the (longer) backoff
    # Half-open with every probe slot taken: the core advises at most a second.
    b.half_open()
    probe = b.acquire_or_raise()
    sleep.waits.clear()
    with pytest.raises(CircuitBreakerOpenError) as e:
        await RetryPolicy(max_attempts=2, jitter=False, sleep=sleep).execute(b.call, lambda: 1)
    assert e.value.reason == "half_open_full" and sleep.waits == [1.0]
    probe.record_success()


def test_env_defaults_are_the_agents_platform_preset() -> None:
    from cbreaker import NativeCircuitBreaker

    preset = NativeCircuitBreaker(preset="agents_platform").config
    assert CircuitBreaker.from_env("svc", environ={}).config == preset
    env = {"CIRCUIT_BREAKER_FAILURE_THRESHOLD": "7"}
    assert CircuitBreaker.from_env("svc", environ=env).config == {**preset, "consecutive_failures": 7}
    b = CircuitBreaker.from_env("svc", environ=env, failure_threshold=3)  # an override wins
    assert b.config["consecutive_failures"] == 3
