"""One Python fleet member process in front of an HTTP upstream: the Python twin of the Rust
``fleet_member`` (integration/src/bin/fleet_member.rs), same flags, same config, same JSON
lines, for the mixed Rust/Python fleet scenarios (tests/test_fleet_scenarios.py).

    python tests/fleet_member.py --redis URL --name NAME --upstream http://127.0.0.1:PORT/PATH
        [--every-ms 10] [--duration-ms 3000] [--sync-ms 50] [--quorum K] [--minimum-calls 20]
        [--window 100] [--open-ms 1500] [--half-open-max-calls 2] [--success-threshold 2]
        [--half-open-max-wait-ms 1000] [--go FILE]

``--go FILE``: join, print ``{"event":"joined",...}``, then wait for FILE before calling.
Prints one JSON line per local transition and one summary line at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
from typing import Any

from cbreaker import CircuitBreaker, Fleet, Transition

_out = threading.Lock()


def emit(**fields: Any) -> None:
    with _out:
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()


def get(host: str, port: int, path: str) -> bool:
    """One GET: whether the upstream answered 2xx."""
    try:
        c = http.client.HTTPConnection(host, port, timeout=2)
        c.request("GET", path)
        ok = 200 <= c.getresponse().status < 300
        c.close()
        return ok
    except OSError:
        return False


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--redis", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--upstream", required=True)
    for flag, default in [
        ("--every-ms", 10),
        ("--duration-ms", 3000),
        ("--sync-ms", 50),
        ("--quorum", 0),
        ("--minimum-calls", 20),
        ("--window", 100),
        ("--open-ms", 1500),
        ("--half-open-max-calls", 2),
        ("--success-threshold", 2),
        ("--half-open-max-wait-ms", 1000),
    ]:
        p.add_argument(flag, type=int, default=default)
    p.add_argument("--go")
    a = p.parse_args()
    url = urllib.parse.urlsplit(a.upstream)
    host, port, path = url.hostname or "127.0.0.1", url.port or 80, url.path or "/"

    def on_change(_: CircuitBreaker, t: Transition) -> None:
        emit(
            event="transition",
            **{"from": t.from_state},
            to=t.to_state,
            cause=t.cause,
            wall_ms=int(time.time() * 1000),
        )

    # The Rust member's config: `Config { .., ..Config::count(window) }` (the core's defaults).
    breaker = CircuitBreaker(
        a.name,
        window="count",
        window_size=a.window,
        failure_rate_threshold=50,
        slow_call_rate_threshold=0,
        slow_call_duration=60,
        consecutive_failures=0,
        minimum_calls=a.minimum_calls,
        open_duration=a.open_ms / 1000,
        open_duration_max=0,
        open_duration_multiplier=1.0,
        jitter_percent=0,
        jitter_seed=0,
        half_open_max_calls=a.half_open_max_calls,
        success_threshold=a.success_threshold,
        half_open_max_wait=a.half_open_max_wait_ms / 1000,
        on_state_change=on_change,
        fleet=Fleet(a.redis, sync_interval=a.sync_ms / 1000, quorum=a.quorum or None),
    )
    assert breaker.fleet is not None
    status = breaker.fleet.wait(5.0)
    emit(event="joined", member=breaker.fleet.member_id, pid=os.getpid(), status=status)
    if a.go:
        while not os.path.exists(a.go):
            time.sleep(0.002)
    calls = failures = rejected = 0
    end = time.monotonic() + a.duration_ms / 1000
    while time.monotonic() < end:
        permit = breaker.try_acquire()
        if permit is None:
            rejected += 1
        else:
            calls += 1
            ok = get(host, port, path)
            failures += not ok
            permit.record_success() if ok else permit.record_failure()
        time.sleep(a.every_ms / 1000)
    s = breaker.fleet.snapshot()
    emit(
        event="summary",
        member=breaker.fleet.member_id,
        calls=calls,
        failures=failures,
        rejected=rejected,
        status=s["status"],
        generation=s["generation"],
    )
    breaker.fleet.stop()


if __name__ == "__main__":
    main()
