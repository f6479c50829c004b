"""The agents platform's Quick Start as published (its resilience README) and the usage
examples of its implementation summary, with only the import line changed; then one test per
bullet of issue 14's stall-run list."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, Callable

import aiohttp
import pytest

from cbreaker import (  # was: from src.resilience import (...)
    CircuitBreaker,
    CircuitBreakerManager,
    ConfigError,
    FallbackHandler,
    HealthMonitor,
    RetryPolicy,
)
from cbreaker.exceptions import (  # was: from src.resilience.exceptions import (...)
    AllTiersFailedError,
    CircuitBreakerOpenError,
    RetryExhaustedError,
)
from conftest import FakeClock


class Client:
    """A tier's client: `get_account` fails while `down`."""

    def __init__(self, name: str, down: bool = False) -> None:
        self.name, self.down, self.calls = name, down, 0

    async def get_account(self, account_id: str) -> dict[str, str]:
        self.calls += 1
        if self.down:
            raise ConnectionError(f"{self.name} unreachable")
        return {"id": account_id, "via": self.name}

    async def health_check(self) -> bool:
        return not self.down


async def test_quick_start_as_published() -> None:
    mcp_client, sdk_client, rest_client = Client("mcp", down=True), Client("sdk"), Client("rest")

    # ---- the README's Quick Start, verbatim below the import ----
    # Setup
    manager = CircuitBreakerManager()
    manager.register_breaker("tier1_mcp", failure_threshold=5)
    manager.register_breaker("tier2_sdk", failure_threshold=5)
    manager.register_breaker("tier3_rest", failure_threshold=5)

    handler = FallbackHandler(manager)
    retry = RetryPolicy(max_attempts=3, base_delay=1.0)

    # Use with automatic fallback
    async def get_account(account_id):  # type: ignore[no-untyped-def]
        async def tier1():  # type: ignore[no-untyped-def]
            return await mcp_client.get_account(account_id)

        async def tier2():  # type: ignore[no-untyped-def]
            return await sdk_client.get_account(account_id)

        async def tier3():  # type: ignore[no-untyped-def]
            return await rest_client.get_account(account_id)

        return await handler.execute_with_fallback(tier1, tier2, tier3, "get_account")

    # ---- end of the Quick Start ----
    for i in range(8):
        assert await get_account(f"a{i}") == {"id": f"a{i}", "via": "sdk"}
    # The registered breakers guard the tiers: threshold 5 applies to tier1_mcp.
    assert manager.list_names() == ["tier1_mcp", "tier2_sdk", "tier3_rest"]
    assert mcp_client.calls == 5 and sdk_client.calls == 8 and rest_client.calls == 0
    assert manager.get_open_circuits() == ["tier1_mcp"]
    # The README's metrics, in its shape.
    metrics = manager.get_breaker("tier2_sdk").get_metrics()  # type: ignore[union-attr]
    assert {k: metrics[k] for k in ("state", "failure_count", "error_rate", "time_until_retry")} == {  # type: ignore[literal-required]
        "state": "closed",
        "failure_count": 0,
        "error_rate": 0.0,
        "time_until_retry": None,
    }
    all_metrics = manager.get_all_metrics()
    assert [f"{name}: {m['state']}" for name, m in all_metrics.items()] == [
        "tier1_mcp: open",
        "tier2_sdk: closed",
        "tier3_rest: closed",
    ]
    assert 0 < all_metrics["tier1_mcp"]["time_until_retry"] <= 60  # type: ignore[operator]
    # The README's error handling, as written.
    sdk_client.down = rest_client.down = True
    try:
        await handler.execute_with_fallback(get_account, get_account, get_account, "op")  # type: ignore[arg-type]
    except CircuitBreakerOpenError:
        pytest.fail("a refused tier hands over; the handler raises AllTiersFailedError")
    except AllTiersFailedError as e:
        assert set(e.errors) == {"tier1_mcp", "tier2_sdk", "tier3_rest"}
    except RetryExhaustedError:
        pytest.fail("no retry policy was given")
    del retry


async def test_usage_examples_as_published() -> None:
    mcp, sdk, rest = Client("mcp"), Client("sdk"), Client("rest")

    async def api_call() -> dict[str, str]:
        return await mcp.get_account("42")

    # Basic Circuit Breaker
    breaker = CircuitBreaker(name="zoho_mcp", failure_threshold=5, recovery_timeout=60)

    async def fetch_data() -> dict[str, str]:
        return await breaker.call(api_call)

    assert await fetch_data() == {"id": "42", "via": "mcp"}

    # Multi-Tier Fallback (no options: the registered breakers still guard the tiers)
    manager = CircuitBreakerManager()
    manager.register_breaker("tier1_mcp")
    manager.register_breaker("tier2_sdk")
    manager.register_breaker("tier3_rest")
    handler = FallbackHandler(manager)

    async def tier1_func() -> dict[str, str]:
        return await mcp.get_account("7")

    async def tier2_func() -> dict[str, str]:
        return await sdk.get_account("7")

    async def tier3_func() -> dict[str, str]:
        return await rest.get_account("7")

    async def get_account(account_id: str) -> dict[str, str]:
        return await handler.execute_with_fallback(tier1_func, tier2_func, tier3_func, "get_account")

    assert (await get_account("7"))["via"] == "mcp"
    assert manager.get_breaker("tier1_mcp").get_metrics()["total_calls"] == 1  # type: ignore[union-attr]

    # Retry with Circuit Breaker
    retry = RetryPolicy(max_attempts=3, base_delay=1.0, jitter=True)

    async def resilient_call() -> dict[str, str]:
        return await retry.execute(lambda: breaker.call(api_call))

    assert (await resilient_call())["id"] == "42"

    # Health Monitoring
    monitor = HealthMonitor(mcp_client=mcp, sdk_client=sdk, rest_client=rest, check_interval=30)
    await monitor.start_monitoring()
    for _ in range(100):
        if monitor.get_health_status()["overall"] != "unknown":
            break
        await asyncio.sleep(0.01)
    health = monitor.get_health_status()
    await monitor.stop_monitoring()
    assert health["overall"] == "healthy" and set(health["clients"]) == {"mcp", "sdk", "rest"}


def test_tier_breakers_by_name_and_ambiguity() -> None:
    manager = CircuitBreakerManager()
    handler = FallbackHandler(manager)
    assert handler.breaker_for("op", 1).name == "op.tier1"  # nothing registered: per operation
    manager.register_breaker("tier1_mcp")
    assert handler.breaker_for("op", 1).name == "tier1_mcp"  # registered later: found
    manager.register_breaker("tier1_backup")
    with pytest.raises(ConfigError) as e:
        handler.breaker_for("op", 1)
    assert e.value.field == "tiers" and "tier1_backup" in str(e.value)
    named = FallbackHandler(manager, tiers=("tier1_backup", None, "rest"))
    assert [named.breaker_for("op", n).name for n in (1, 2, 3)] == ["tier1_backup", "op.tier2", "rest"]
    assert FallbackHandler(manager, tiers={2: "tier1_mcp"}).breaker_for("x", 2).name == "tier1_mcp"
    for bad in ("tier1_mcp", {4: "x"}, {1: ""}):
        with pytest.raises(ConfigError):
            FallbackHandler(manager, tiers=bad)  # type: ignore[arg-type]


# ---- the stall-run list ------------------------------------------------------------------------


APPS = Path(__file__).parent / "apps"


@pytest.fixture
def three_tiers() -> Iterator[list[str]]:
    """Tier 1 answers 503, tiers 2 and 3 answer 200: three aiohttp servers on 127.0.0.1 in a
    process of their own (so the client's latency is not the servers' CPU)."""
    proc = subprocess.Popen(
        [sys.executable, str(APPS / "tier_server.py"), "503", "200", "200"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ports = json.loads(proc.stdout.readline())
        yield [f"http://127.0.0.1:{p}/" for p in ports]
    finally:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.close()
        proc.wait(timeout=10)
        proc.stdout.close()


async def _load(request: Callable[[], Awaitable[Any]], n: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            start = time.perf_counter()
            await request()
            latencies.append(time.perf_counter() - start)

    await asyncio.wait_for(asyncio.gather(*(one() for _ in range(n))), 60)
    return sorted(latencies)


def _p(latencies: list[float], q: float) -> float:
    return latencies[min(len(latencies) - 1, int(len(latencies) * q))]


@pytest.mark.integration
async def test_a_refused_tier_hands_over_at_once_under_concurrency(three_tiers: list[str]) -> None:
    """Three local aiohttp tiers, 1,000 requests at concurrency 50, tier 1 open, the documented
    config (RetryPolicy 3 attempts, max_delay 60): tier 2 answers with no wait, as fast as
    calling tier 2 directly."""
    t1, t2, t3 = three_tiers
    manager = CircuitBreakerManager(failure_threshold=5, recovery_timeout=60, half_open_max_calls=3)
    for name in ("tier1_mcp", "tier2_sdk", "tier3_rest"):
        manager.register_breaker(name)
    slept: list[float] = []

    async def sleep(d: float) -> None:
        slept.append(d)
        await asyncio.sleep(d)

    handler = FallbackHandler(
        manager, RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=60.0, sleep=sleep)
    )
    manager.get_breaker("tier1_mcp").trip()  # type: ignore[union-attr]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=60)) as http:

        def tier(url: str) -> Callable[[], Awaitable[Any]]:
            async def call() -> Any:
                async with http.get(url) as r:
                    r.raise_for_status()
                    return await r.json()

            return call

        async def through_the_handler() -> None:
            assert await handler.execute_with_fallback(tier(t1), tier(t2), tier(t3), "search") == {
                "tier": "tier2"
            }

        await _load(tier(t2), 100, 50)  # warm the connections
        direct = await _load(tier(t2), 1000, 50)
        handled = await _load(through_the_handler, 1000, 50)
        async with http.get(t1 + "hits") as r:
            t1_hits = (await r.json())["hits"]
    print(
        f"\nfallback, tier 1 open, 1000 requests at concurrency 50: p50 {_p(handled, 0.5) * 1e3:.1f} ms, "
        f"p99 {_p(handled, 0.99) * 1e3:.1f} ms (tier 2 called directly: p50 {_p(direct, 0.5) * 1e3:.1f} ms, "
        f"p99 {_p(direct, 0.99) * 1e3:.1f} ms)"
    )
    assert slept == [] and t1_hits == 0
    tier2 = manager.get_breaker("tier2_sdk").get_metrics()  # type: ignore[union-attr]
    assert (
        tier2["total_successes"] == 1000
        and manager.get_breaker("tier1_mcp").get_metrics()["rejected_calls"] == 1000
    )  # type: ignore[union-attr]
    # No wait for tier 1's retry_after (60 s): tier 2's own latency, give or take the load.
    assert _p(handled, 0.99) < 3 * _p(direct, 0.99) + 0.25


async def test_all_tiers_failed_keeps_the_real_error_chained(clock: FakeClock) -> None:
    manager = CircuitBreakerManager(failure_threshold=2, clock=clock)
    manager.register_breaker("tier1_mcp")
    manager.register_breaker("tier2_sdk")
    slept: list[float] = []

    async def sleep(d: float) -> None:
        slept.append(d)

    policy = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=10, jitter=False, sleep=sleep)
    handler = FallbackHandler(manager, policy)
    refused = ConnectionError("mcp refused the connection")

    async def tier1() -> str:
        raise refused

    async def tier2() -> str:
        raise LookupError("sdk: no such account")

    with pytest.raises(AllTiersFailedError) as e:
        await handler.execute_with_fallback(tier1, tier2, None, "get_account")
    # Each tier failed twice, which opened it: its error is its own, not the refusal.
    assert e.value.errors["tier1_mcp"] is refused
    assert isinstance(e.value.errors["tier2_sdk"], LookupError)
    assert e.value.__cause__ is e.value.errors["tier2_sdk"]
    # One backoff per tier, then the open circuit ends it at once: tier 1 hands over; tier 2,
    # the last, could wait for its breaker only within max_delay (60 s > 10 s).
    assert slept == [0.5, 0.5]


async def test_skipped_tiers_log_at_debug_only(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    manager = CircuitBreakerManager(clock=clock)
    manager.register_breaker("tier1_mcp").force_open()
    handler = FallbackHandler(manager)

    async def ok() -> str:
        return "ok"

    with caplog.at_level(logging.INFO, logger="cbreaker"):
        for _ in range(50):
            assert await handler.execute_with_fallback(ok, ok, None, "op") == "ok"
    assert [r for r in caplog.records if "skipped" in r.getMessage()] == []
    with caplog.at_level(logging.DEBUG, logger="cbreaker"):
        await handler.execute_with_fallback(ok, ok, None, "op")
    assert [r.levelno for r in caplog.records if "skipped" in r.getMessage()] == [logging.DEBUG]


async def test_half_open_is_not_healthy(clock: FakeClock) -> None:
    manager = CircuitBreakerManager(
        failure_threshold=1, recovery_timeout=1, half_open_max_calls=1, success_threshold=1, clock=clock
    )
    a = manager.register_breaker("tier1_mcp")
    with pytest.raises(ConnectionError):
        await a.call(Client("mcp", down=True).get_account, "1")
    clock.advance(1)
    assert a.state == "half_open" and a.health() == "unhealthy"  # no probe has succeeded yet
    assert manager.health()["status"] == "unhealthy"
    probe = a.acquire_or_raise()  # every probe slot taken: calls are refused
    with pytest.raises(CircuitBreakerOpenError) as e:
        await a.call(Client("mcp").get_account, "1")
    assert e.value.reason == "half_open_full" and manager.health()["status"] == "unhealthy"
    manager.register_breaker("tier2_sdk")
    assert manager.health()["status"] == "degraded"
    probe.record_success()
    assert manager.health()["status"] == "healthy"


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: CircuitBreakerManager(failure_treshold=3), "failure_treshold"),  # type: ignore[call-arg]
        (lambda: CircuitBreakerManager(failure_threshold=-1), "failure_threshold"),
        (lambda: CircuitBreakerManager(recovery_timeout="60"), "recovery_timeout"),  # type: ignore[arg-type]
        (lambda: CircuitBreaker("x", failure_treshold=3), "failure_treshold"),  # type: ignore[call-arg]
        (lambda: RetryPolicy(jitter="no"), "jitter"),  # type: ignore[arg-type]
        (lambda: RetryPolicy(max_attempts=True), "max_attempts"),
        (lambda: RetryPolicy(retry_on=ValueError), "retry_on"),  # type: ignore[arg-type]
        (lambda: CircuitBreakerManager(shared_memory="a/b"), "shared_memory"),
    ],
)
def test_bad_input_is_refused_at_construction(make: Any, field: str) -> None:
    with pytest.raises(ConfigError) as e:
        make()
    assert e.value.field == field and field in str(e.value)


def test_a_misspelt_option_says_what_was_meant() -> None:
    with pytest.raises(ConfigError) as e:
        CircuitBreakerManager(failure_treshold=3)  # type: ignore[call-arg]
    assert isinstance(e.value, TypeError) and "did you mean 'failure_threshold'" in str(e.value)


@pytest.mark.parametrize("value", ["1_000", "１０", "٣", "1_0.5", " 1e_3", "0x10"])
def test_env_numbers_are_plain_ascii(value: str) -> None:
    for var in ("CIRCUIT_BREAKER_FAILURE_THRESHOLD", "RETRY_BASE_DELAY"):
        with pytest.raises(ConfigError) as e:
            if var.startswith("CIRCUIT"):
                CircuitBreakerManager.from_env(environ={var: value})
            else:
                RetryPolicy.from_env(environ={var: value})
        assert e.value.field == var


async def test_a_predicate_that_raises_is_reported(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(exc: BaseException) -> bool:
        raise RuntimeError("predicate bug")

    b = CircuitBreaker("p", failure_threshold=1, exclude=[broken], clock=clock)

    async def fail() -> None:
        raise KeyError("k")

    with caplog.at_level(logging.ERROR, logger="cbreaker"), pytest.raises(KeyError):
        await b.call(fail)  # the call's own error stands
    assert b.state == "open"  # counted as a failure: the predicate could not say otherwise
    (record,) = [r for r in caplog.records if "exclude= predicate" in r.getMessage()]
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)


async def test_many_attempts_with_no_delay_do_not_overflow() -> None:
    policy = RetryPolicy(max_attempts=1100, base_delay=0, max_delay=0)
    calls = 0

    async def fail() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError

    with pytest.raises(RetryExhaustedError) as e:
        await policy.execute(fail)
    assert calls == 1100 and e.value.attempts == 1100
    assert RetryPolicy(max_attempts=5000, base_delay=1, max_delay=30, jitter=False).delay(4999) == 30


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is 3.11+")
async def test_an_outer_timeout_is_a_cancellation_the_breakers_own_is_a_failure(clock: FakeClock) -> None:
    async def hang() -> None:
        await asyncio.sleep(10)

    outer = CircuitBreaker("outer", failure_threshold=1, clock=clock)
    for _ in range(3):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01):  # type: ignore[attr-defined]
                await outer.call(hang)
    assert outer.state == "closed" and outer.snapshot()["ignored"] == 3  # a hang never trips it
    own = CircuitBreaker("own", failure_threshold=1, timeout=0.01, clock=clock)
    with pytest.raises(TimeoutError):
        await own.call(hang)
    assert own.state == "open"  # the breaker's own timeout= is a failure
