"""Real HTTP: three aiohttp servers on 127.0.0.1 as tiers 1/2/3, an httpx client through
FallbackHandler + RetryPolicy + breakers. Tier 1 fails, trips, is skipped, recovers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from aiohttp import web

from cbreaker import CircuitBreakerManager, FallbackHandler, RetryPolicy
from cbreaker.exceptions import AllTiersFailedError

pytestmark = pytest.mark.integration


@dataclass
class Tier:
    name: str
    failing: bool = False
    hits: int = 0
    url: str = ""
    runner: web.AppRunner | None = field(default=None, repr=False)

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        if self.failing:
            return web.Response(status=503, text=f"{self.name} down")
        return web.json_response({"tier": self.name})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/search", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        await web.SockSite(self.runner, sock).start()
        self.url = f"http://127.0.0.1:{port}/search"


@pytest.fixture
async def tiers() -> AsyncIterator[list[Tier]]:
    ts = [Tier("tier1"), Tier("tier2"), Tier("tier3")]
    for t in ts:
        await t.start()
    yield ts
    for t in ts:
        assert t.runner is not None
        await t.runner.cleanup()


async def test_fallback_trip_and_recovery_over_real_http(tiers: list[Tier]) -> None:
    t1, t2, t3 = tiers
    recovery = 1.0  # generous: the skip rounds below must all happen while tier 1 is open
    manager = CircuitBreakerManager(
        failure_threshold=2, recovery_timeout=recovery, half_open_max_calls=1, success_threshold=1, timeout=5
    )
    retry = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05, jitter=False)
    handler = FallbackHandler(manager, retry)
    transitions: list[str] = []

    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:

        def tier(t: Tier):  # type: ignore[no-untyped-def]
            async def call() -> str:
                r = await client.get(t.url, params={"q": "rust"})
                r.raise_for_status()
                return str(r.json()["tier"])

            return call

        async def search() -> str:
            return str(await handler.execute_with_fallback(tier(t1), tier(t2), tier(t3), "search"))

        # Healthy: tier 1 answers.
        assert await search() == "tier1"
        manager.get_breaker("search.tier1").add_listener(  # type: ignore[union-attr]
            "on_state_change", lambda b, t: transitions.append(str(t))
        )

        # Tier 1 fails: two attempts (the retry), the breaker trips, tier 2 answers.
        t1.failing = True
        assert await search() == "tier2"
        assert t1.hits == 3 and transitions == ["closed->open"]
        assert manager.get_open_circuits() == ["search.tier1"]

        # Open: tier 1 is skipped without a request (retry_after > max_delay: no retry wait).
        for _ in range(3):
            assert await search() == "tier2"
        assert t1.hits == 3 and t2.hits == 4

        # Tier 2 fails too: tier 3 answers.
        t2.failing = True
        assert await search() == "tier3"
        t2.failing = False

        # Tier 1 recovers; after recovery_timeout one probe closes the circuit.
        t1.failing = False
        await asyncio.sleep(recovery + 0.05)
        assert await search() == "tier1"
        assert transitions == ["closed->open", "open->half_open", "half_open->closed"]
        assert manager.get_open_circuits() == []

        # Every tier down: AllTiersFailedError names each; tier 1 trips again.
        for t in tiers:
            t.failing = True
        with pytest.raises(AllTiersFailedError) as e:
            await search()
        assert set(e.value.errors) == {"search.tier1", "search.tier2", "search.tier3"}
        assert transitions[3:] == ["closed->open"]

    m = manager.get_all_metrics()
    m1 = m["search.tier1"]
    # 2 successes; 2 + 2 failures (two trips); 4 rounds skipped while open.
    assert (m1["total_successes"], m1["total_failures"], m1["rejected_calls"]) == (2, 4, 4)
    assert m1["state"] == "open" and m1["transitions"]["open"] == 2 and m1["transitions"]["closed"] == 1
    m2 = m["search.tier2"]
    # 4 answers; 2 failures tripped it, then its half-open probe failed in the all-down round.
    assert (m2["total_successes"], m2["total_failures"], m2["state"]) == (4, 3, "open")
    assert m2["transitions"]["half_open"] == 1
    assert (m["search.tier3"]["total_successes"], m["search.tier3"]["total_failures"]) == (1, 2)
    assert manager.health()["status"] == "unhealthy"
    assert sorted(manager.get_open_circuits()) == ["search.tier1", "search.tier2", "search.tier3"]


async def test_health_endpoint_serves_manager_health(tiers: list[Tier]) -> None:
    """The docs' minimal /health/circuit-breaker app, served for real."""
    manager = CircuitBreakerManager(failure_threshold=1)
    manager.register_breaker("payments")
    manager.register_breaker("search").force_open()

    async def health(request: web.Request) -> web.Response:
        h = manager.health()
        return web.json_response(h, status=200 if h["status"] != "unhealthy" else 503)

    app = web.Application()
    app.router.add_get("/health/circuit-breaker", health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    try:
        async with httpx.AsyncClient(trust_env=False) as client:
            r = await client.get(f"http://127.0.0.1:{sock.getsockname()[1]}/health/circuit-breaker")
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == "degraded" and body["open"] == ["search"]
        assert body["breakers"]["search"] == {"state": "forced_open", "retry_after": None}
        assert body["breakers"]["payments"]["state"] == "closed"
    finally:
        await runner.cleanup()
