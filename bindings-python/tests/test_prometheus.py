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
    assert s[("cbreaker_calls_total", (("breaker", "a"), ("outcome", "rejected")))] == 1
    assert s[("cbreaker_transitions_total", (("breaker", "a"), ("state", "open")))] == 1
    assert s[("cbreaker_retry_after_seconds", (("breaker", "a"),))] == 20.0
    # The core's family: 0 while forced open (no deadline to advise), where this said +Inf.
    assert s[("cbreaker_retry_after_seconds", (("breaker", "b"),))] == 0.0


def test_collector_over_breakers_and_mappings() -> None:
    b = CircuitBreaker("solo")
    b.call_sync(int)
    for source in ([b], {"renamed": b}):
        reg = CollectorRegistry()
        reg.register(CircuitBreakerCollector(source, namespace="svc"))
        s = samples(reg)
        name = "solo" if isinstance(source, list) else "renamed"
        assert s[("svc_calls_total", (("breaker", name), ("outcome", "success")))] == 1


def test_families_are_the_cores(clock: FakeClock) -> None:
    from cbreaker import _native
    from cbreaker.prometheus import CONTENT_TYPE, FAMILIES, text

    b = CircuitBreaker("core", failure_threshold=1, clock=clock)
    with pytest.raises(Boom):
        b.call_sync(lambda: (_ for _ in ()).throw(Boom()))
    reg = CollectorRegistry()
    reg.register(CircuitBreakerCollector([b]))
    exposed = {f.name: f for f in text_string_to_metric_families(generate_latest(reg).decode())}
    core = {f.name: f for f in text_string_to_metric_families(text([b]))}
    assert FAMILIES == _native.METRIC_FAMILIES and len(FAMILIES) == 8
    for name, kind, help_text, _unit, labels in FAMILIES:
        short = name.removesuffix("_total")
        for fams in (exposed, core):
            assert (fams[short].type, fams[short].documentation) == (kind, help_text)
            for sample in fams[short].samples:
                assert sorted(sample.labels) == sorted(labels)
        assert sorted((s.labels.items(), s.value) for s in exposed[short].samples) == sorted(
            (s.labels.items(), s.value) for s in core[short].samples
        )
    assert not {"cbreaker_rejected_calls", "cbreaker_window_failure_rate"} & (set(exposed) | set(core))
    assert 'cbreaker_calls_total{breaker="core",outcome="failure"} 1\n' in text([b])
    assert CONTENT_TYPE.startswith("text/plain; version=0.0.4")
