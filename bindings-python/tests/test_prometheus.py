"""The Prometheus collector (extra `[prometheus]`)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from cbreaker import CircuitBreaker, CircuitBreakerManager, CircuitBreakerOpenError
from cbreaker.prometheus import CircuitBreakerCollector
from conftest import FakeClock


class Boom(Exception):
    pass


def samples(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(generate_latest(registry).decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_collector_exports_state_outcomes_rejections_transitions(clock: FakeClock) -> None:
    mgr = CircuitBreakerManager(clock=clock)
    a = mgr.register_breaker("a", failure_threshold=2, recovery_timeout=30)
    mgr.register_breaker("b").force_open()
    a.call_sync(lambda: 1)
    for _ in range(2):
        with pytest.raises(Boom):
            a.call_sync(lambda: (_ for _ in ()).throw(Boom()))
    with pytest.raises(CircuitBreakerOpenError):
        a.call_sync(lambda: 1)
    clock.advance(10)
    reg = CollectorRegistry()
    reg.register(CircuitBreakerCollector(mgr))
    s = samples(reg)
    assert s[("cbreaker_state", (("breaker", "a"), ("state", "open")))] == 1
    assert s[("cbreaker_state", (("breaker", "a"), ("state", "closed")))] == 0
    assert s[("cbreaker_state", (("breaker", "b"), ("state", "forced_open")))] == 1
    assert s[("cbreaker_calls_total", (("breaker", "a"), ("outcome", "success")))] == 1
    assert s[("cbreaker_calls_total", (("breaker", "a"), ("outcome", "failure")))] == 2
    assert s[("cbreaker_rejected_calls_total", (("breaker", "a"),))] == 1
    assert s[("cbreaker_transitions_total", (("breaker", "a"), ("to_state", "open")))] == 1
    assert s[("cbreaker_retry_after_seconds", (("breaker", "a"),))] == 20.0
    assert s[("cbreaker_retry_after_seconds", (("breaker", "b"),))] == float("inf")


def test_collector_over_breakers_and_mappings() -> None:
    b = CircuitBreaker("solo")
    b.call_sync(int)
    for source in ([b], {"renamed": b}):
        reg = CollectorRegistry()
        reg.register(CircuitBreakerCollector(source, namespace="svc"))
        s = samples(reg)
        name = "solo" if isinstance(source, list) else "renamed"
        assert s[("svc_calls_total", (("breaker", name), ("outcome", "success")))] == 1
