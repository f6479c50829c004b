"""``CircuitBreaker(..., fleet=Fleet(...))`` on a real ``redis-server`` (tests/fleet_env.py):
options, status, operator moves, listeners, snapshot / metrics / Prometheus, a refused config,
the manager, the store's faults (stopped, paused, restarted empty, garbage in the record), and
``rediss://`` with an ACL user, the server checked against ``SSL_CERT_FILE``."""

from __future__ import annotations

import logging
import shlex
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fleet_env import RedisServer, free_port, state, wait_until

import cbreaker
from cbreaker import CircuitBreaker, CircuitBreakerManager, ConfigError, Fleet, Transition
from cbreaker.fleet import FleetRefusedError, FleetSnapshot, FleetStoreError

pytestmark = pytest.mark.integration

CONFIG: dict[str, Any] = {
    "preset": "http_api",
    "window": "count",
    "window_size": 50,
    "minimum_calls": 10,
    "open_duration": 1.5,
    "half_open_max_wait": 1.0,
}


@pytest.fixture
def server() -> Iterator[RedisServer]:
    s = RedisServer()
    yield s
    s.stop()


def fleet(server: RedisServer, **kw: Any) -> Fleet:
    return Fleet(server.url, sync_interval=0.05, **kw)


@pytest.mark.parametrize(
    ("kw", "error", "field"),
    [
        ({"url": 6379}, TypeError, "url"),
        ({"url": "http://x"}, ConfigError, "url"),
        ({"prefix": "a{b"}, ConfigError, "prefix"),
        ({"sync_interval": "1"}, TypeError, "sync_interval"),
        ({"sync_interval": 0.001}, ConfigError, "sync_interval"),
        ({"window": 1.5}, ConfigError, "window"),
        ({"quorum": 0}, ConfigError, "quorum"),
        ({"quorum": True}, TypeError, "quorum"),
        ({"timeout": -1}, ConfigError, "timeout"),
        ({"member_id": "a#b"}, ConfigError, "member_id"),
        ({"member_id": 3}, TypeError, "member_id"),
    ],
)
def test_bad_options_name_the_option(kw: dict[str, Any], error: type[Exception], field: str) -> None:
    with pytest.raises(error, match=field) as e:
        Fleet(**kw)
    if error is ConfigError:
        assert isinstance(e.value, ValueError) and e.value.field == field  # type: ignore[attr-defined]


def test_every_url_scheme_of_the_core_is_accepted() -> None:
    assert cbreaker.fleet._SCHEMES == cbreaker._native.FLEET_URL_SCHEMES
    for url in ("redis://h:1", "rediss://h:1", "redis+cluster://a:1,b:2", "rediss+cluster://u:p@a:1"):
        assert Fleet(url).url == url
    with pytest.raises(ConfigError, match="redis\\+cluster://"):
        Fleet("memcached://h:1")


def test_fleet_needs_the_monotonic_clock_and_no_shared_memory(server: RedisServer) -> None:
    with pytest.raises(ConfigError, match="clock"):
        CircuitBreaker("c", fleet=fleet(server), clock=lambda: 0)
    with pytest.raises(ConfigError, match="fleet"):
        CircuitBreaker("c", fleet=fleet(server), shared_memory="cbreaker-test-fleet")
    with pytest.raises(TypeError, match="fleet"):
        CircuitBreaker("c", fleet="redis://127.0.0.1")  # type: ignore[arg-type]


def test_join_status_snapshot_metrics_and_operators(server: RedisServer, caplog: Any) -> None:
    seen: list[Transition] = []
    a = CircuitBreaker("pay", **CONFIG, fleet=fleet(server), on_state_change=lambda b, t: seen.append(t))
    b = CircuitBreaker("pay", **CONFIG, fleet=fleet(server))
    assert a.fleet is not None and b.fleet is not None
    assert a.fleet.wait() == "joined" and b.fleet.wait() == "joined"
    assert a.fleet.member_id != b.fleet.member_id
    wait_until(lambda: a.fleet.snapshot()["members"] == 2, 2, "two members")  # type: ignore[union-attr]
    s = a.snapshot()
    assert (s["fleet_status"], s["fleet_state"], s["fleet_members"]) == ("joined", "closed", 2)  # type: ignore[typeddict-item]
    m = a.get_metrics()
    assert m["fleet_generation"] >= 1 and m["fleet_status"] == "joined"  # type: ignore[typeddict-item]

    rec = b.fleet.force_open()  # an operator on one member moves every member
    assert rec["state"] == "forced_open"
    wait_until(lambda: a.state == "forced_open", 1, "a to adopt forced_open")
    assert a.try_acquire() is None
    assert seen[-1].cause == "fleet" and seen[-1].to_state == "forced_open"
    b.fleet.force_closed()
    wait_until(lambda: a.state == "disabled", 1, "a to adopt forced_closed")
    b.fleet.reset()
    wait_until(lambda: a.state == "closed" and b.state == "closed", 1, "reset")

    text = cbreaker._native.fleet_metrics_text([("pay", a.fleet._native)])
    assert 'cbreaker_fleet_status{breaker="pay",status="joined"} 1' in text
    assert 'cbreaker_fleet_state{breaker="pay",state="closed"} 1' in text
    assert 'cbreaker_fleet_members{breaker="pay"} 2' in text
    assert [f[0] for f in cbreaker.fleet.FLEET_METRIC_FAMILIES] == [
        "cbreaker_fleet_status",
        "cbreaker_fleet_state",
        "cbreaker_fleet_generation",
        "cbreaker_fleet_members",
        "cbreaker_fleet_leases",
    ]
    from prometheus_client import CollectorRegistry, generate_latest

    from cbreaker.prometheus import CircuitBreakerCollector
    from cbreaker.prometheus import text as prometheus_text

    assert text in prometheus_text([a])
    registry = CollectorRegistry()
    registry.register(CircuitBreakerCollector([a, b]))
    scraped = generate_latest(registry).decode()
    assert 'cbreaker_fleet_status{breaker="pay",status="joined"} 1.0' in scraped
    assert 'cbreaker_fleet_members{breaker="pay"} 2.0' in scraped
    a.fleet.stop()
    assert a.fleet.status == "stopped" and a.snapshot()["fleet_status"] == "stopped"  # type: ignore[typeddict-item]
    with pytest.raises(RuntimeError, match="stopped"):
        a.fleet.force_open()
    b.fleet.stop()


def test_a_raising_listener_is_logged_and_the_agent_goes_on(server: RedisServer, caplog: Any) -> None:
    def bad(b: CircuitBreaker, t: Transition) -> None:
        raise RuntimeError("listener boom")

    a = CircuitBreaker("lst", **CONFIG, fleet=fleet(server), on_state_change=bad)
    assert a.fleet is not None and a.fleet.wait() == "joined"
    with caplog.at_level(logging.ERROR, logger="cbreaker"):
        a.fleet.force_open()
        wait_until(lambda: a.state == "forced_open", 1, "forced_open")
        a.fleet.reset()
        wait_until(lambda: a.state == "closed", 1, "closed again: the agent still runs")
    assert any("listener" in r.getMessage() and r.exc_info for r in caplog.records)
    a.fleet.stop()


def test_another_config_is_refused_with_the_core_message(server: RedisServer) -> None:
    a = CircuitBreaker("ref", **CONFIG, fleet=fleet(server))
    assert a.fleet is not None and a.fleet.wait() == "joined"
    b = CircuitBreaker("ref", **{**CONFIG, "minimum_calls": 11}, fleet=fleet(server))
    assert b.fleet is not None
    with pytest.raises(FleetRefusedError, match="differs from the fleet's"):
        b.fleet.wait()
    assert b.fleet.status == "refused"
    assert "fingerprint" in (b.fleet.snapshot()["error"] or "")
    with pytest.raises(FleetRefusedError):
        b.fleet.force_open()
    assert b.try_acquire() is not None  # it runs alone
    a.fleet.stop()
    b.fleet.stop()


def test_the_manager_passes_fleet_to_its_breakers(server: RedisServer) -> None:
    manager = CircuitBreakerManager(**CONFIG, fleet=fleet(server))
    one = manager.get_or_create("m1")
    two = manager.register_breaker("m2")
    assert one.fleet is not None and two.fleet is not None
    assert (one.fleet.name, two.fleet.name) == ("m1", "m2")
    assert one.fleet.wait() == "joined"
    assert server.client().exists("cbreaker:{m1}:record")
    assert [
        k for k in server.client().keys("*record") if "breaker-" in k
    ] == []  # no join while checking defaults
    with pytest.raises(TypeError, match="fleet"):
        CircuitBreakerManager(fleet="x")  # type: ignore[arg-type]
    one.fleet.stop()
    two.fleet.stop()


def test_operator_moves_fail_cleanly_without_redis(server: RedisServer) -> None:
    a = CircuitBreaker("gone", **CONFIG, fleet=fleet(server, timeout=0.2))
    assert a.fleet is not None and a.fleet.wait() == "joined"
    server.stop()
    with pytest.raises(FleetStoreError):
        a.fleet.force_open()
    wait_until(lambda: a.fleet.status == "degraded", 2, "degraded")  # type: ignore[union-attr]
    a.fleet.stop()


def test_store_faults_never_reach_the_calls(server: RedisServer) -> None:
    """Redis stopped, paused, restarted empty, and garbage in the record: no call waits on it or
    raises, local counts stay exact, the members rejoin."""
    r = server.client()
    members = [CircuitBreaker("f", **CONFIG, fleet=fleet(server, member_id=f"py{i}")) for i in range(2)]
    for m in members:
        assert m.fleet is not None and m.fleet.wait() == "joined"
    done = threading.Event()
    made = [0, 0]
    slowest = [0.0]
    errors: list[BaseException] = []

    def calls(i: int) -> None:
        b = members[i]
        while not done.is_set():
            t = time.perf_counter()
            try:
                permit = b.try_acquire()
                if permit is not None:
                    permit.record_success()
                    made[i] += 1
            except BaseException as e:  # pragma: no cover - the test fails on it
                errors.append(e)
            slowest[0] = max(slowest[0], time.perf_counter() - t)
            time.sleep(0.001)

    threads = [threading.Thread(target=calls, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()

    def all_status(s: str) -> bool:
        return all(m.fleet is not None and m.fleet.status == s for m in members)

    try:
        server.stop()
        wait_until(lambda: all_status("degraded"), 2, "degraded while stopped")
        time.sleep(0.2)
        server.start()  # empty
        wait_until(lambda: all_status("joined") and state(r, "f") == "closed", 3, "rejoined after restart")

        r.execute_command("CLIENT", "PAUSE", 600, "ALL")
        wait_until(lambda: all_status("degraded"), 2, "degraded while paused")
        wait_until(lambda: all_status("joined"), 3, "joined after the pause")

        r.set("cbreaker:{f}:record", "garbage \x00 not a record")
        wait_until(lambda: state(r, "f") == "closed", 2, "the record rebuilt from garbage")
        r.delete("cbreaker:{f}:record")
        r.rpush("cbreaker:{f}:record", "another type")
        wait_until(lambda: r.type("cbreaker:{f}:record") == "string", 2, "the record rebuilt from a list")
        wait_until(lambda: all_status("joined"), 2, "joined")
    finally:
        done.set()
        for t in threads:
            t.join()
    assert errors == []
    for i, m in enumerate(members):
        s = m.snapshot()
        assert (s["calls"], s["successes"], s["failures"]) == (made[i], made[i], 0)
        assert s["state"] == "closed"
    print(f"\n[fleet] faults: {sum(made)} calls, slowest {slowest[0] * 1000:.1f} ms, none raised")
    assert slowest[0] < 0.05  # a 600 ms pause and a dead server never show in a call
    for m in members:
        assert m.fleet is not None
        m.fleet.stop()


def _tls_server(tmp: Any) -> tuple[subprocess.Popen[bytes], int]:
    """A TLS-only redis-server (a certificate for 127.0.0.1 from a CA of its own) whose
    default user is off and whose one ACL user ``member`` may touch ``cbreaker:*``."""
    q = {
        k: shlex.quote(str(tmp / k))
        for k in ("ca.pem", "ca.key", "cert.pem", "key.pem", "leaf.csr", "leaf.ext")
    }
    (tmp / "leaf.ext").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    for cmd in (
        f"req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=CA -keyout {q['ca.key']} -out {q['ca.pem']}",
        f"req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout {q['key.pem']} -out {q['leaf.csr']}",
        f"x509 -req -in {q['leaf.csr']} -CA {q['ca.pem']} -CAkey {q['ca.key']} -CAcreateserial -days 1"
        f" -extfile {q['leaf.ext']} -out {q['cert.pem']}",
    ):
        subprocess.run(["openssl", *shlex.split(cmd)], check=True, capture_output=True)
    port = free_port()
    server = (
        f"redis-server --port 0 --tls-port {port} --bind 127.0.0.1 --tls-auth-clients no"
        f" --tls-cert-file {q['cert.pem']} --tls-key-file {q['key.pem']} --tls-ca-cert-file {q['ca.pem']}"
        f" --user default off --user member on >s3cret ~cbreaker:* +@all"
        f" --save '' --appendonly no --dir {shlex.quote(str(tmp))}"
    )
    proc = subprocess.Popen(shlex.split(server), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        assert time.monotonic() < deadline, "the TLS redis-server did not listen in 5 s"
        time.sleep(0.01)


def test_rediss_checks_the_server_against_ssl_cert_file(tmp_path: Any, monkeypatch: Any) -> None:
    proc, port = _tls_server(tmp_path)
    url = f"rediss://member:s3cret@127.0.0.1:{port}"

    def status(url: str) -> FleetSnapshot:
        b = CircuitBreaker("tls", **CONFIG, fleet=Fleet(url, sync_interval=0.05, timeout=2.0))
        assert b.fleet is not None
        wait_until(lambda: b.fleet.status != "joining", 10, "a first answer over TLS")  # type: ignore[union-attr]
        s = b.fleet.snapshot()
        b.fleet.stop()
        return s

    try:
        # The system's roots (this machine's bundle) do not hold the test's CA: refused by TLS.
        monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
        untrusted = status(url)
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        trusted = status(url)
        wrong_password = status(url.replace("s3cret", "wrong"))
        monkeypatch.setenv("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
        insecure = status(url + "/#insecure")
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert untrusted["status"] == "degraded", untrusted
    assert "certificate" in (untrusted["error"] or "").lower(), untrusted
    assert trusted["status"] == "joined", trusted["error"]
    assert wrong_password["status"] == "degraded", wrong_password
    assert any(w in (wrong_password["error"] or "") for w in ("WRONGPASS", "auth", "Auth")), wrong_password
    assert insecure["status"] == "joined", insecure
