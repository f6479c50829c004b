"""One breaker for a host's worker processes: `CircuitBreaker(..., shared_memory="name")`.

The end-to-end test runs a real `uvicorn --workers 4` app (tests/apps/shm_app.py) on
127.0.0.1 in front of a failing upstream (aiohttp, in this process) and counts what the
upstream sees: with the breaker in shared memory, exactly the calls one process would allow
before the trip, and at most `half_open_max_calls` probes per recovery across all workers;
then the same app with a breaker per worker, for comparison. A worker killed with SIGKILL while
holding the only probe is reclaimed after `half_open_max_wait`. Every loop is bounded."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

import cbreaker
from cbreaker import CircuitBreaker, CircuitBreakerError, ConfigError, NativeCircuitBreaker

APPS = Path(__file__).parent / "apps"


@pytest.fixture
def segment() -> Iterator[str]:
    name = f"test-{os.getpid()}-{time.monotonic_ns()}"
    yield name
    for suffix in ("", ".payments", ".probe"):
        cbreaker.unlink_shared_memory(name + suffix)


def test_processes_share_one_breaker(segment: str) -> None:
    a = CircuitBreaker("a", failure_threshold=3, shared_memory=segment)
    assert a.shared_memory == segment and a.shared_memory_created
    assert Path(cbreaker.shared_memory_path(segment)).stat().st_size > 1000
    # Another process attaches, fails three times: the trip is seen here.
    script = (
        "import cbreaker, sys\n"
        f"b = cbreaker.CircuitBreaker('b', failure_threshold=3, shared_memory={segment!r})\n"
        "assert not b.shared_memory_created\n"
        "for _ in range(3):\n"
        "    p = b.acquire_or_raise(); t = p.record_failure()\n"
        "print(t)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "closed->open", out.stderr
    assert a.state == "open" and a.snapshot()["failures"] == 3
    assert a.get_metrics()["time_until_retry"] is not None and a.health() == "unhealthy"
    a.reset()
    assert CircuitBreaker("c", failure_threshold=3, shared_memory=segment).state == "closed"


def test_bad_segments_are_clear_errors(segment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    CircuitBreaker("a", failure_threshold=3, shared_memory=segment)
    with pytest.raises(ConfigError) as e:  # another config than the segment's
        CircuitBreaker("a", failure_threshold=4, shared_memory=segment)
    assert e.value.field == "failure_threshold" and "consecutive_failures=3" in str(e.value)
    with pytest.raises(ConfigError) as e:
        NativeCircuitBreaker(shared_memory=segment, window_size=10)
    assert e.value.field == "window"
    for bad in ("a/b", "", ".hidden", "x" * 201, "sp ace"):
        with pytest.raises(ConfigError) as e:
            CircuitBreaker("x", shared_memory=bad)
        assert e.value.field == "shared_memory"
    with pytest.raises(ConfigError) as e:
        NativeCircuitBreaker(shared_memory=segment, clock=lambda: 0)
    assert e.value.field == "clock"
    monkeypatch.setenv("CBREAKER_SHM_DIR", str(tmp_path))
    # Another layout or version: a file of another size, or the right size with another
    # fingerprint; a creator that died before finishing.
    (tmp_path / "cbreaker.small").write_bytes(b"\0" * 64)
    good = CircuitBreaker("g", shared_memory="good")
    full = (tmp_path / "cbreaker.good").read_bytes()
    (tmp_path / "cbreaker.other").write_bytes(b"\x07" * 4 + full[4:])
    (tmp_path / "cbreaker.unfinished").write_bytes(b"\0" * len(full))
    for name, words in (
        ("small", "64 bytes"),
        ("other", "another version"),
        ("unfinished", "never finished"),
    ):
        with pytest.raises(CircuitBreakerError) as err:
            CircuitBreaker("x", shared_memory=name)
        assert not isinstance(err.value, ConfigError) and words in str(err.value), str(err.value)
    assert good.state == "closed"
    assert cbreaker.unlink_shared_memory("good") and not cbreaker.unlink_shared_memory("good")


# ---- uvicorn --workers 4 ------------------------------------------------------------------------


class Upstream:
    """The dependency: `fail` answers 500 at once, `slow_fail` after 0.3 s, `hang` never
    (until told), `ok` answers 200. Records each call's worker pid."""

    def __init__(self) -> None:
        self.mode = "fail"
        self.calls: list[tuple[str, int]] = []
        self.release = asyncio.Event()
        self.url = ""
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append((request.match_info["path"], int(request.headers["x-worker-pid"])))
        mode = self.mode
        if mode == "slow_fail":
            await asyncio.sleep(0.3)
        if mode == "hang":
            await self.release.wait()
        if mode == "ok":
            return web.json_response({"ok": True})
        return web.json_response({"error": mode}, status=500)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{path}", self.handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self.runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        await web.SockSite(self.runner, sock).start()


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    u = Upstream()
    await u.start()
    yield u
    u.release.set()
    assert u.runner is not None
    await u.runner.cleanup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Workers:
    """`uvicorn shm_app:app --workers 4` on 127.0.0.1; requests on a new connection each, so
    the kernel spreads them over the workers."""

    def __init__(self, upstream: Upstream, events: Path, shm: str) -> None:
        self.port = free_port()
        self.events = events
        env = {**os.environ, "CB_UPSTREAM": upstream.url, "CB_EVENTS": str(events), "CB_SHM": shm}
        cmd = [
            sys.executable, "-m", "uvicorn", "shm_app:app", "--app-dir", str(APPS), "--workers", "4",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.http = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{self.port}",
            limits=httpx.Limits(max_keepalive_connections=0),
            timeout=30,
        )

    async def get(self, path: str) -> tuple[int, dict[str, Any]]:
        r = await self.http.get(path)
        return r.status_code, r.json()

    async def ready(self) -> set[int]:
        """Waits (at most 30 s) until four workers have answered; returns their pids."""
        pids: set[int] = set()
        deadline = time.monotonic() + 30
        while len(pids) < 4:
            assert time.monotonic() < deadline and self.proc.poll() is None, self.stderr()
            try:
                pids.add((await self.get("/health"))[1]["pid"])
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        return pids

    def heard(self) -> list[str]:
        return sorted(line for f in self.events.glob("*.log") for line in f.read_text().splitlines())

    def stderr(self) -> str:
        return "" if self.proc.stderr is None else self.proc.stderr.read1(1 << 16).decode(errors="replace")

    async def stop(self) -> None:
        await self.http.aclose()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()


async def sequential_until_refused(workers: Workers, n: int) -> list[int]:
    return [(await workers.get("/call/payments/pay"))[0] for _ in range(n)]


@pytest.mark.integration
@pytest.mark.slow
async def test_uvicorn_four_workers_share_one_breaker(
    upstream: Upstream, segment: str, tmp_path: Path
) -> None:
    (tmp_path / "shared").mkdir()
    workers = Workers(upstream, tmp_path / "shared", segment)
    try:
        pids = await workers.ready()
        # Sequential requests against a failing upstream: one process's worth of calls.
        statuses = await sequential_until_refused(workers, 40)
        trip_calls = len(upstream.calls)
        answered_by = {pid for _, pid in upstream.calls}
        assert statuses[:5] == [502] * 5 and set(statuses[5:]) == {503}
        assert trip_calls == 5, upstream.calls
        # Exactly one worker heard the trip; every worker reads the same figures and health.
        assert workers.heard() == ["payments closed->open"]
        seen = {}
        for _ in range(12):
            code, body = await workers.get("/metrics/payments")
            seen[body["pid"]] = (
                body["metrics"]["state"],
                body["snapshot"]["failures"],
                body["metrics"]["total_calls"],
            )
        assert set(seen.values()) == {("open", 5, 5)} and len(seen) >= 2
        code, health = await workers.get("/health")  # payments open, probe closed: degraded
        assert (code, health["status"], health["open"]) == (200, "degraded", ["payments"])
        # Recovery: the upstream still failing (slowly); 40 concurrent requests, at most 3
        # probes (half_open_max_calls) across the four workers.
        probes = []
        for _ in range(2):
            upstream.mode = "slow_fail"
            await asyncio.sleep(1.15)  # recovery_timeout=1.0
            before = len(upstream.calls)
            codes = await asyncio.gather(*(workers.get("/call/payments/pay") for _ in range(40)))
            probes.append(len(upstream.calls) - before)
            assert sorted({c for c, _ in codes}) == [502, 503]
        assert probes == [3, 3], probes
        # Recovered: one probe success closes it for everybody.
        upstream.mode = "ok"
        await asyncio.sleep(1.15)
        assert (await workers.get("/call/payments/pay"))[0] == 200
        assert {(await workers.get("/metrics/payments"))[1]["metrics"]["state"] for _ in range(8)} == {
            "closed"
        }
        assert (await workers.get("/health"))[1]["status"] == "healthy"
        # kill -9 of the worker holding the only probe: reclaimed after half_open_max_wait (2 s).
        upstream.mode = "fail"
        assert (await workers.get("/call/probe/x"))[0] == 502  # threshold 1: open
        upstream.mode = "hang"
        await asyncio.sleep(0.6)  # recovery_timeout=0.5
        hung = asyncio.ensure_future(workers.get("/call/probe/hang"))
        for _ in range(100):
            if upstream.calls[-1][0] == "hang":
                break
            await asyncio.sleep(0.02)
        holder = upstream.calls[-1][1]
        assert holder in pids
        half_open_at = time.monotonic()
        os.kill(holder, signal.SIGKILL)
        with pytest.raises(httpx.HTTPError):
            await hung
        upstream.mode = "ok"
        refused = []
        while True:
            code, body = await workers.get("/call/probe/after")
            if code == 200:
                break
            assert code == 503 and body["rejected"] == "half_open_full" and body["pid"] != holder
            refused.append(time.monotonic() - half_open_at)
            assert time.monotonic() - half_open_at < 10
            await asyncio.sleep(0.1)
        reclaimed_after = time.monotonic() - half_open_at
        assert refused and 1.5 < reclaimed_after < 5, reclaimed_after
        shared_heard = workers.heard()
    finally:
        await workers.stop()
    # The same app with a breaker per worker: each trips on its own.
    upstream.calls.clear()
    upstream.mode = "fail"
    (tmp_path / "own").mkdir()
    workers = Workers(upstream, tmp_path / "own", "")
    try:
        await workers.ready()
        await sequential_until_refused(workers, 40)
        independent = len(upstream.calls)
        trips = [line for line in workers.heard() if line == "payments closed->open"]
    finally:
        await workers.stop()
    print(
        f"\n4 uvicorn workers, threshold 5, 40 sequential requests: upstream calls before every worker "
        f"refuses: {trip_calls} shared (answered by {len(answered_by)} workers) vs {independent} with a "
        f"breaker per worker ({len(trips)} trips); probes per recovery (half_open_max_calls=3, "
        f"40 concurrent): {probes}; a SIGKILLed probe holder reclaimed after {reclaimed_after:.2f} s "
        "(half_open_max_wait 2 s)"
    )
    assert independent >= trip_calls and len(trips) >= 1
    assert shared_heard.count("probe closed->open") == 1
