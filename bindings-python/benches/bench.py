"""Side-by-side benchmark: cbreaker vs pybreaker 1.4, circuitbreaker 2.1, aiobreaker 1.2 and
purgatory 3.0 (pyperf, one run). Prints the per-call overhead over a bare call / a bare await,
the ratios the issue targets, and the bytes each breaker costs.

    python benches/bench.py            # what `make bench-python` runs: interleaved rounds
    python benches/bench.py --fast     # fewer rounds
    python benches/bench.py --pyperf   # pyperf's runner (worker processes, one bench at a time)
"""

from __future__ import annotations

import asyncio
import datetime
import gc
import importlib.metadata
import random
import sys
import tracemalloc
from typing import Any, Callable

import aiobreaker
import circuitbreaker
import purgatory
import pybreaker
import pyperf

import cbreaker

Bench = Callable[[int], float]
perf_counter = pyperf.perf_counter


def f() -> int:
    return 1


async def af() -> int:
    return 1


# ---- sync ---------------------------------------------------------------------------------


def loop_sync(call: Callable[[], Any]) -> Bench:
    def bench(loops: int) -> float:
        r = range(loops)
        t0 = perf_counter()
        for _ in r:
            call()
        return perf_counter() - t0

    return bench


def sync_benches() -> dict[str, Bench]:
    cb = cbreaker.CircuitBreaker("bench")
    cb_count = cbreaker.CircuitBreaker("bench-count", window="count", window_size=100)
    cb_dec = cb(f)
    pb = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)
    pb_dec = pb(f)
    cbk = circuitbreaker.CircuitBreaker(failure_threshold=5, recovery_timeout=60)
    cbk_dec = cbk(f)
    ab = aiobreaker.CircuitBreaker(fail_max=5, timeout_duration=datetime.timedelta(seconds=60))
    pg = purgatory.SyncCircuitBreakerFactory(default_threshold=5, default_ttl=60)
    pg_breaker = pg.get_breaker("bench")

    def pg_call() -> int:
        with pg_breaker:
            return f()

    # Issue 18: with the OpenTelemetry instruments registered (observable: read at collection,
    # which this loop never triggers), the call path must not change.
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from cbreaker.otel import instrument

    cb_otel = cbreaker.CircuitBreaker("bench-otel")
    instrument([cb_otel], meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()]))
    cs_otel = cb_otel.call_sync

    cs, cs_count, pbc, cbkc, abc = cb.call_sync, cb_count.call_sync, pb.call, cbk.call, ab.call
    return {
        "bare call": loop_sync(f),
        "cbreaker call_sync": loop_sync(lambda: cs(f)),
        "cbreaker call_sync, OTel registered": loop_sync(lambda: cs_otel(f)),
        "cbreaker call_sync (count window)": loop_sync(lambda: cs_count(f)),
        "cbreaker @decorator": loop_sync(cb_dec),
        "pybreaker call": loop_sync(lambda: pbc(f)),
        "pybreaker @decorator": loop_sync(pb_dec),
        "circuitbreaker call": loop_sync(lambda: cbkc(f)),
        "circuitbreaker @decorator": loop_sync(cbk_dec),
        "aiobreaker call": loop_sync(lambda: abc(f)),
        "purgatory with": loop_sync(pg_call),
    }


# `lambda: cs(f)` adds one lambda frame to every bench but the bare and decorator ones; the
# bare-lambda baseline below measures that frame so the overheads compare like for like.
BARE_LAMBDA = "bare call via lambda"


# ---- async --------------------------------------------------------------------------------


def loop_async(make: Callable[[], Callable[[], Any]]) -> Bench:
    def bench(loops: int) -> float:
        call = make()

        async def body() -> float:
            r = range(loops)
            t0 = perf_counter()
            for _ in r:
                await call()
            return perf_counter() - t0

        return asyncio.run(body())

    return bench


def async_benches() -> dict[str, Bench]:
    def cb_call() -> Callable[[], Any]:
        b = cbreaker.CircuitBreaker("bench")
        call = b.call
        return lambda: call(af)

    def cb_dec() -> Callable[[], Any]:
        return cbreaker.CircuitBreaker("bench")(af)

    def cbk_dec() -> Callable[[], Any]:
        return circuitbreaker.CircuitBreaker(failure_threshold=5, recovery_timeout=60)(af)

    def ab_call() -> Callable[[], Any]:
        b = aiobreaker.CircuitBreaker(fail_max=5, timeout_duration=datetime.timedelta(seconds=60))
        call = b.call_async
        return lambda: call(af)

    def ab_dec() -> Callable[[], Any]:
        return aiobreaker.CircuitBreaker(fail_max=5, timeout_duration=datetime.timedelta(seconds=60))(af)

    def pg_with() -> Callable[[], Any]:
        factory = purgatory.AsyncCircuitBreakerFactory(default_threshold=5, default_ttl=60)

        async def call() -> int:
            async with await factory.get_breaker("bench"):
                return await af()

        return call

    def bare_lambda() -> Callable[[], Any]:
        return lambda: af()

    return {
        "bare await": loop_async(lambda: af),
        "bare await via lambda": loop_async(bare_lambda),
        "cbreaker await call": loop_async(cb_call),
        "cbreaker @decorator (async)": loop_async(cb_dec),
        "circuitbreaker @decorator (async)": loop_async(cbk_dec),
        "aiobreaker call_async": loop_async(ab_call),
        "aiobreaker @decorator (async)": loop_async(ab_dec),
        "purgatory async with": loop_async(pg_with),
    }


# ---- memory -------------------------------------------------------------------------------


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def bytes_per_breaker() -> dict[str, tuple[float, float]]:
    """(tracemalloc bytes, RSS bytes) per breaker. tracemalloc sees Python's allocator only;
    the RSS growth over 20,000 breakers also counts native (Rust) allocations."""
    makers: dict[str, Callable[[int], Any]] = {
        "cbreaker.CircuitBreaker": lambda i: cbreaker.CircuitBreaker(f"b{i}"),
        "cbreaker count window 32": lambda i: cbreaker.CircuitBreaker(
            f"b{i}", window="count", window_size=32
        ),
        "cbreaker count window 100": lambda i: cbreaker.CircuitBreaker(
            f"b{i}", window="count", window_size=100
        ),
        "pybreaker.CircuitBreaker": lambda i: pybreaker.CircuitBreaker(name=f"b{i}"),
        "circuitbreaker.CircuitBreaker": lambda i: circuitbreaker.CircuitBreaker(name=f"b{i}"),
        "aiobreaker.CircuitBreaker": lambda i: aiobreaker.CircuitBreaker(name=f"b{i}"),
        "purgatory (sync breaker)": lambda i: purgatory.SyncCircuitBreakerFactory().get_breaker(f"b{i}"),
    }
    out = {}
    for name, make in makers.items():
        n = 2000
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        keep = [make(i) for i in range(n)]
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        traced = (sum(s.size_diff for s in after.compare_to(before, "filename")) - sys.getsizeof(keep)) / n
        del keep, before, after
        gc.collect()
        n = 20000
        names = [f"b{i}" for i in range(n)]
        keep = [None] * n
        r0 = _rss()
        for i in range(n):
            keep[i] = make(i)
        rss = (_rss() - r0) / n
        del keep, names
        out[name] = (traced, rss)
    return out


# ---- report -------------------------------------------------------------------------------


def ns(b: Any) -> float:
    # The minimum: on a shared machine, the other load only ever adds time.
    return min(b.get_values()) * 1e9


def report(results: dict[str, Any]) -> None:
    t = {k: ns(v) for k, v in results.items()}
    print()
    how = (
        "pyperf runner"
        if isinstance(next(iter(results.values())), pyperf.Benchmark)
        else "interleaved rounds"
    )
    print(f"cbreaker Python benchmarks ({how}, min ns per call; Python {sys.version.split()[0]})")
    versions = {
        m: importlib.metadata.version(m) for m in ("pybreaker", "circuitbreaker", "aiobreaker", "purgatory")
    }
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))

    def table(title: str, bare: str, bare_lambda: str, rows: list[str], ours: str) -> dict[str, float]:
        print(f"\n{title}")
        print(f"| {'benchmark':38} | {'ns/call':>8} | {'overhead ns':>11} | {'÷ cbreaker':>10} |")
        print(f"|{'-' * 40}|{'-' * 10}:|{'-' * 13}:|{'-' * 12}:|")
        over: dict[str, float] = {}
        for r in rows:
            base = t[bare_lambda] if "call" in r and "decorator" not in r and "with" not in r else t[bare]
            over[r] = t[r] - base
        for r in rows:
            ratio = over[r] / over[ours] if over[ours] > 0 else float("nan")
            print(f"| {r:38} | {t[r]:8.1f} | {over[r]:11.1f} | {ratio:9.2f}× |")
        print(f"| {bare:38} | {t[bare]:8.1f} |             |            |")
        return over

    sync_rows = [k for k in t if k in SYNC and not k.startswith("bare")]
    so = table("Sync: overhead over a bare call", "bare call", BARE_LAMBDA, sync_rows, "cbreaker call_sync")
    async_rows = [k for k in t if k in ASYNC and not k.startswith("bare")]
    ao = table(
        "Async: overhead over a bare await",
        "bare await",
        "bare await via lambda",
        async_rows,
        "cbreaker await call",
    )

    mem = bytes_per_breaker()
    print("\nMemory per breaker (bytes; tracemalloc over 2,000 breakers, RSS growth over 20,000)")
    print(f"| {'breaker':32} | {'tracemalloc':>11} | {'RSS':>7} |")
    print(f"|{'-' * 34}|{'-' * 12}:|{'-' * 8}:|")
    for k, (traced, rss) in mem.items():
        print(f"| {k:32} | {traced:11.0f} | {rss:7.0f} |")

    ours, dec = so["cbreaker call_sync"], so["cbreaker @decorator"]
    aours = ao["cbreaker await call"]
    # Each competitor at its fastest (call or decorator), against call_sync / await call.
    cbk = min(so["circuitbreaker call"], so["circuitbreaker @decorator"])
    pyb = min(so["pybreaker call"], so["pybreaker @decorator"])
    aio = min(ao["aiobreaker call_async"], ao["aiobreaker @decorator (async)"])
    checks = [
        (f"sync overhead <= 100 ns: call_sync {ours:.0f} ns", ours <= 100),
        (f"sync overhead <= 100 ns: @decorator {dec:.0f} ns", dec <= 100),
        (f"sync: circuitbreaker / cbreaker >= 1.6 ({cbk / ours:.2f})", cbk / ours >= 1.6),
        (f"sync: pybreaker / cbreaker >= 8 ({pyb / ours:.2f})", pyb / ours >= 8),
        (
            f"async: circuitbreaker / cbreaker >= 2 ({ao['circuitbreaker @decorator (async)'] / aours:.2f})",
            ao["circuitbreaker @decorator (async)"] / aours >= 2,
        ),
        (f"async: aiobreaker / cbreaker >= 3.5 ({aio / aours:.2f})", aio / aours >= 3.5),
        (
            "memory per breaker < pybreaker's (RSS)",
            mem["cbreaker.CircuitBreaker"][1] < mem["pybreaker.CircuitBreaker"][1],
        ),
    ]
    print("\nTargets (issue 4)")
    for name, ok in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")


SYNC: set[str] = set()
ASYNC: set[str] = set()


def interleaved(benches: dict[str, Bench], rounds: int, target: float = 0.003) -> dict[str, list[float]]:
    """Every benchmark once per round, in a shuffled order, `rounds` times: load from other
    processes hits all of them alike, and the minimum over rounds is what the code costs."""
    loops = {}
    for name, fn in benches.items():
        n = 64
        while fn(n) < target / 4:
            n *= 2
        loops[name] = max(1, int(n * target / max(fn(n), 1e-9)))
    values: dict[str, list[float]] = {name: [] for name in benches}
    rng = random.Random(0)
    order = list(benches)
    for _ in range(rounds):
        rng.shuffle(order)
        for name in order:
            values[name].append(benches[name](loops[name]) / loops[name])
    return values


class _Values:
    """The part of pyperf.Benchmark the report uses."""

    def __init__(self, values: list[float]) -> None:
        self.values = values

    def get_values(self) -> list[float]:
        return self.values


def main() -> None:
    benches: dict[str, Bench] = {}
    s = sync_benches()
    s[BARE_LAMBDA] = loop_sync(lambda: f())
    a = async_benches()
    SYNC.update(s)
    ASYNC.update(a)
    benches.update(s)
    benches.update(a)
    if "--pyperf" not in sys.argv:
        # Default: interleaved rounds (robust on a shared, loaded machine).
        rounds = 20 if "--fast" in sys.argv else 120
        values = interleaved(benches, rounds)
        report({k: _Values(v) for k, v in values.items()})  # type: ignore[misc]
        return
    # pyperf's own runner: one benchmark after another, in worker processes.
    sys.argv.remove("--pyperf")
    if "--quiet" not in sys.argv and "-q" not in sys.argv:
        sys.argv.append("--quiet")
    runner = pyperf.Runner(processes=3, values=3, warmups=1)
    runner.metadata["description"] = "cbreaker vs other Python circuit breakers"
    results: dict[str, pyperf.Benchmark] = {}
    for name, fn in benches.items():
        r = runner.bench_time_func(name, fn)
        if r is not None:
            results[name] = r
    if not runner.args.worker and len(results) == len(benches):
        report(results)


if __name__ == "__main__":
    main()
