"""Fleet benchmark (docs/benchmarks.md, "Fleet"), on a local ``redis-server`` started here
(127.0.0.1, a free port, no persistence):

1. call overhead of a fleet member vs a local breaker (the same config): the hot path is the
   local breaker's, so the two should match within noise;
2. a process using PyBreaker with ``CircuitRedisStorage`` vs a Python fleet member, on the same
   Redis: calls per second, and Redis commands per call (``total_commands_processed``).

    python benches/bench_fleet.py          # what `make bench-python` runs after bench.py
"""

from __future__ import annotations

import importlib.metadata
import shutil
import socket
import statistics
import subprocess
import sys
import time
from typing import Any, Callable

import pybreaker
import redis

import cbreaker
from cbreaker import CircuitBreaker, Fleet

CONFIG: dict[str, Any] = {"preset": "http_api", "window": "count", "window_size": 100}


def f() -> int:
    return 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ns_per_call(call: Callable[[], Any], loops: int) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(loops):
        call()
    return (time.perf_counter_ns() - t0) / loops


def overhead(local: CircuitBreaker, member: CircuitBreaker, rounds: int = 30, loops: int = 20_000) -> None:
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):  # interleaved, so drift hits both
        a.append(ns_per_call(lambda: local.call_sync(f), loops))
        b.append(ns_per_call(lambda: member.call_sync(f), loops))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"call_sync overhead: local breaker {ma:.0f} ns/call, fleet member {mb:.0f} ns/call")
    print(
        f"  ratio fleet member / local breaker: {mb / ma:.3f} (median of {rounds} rounds of {loops:,} calls)"
    )


def commands(r: redis.Redis) -> int:
    return int(r.info("stats")["total_commands_processed"])


def throughput(name: str, call: Callable[[], Any], r: redis.Redis, seconds: float) -> tuple[float, float]:
    before, n = commands(r), 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while True:
        for _ in range(100):
            call()
        n += 100
        if time.perf_counter() >= end:
            break
    took = time.perf_counter() - t0
    # Minus the INFO itself; commands a script runs (the fleet's EVALSHA) count one each.
    used = commands(r) - before - 1
    print(f"  {name}: {n / took:,.0f} calls/s, {used / n:.5f} Redis commands/call ({used} in {took:.1f} s)")
    return n / took, used / n


def main() -> None:
    exe = shutil.which("redis-server")
    if exe is None:
        sys.exit("redis-server is missing: `make setup-python` installs it")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        r = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(400):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.01)
        url = f"redis://127.0.0.1:{port}"
        print(
            f"cbreaker {cbreaker.__version__}, pybreaker {importlib.metadata.version('pybreaker')}, "
            f"Python {sys.version.split()[0]}"
        )
        local = CircuitBreaker("bench-local", **CONFIG)
        member = CircuitBreaker("bench-fleet", **CONFIG, fleet=Fleet(url))  # sync every 200 ms
        assert member.fleet is not None and member.fleet.wait() == "joined"
        overhead(local, member)

        print("PyBreaker + CircuitRedisStorage vs a fleet member, same local Redis (3 s each):")
        storage = pybreaker.CircuitRedisStorage(pybreaker.STATE_CLOSED, r, namespace="bench")
        pb = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60, state_storage=storage)
        pb_rate, pb_cmds = throughput("pybreaker + CircuitRedisStorage", lambda: pb.call(f), r, 3.0)
        cb_rate, cb_cmds = throughput(
            "cbreaker fleet member (sync 200 ms)", lambda: member.call_sync(f), r, 3.0
        )
        print(f"  calls/s ratio fleet member / pybreaker+redis: {cb_rate / pb_rate:,.0f}x")
        print(f"  Redis commands per call ratio pybreaker+redis / fleet member: {pb_cmds / cb_cmds:,.0f}x")
        member.fleet.stop()
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()
