"""The fleet across processes and languages (docs/fleet.md, "Promises"): Rust ``fleet_member``
processes and Python ones (tests/fleet_member.py) on one real ``redis-server``, in front of one
real upstream HTTP server on 127.0.0.1. Short intervals: sync 50 ms, open 1.5 s,
half_open_max_wait 1 s; each scenario runs for seconds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fleet_env import (
    Member,
    RedisServer,
    Upstream,
    log_entries,
    member_argv,
    rust_member_exe,
    state,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SYNC_MS, EVERY_MS, MINIMUM_CALLS = 50, 10, 20
# What a round trip may add to one sync interval (calls), and a busy 2-core machine (times).
RT_MS, SLACK_MS = 25, 100


@pytest.fixture
def server() -> Iterator[RedisServer]:
    s = RedisServer()
    yield s
    s.stop()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    u = Upstream()
    yield u
    u.close()


@pytest.fixture(scope="module")
def rust_exe() -> Path:
    return rust_member_exe()


def flags(server: RedisServer, upstream: Upstream, name: str, **more: Any) -> dict[str, Any]:
    return {
        "redis": server.url,
        "name": name,
        "upstream": upstream.url + "/dep",
        "sync-ms": SYNC_MS,
        "every-ms": EVERY_MS,
        "minimum-calls": MINIMUM_CALLS,
        "window": 100,
        "open-ms": 1500,
        "half-open-max-calls": 2,
        "success-threshold": 2,
        "half-open-max-wait-ms": 1000,
        **{k.replace("_", "-"): v for k, v in more.items()},
    }


def start_four(
    server: RedisServer, upstream: Upstream, exe: Path, names: list[str], tmp: Path, **more: Any
) -> list[Member]:
    """Two Python members (joined, then waiting for `go`), then two Rust members: all four
    start calling within milliseconds of one another."""
    go = tmp / f"go-{names[0]}"
    py = [
        Member(member_argv("python", exe, {**flags(server, upstream, n, **more), "go": go}), "python")
        for n in names[:2]
    ]
    for m in py:
        assert m.wait_for("joined", 20)["status"] == "joined"
    go.touch()
    rust = [Member(member_argv("rust", exe, flags(server, upstream, n, **more)), "rust") for n in names[2:]]
    return py + rust


def first_open(m: Member) -> int:
    opens = [e["wall_ms"] for e in m.events("transition") if e["to"] == "open"]
    assert opens, f"{m.kind} member never opened: {m.lines}"
    return int(opens[0])


def test_four_members_one_trip(
    server: RedisServer, upstream: Upstream, rust_exe: Path, tmp_path: Path
) -> None:
    # 4 independent breakers (4 names: fleets of one), same traffic: each trips on its own rule.
    names = [f"alone{i}" for i in range(4)]
    for m in start_four(server, upstream, rust_exe, names, tmp_path, duration_ms=1000):
        m.finish()
    independent = upstream.requests

    upstream.requests = 0
    started = time.time() * 1000
    members = start_four(server, upstream, rust_exe, ["dep"] * 4, tmp_path, duration_ms=1200)
    arrivals: list[float] = []
    r = server.client()
    # The upstream's arrivals until the fleet's record says open (the server's clock: same host).
    while state(r, "dep") in ("none", "closed"):
        arrivals.append(upstream.requests)
        time.sleep(0.001)
        assert time.time() * 1000 - started < 10_000, "the fleet never opened"
    for m in members:
        m.finish()
    total = upstream.requests
    log = log_entries(r, "dep")
    opened = [e for e in log if e[4] == "open"]
    assert len(opened) == 1, f"one fleet transition per trip, got {log}"
    since = int(opened[0][6])
    at_open = arrivals[-1]
    opens = sorted(first_open(m) for m in members)
    assert all(m.finish()["status"] == "joined" for m in members)
    print(
        f"\n[fleet] upstream calls: fleet of 4 = {total} ({at_open} before the record opened), "
        f"4 independent breakers = {independent}; members opened within {opens[-1] - opens[0]} ms "
        f"of one another, the last {opens[-1] - since} ms after the record"
    )
    # One breaker's rule (minimum_calls) plus what 4 members send within one interval + a round trip.
    allowed = MINIMUM_CALLS + 4 * (SYNC_MS + RT_MS) // EVERY_MS
    assert total <= allowed, (total, allowed)
    assert total < independent
    assert opens[-1] - since <= SYNC_MS + SLACK_MS
    assert opens[-1] - opens[0] <= SYNC_MS + SLACK_MS


def test_half_open_probes_and_a_killed_lease_holder(
    server: RedisServer, upstream: Upstream, rust_exe: Path, tmp_path: Path
) -> None:
    r = server.client()
    members = start_four(
        server, upstream, rust_exe, ["ho"] * 4, tmp_path, duration_ms=7000, success_threshold=4
    )
    wait_until(lambda: state(r, "ho") == "open", 10, "the trip")
    # Probes now take 300 ms and succeed; the upstream counts those at once while half-open.
    upstream.failing, upstream.delay = False, 0.3
    wait_until(lambda: state(r, "ho") == "half_open", 5, "half-open")
    upstream.probing = True
    leases_key = "cbreaker:{ho}:leases"
    wait_until(lambda: r.zcard(leases_key) > 0, 3, "a probe lease")
    holder = r.zrange(leases_key, 0, 0)[0].split("#")[0]
    by_pid = {m.proc.pid: m for m in members}
    victim = by_pid[int(holder.split(":")[-2])]
    victim.kill()
    killed = time.time() * 1000
    gone = wait_until(
        lambda: not any(x.startswith(holder + "#") for x in r.zrange(leases_key, 0, -1)),
        5,
        "the dead member's lease to expire",
    )
    closed = wait_until(lambda: state(r, "ho") == "closed", 8, "the fleet to close")
    upstream.probing = False
    log = log_entries(r, "ho")
    for m in members:
        if m is not victim:
            m.finish()
    print(
        f"\n[fleet] half-open: {upstream.probes} probes, at most {upstream.most_probing} at once "
        f"(half_open_max_calls 2); lease of the killed {victim.kind} member reclaimed "
        f"{gone - killed:.0f} ms after kill -9 (half_open_max_wait 1000 ms); closed "
        f"{closed - killed:.0f} ms after it; log: {[(e[4], e[5]) for e in log]}"
    )
    assert upstream.most_probing <= 2
    # Every call while half-open is a probe on a lease: the 4 successes that close it, the one
    # the kill lost, and at most the 2 out when it closed.
    assert upstream.probes <= 4 + 1 + 2
    assert gone - killed <= 1000 + 2 * SYNC_MS + SLACK_MS
    states = [(e[4], e[5]) for e in log]
    assert states[-1] == ("closed", "probes_succeeded"), states
    assert states.count(("open", "failure_rate")) == 1, states


def test_quorum_one_bad_member_trips_alone(server: RedisServer, upstream: Upstream, rust_exe: Path) -> None:
    r = server.client()
    bad = Member(
        member_argv("rust", rust_exe, {**flags(server, upstream, "q", quorum=2), "duration-ms": 1500}), "rust"
    )
    good = [
        Member(
            member_argv(
                kind,
                rust_exe,
                {
                    **flags(server, upstream, "q", quorum=2),
                    "upstream": upstream.url + "/ok",
                    "duration-ms": 1500,
                },
            ),
            kind,
        )
        for kind in ("python", "rust")
    ]
    for m in [bad, *good]:
        m.finish()
    tripped = [e for e in bad.events("transition") if e["to"] == "open"]
    assert tripped and tripped[0]["cause"] == "failure_rate", bad.lines
    for m in good:
        assert m.events("transition") == [], m.lines
    assert [e[4] for e in log_entries(r, "q")] == ["closed"]  # the first record only
    assert state(r, "q") == "closed"
    print(f"\n[fleet] quorum 2: the bad member tripped alone ({tripped[0]}); the fleet stayed closed")
