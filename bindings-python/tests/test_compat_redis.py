"""``CircuitRedisStorage`` on a real ``redis-server`` (Debian's, installed by
``make setup-python``), started here on 127.0.0.1 on a free port (no persistence) and stopped
after: processes running real PyBreaker 1.4.1 and processes running the shim share one breaker
(PyBreaker's key layout), as during a migration. Both run in this process, each with its own
client, as two processes would."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pybreaker as real
import pytest

from cbreaker.compat import pybreaker as shim

redis = pytest.importorskip("redis")
pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    exe = shutil.which("redis-server")
    assert exe, "redis-server is missing: `make setup-python` installs it (Debian package redis-server)"
    port = free_port()
    proc = subprocess.Popen(
        [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.02)
        else:
            raise AssertionError("redis-server did not answer in 4 s")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def client(port: int) -> Any:
    return redis.Redis(host="127.0.0.1", port=port)


class Boom(Exception):
    pass


def boom() -> None:
    raise Boom


def test_real_pybreaker_and_the_shim_share_one_breaker(server: int) -> None:
    ns = f"migration{time.monotonic_ns()}"
    old = real.CircuitBreaker(
        fail_max=4,
        reset_timeout=1,
        state_storage=real.CircuitRedisStorage("closed", client(server), namespace=ns),
    )
    new = shim.CircuitBreaker(
        fail_max=4,
        reset_timeout=1,
        state_storage=shim.CircuitRedisStorage("closed", client(server), namespace=ns),
    )
    raw = client(server)
    assert sorted(raw.keys(f"{ns}:*")) == [
        f"{ns}:pybreaker:{k}".encode() for k in ("fail_counter", "state", "success_counter")
    ]
    # Failures from both count together: 2 + 1 + 1 trips, on the shim's call.
    for cb in (old, old, new):
        with pytest.raises(Boom):
            cb.call(boom)
    assert old.fail_counter == new.fail_counter == 3
    with pytest.raises(shim.CircuitBreakerError):
        new.call(boom)
    assert raw.get(f"{ns}:pybreaker:state") == b"open" and raw.get(f"{ns}:pybreaker:opened_at")
    # PyBreaker sees the shim's trip; both refuse calls until reset_timeout.
    assert old.current_state == new.current_state == "open"
    with pytest.raises(real.CircuitBreakerError):
        old.call(lambda: "never")
    with pytest.raises(shim.CircuitBreakerError):
        new.call(lambda: "never")
    assert old.fail_counter == new.fail_counter == 4
    # opened_at is whole seconds in Redis: wait past the next second boundary.
    time.sleep(2.05)
    assert new.call(lambda: "trial") == "trial"  # the shim's trial closes it for both
    assert old.current_state == "closed" and old.fail_counter == 0
    assert old.call(lambda: "ok") == "ok"
    # And the other way round: PyBreaker trips, the shim stays open.
    for _ in range(3):
        with pytest.raises(Boom):
            old.call(boom)
    with pytest.raises(real.CircuitBreakerError):
        old.call(boom)
    with pytest.raises(shim.CircuitBreakerError):
        new.call(lambda: "never")
    new.close()
    assert old.current_state == "closed" and old.call(lambda: 1) == 1


def threshold_script(server: int, first: Any, second: Any) -> list[Any]:
    """Two processes, one running `first`, the other `second`, on one record: a trip, a trial
    by the first, the second noticing half-open (PyBreaker resets the success counter then),
    two more successes. Returns what each saw and heard."""
    ns = f"threshold{time.monotonic_ns()}"
    log: list[Any] = []

    def listener(mod: Any, who: str) -> Any:
        class Listener(mod.CircuitBreakerListener):  # type: ignore[misc, name-defined]
            def state_change(self, cb: Any, old_state: Any, new_state: Any) -> None:
                log.append((who, old_state.name if old_state else None, new_state.name))

        return Listener()

    def breaker(mod: Any, who: str) -> Any:
        storage = mod.CircuitRedisStorage("closed", client(server), namespace=ns)
        return mod.CircuitBreaker(
            fail_max=1, reset_timeout=1, success_threshold=2, state_storage=storage,
            listeners=[listener(mod, who)],
        )  # fmt: skip

    a, b = breaker(first, "a"), breaker(second, "b")
    try:
        a.call(boom)
    except Exception as e:  # each module's own CircuitBreakerError
        log.append(("a", type(e).__name__))
    log.append(("b sees", b.state.name, b.fail_counter))
    time.sleep(2.05)  # opened_at is whole seconds in Redis
    for who, cb in (("a", a), ("b", b), ("b", b), ("a", a)):
        log.append((who, cb.call(lambda: "ok"), cb.current_state, cb.success_counter, cb.fail_counter))
    return log


def test_success_threshold_and_listeners_as_between_two_pybreakers(server: int) -> None:
    expected = threshold_script(server, real, real)
    assert threshold_script(server, real, shim) == expected
    assert threshold_script(server, shim, real) == expected
    assert ("b", "closed", "open") in expected and ("b", "half-open", "closed") in expected


def test_redis_down_falls_back(server: int) -> None:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    dead = redis.Redis(
        host="127.0.0.1", port=free_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    with pytest.raises(redis.ConnectionError):
        shim.CircuitRedisStorage("closed", dead)  # PyBreaker's constructor talks to Redis too
    storage = shim.CircuitRedisStorage("closed", client(server), namespace=f"down{time.monotonic_ns()}")
    storage._redis = dead  # the server goes away after start-up
    cb = shim.CircuitBreaker(state_storage=storage)
    assert cb.current_state == "closed" and cb.fail_counter == 0  # the fallback state
    storage._fallback_circuit_state = "open"
    assert cb.current_state == "open"
