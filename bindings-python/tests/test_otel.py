"""Observability users already run: OpenTelemetry instruments (extra `[otel]`) read back through
the real SDK's InMemoryMetricReader, transitions on the `logging` module with structured
`extra`, and the resilience4j-named Prometheus output read back by prometheus_client's parser.
After a scripted trip -> reject -> recover, every figure must be exactly the core's counters."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import Gauge, InMemoryMetricReader, Sum
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from cbreaker import CircuitBreaker, CircuitBreakerManager, ConfigError
from cbreaker.otel import ATTR_NAME, INSTRUMENTS, METER_NAME, instrument
from cbreaker.prometheus import CircuitBreakerCollector, text
from conftest import FakeClock

Key = tuple[str, frozenset[tuple[str, str]]]


@pytest.fixture
def reader() -> Iterator[InMemoryMetricReader]:
    r = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[r])
    r.provider = provider  # type: ignore[attr-defined]
    yield r
    provider.shutdown()


def scripted(clock: FakeClock, name: str = "payments") -> CircuitBreaker:
    """A count window of 4 tripping at 60 % failures (at least 2 calls), slow at 100 ms."""
    return CircuitBreaker(
        name, window="count", window_size=4, minimum_calls=2, failure_rate_threshold=60,
        slow_call_duration=0.1, open_duration=10, half_open_max_calls=1, success_threshold=1, clock=clock,
    )  # fmt: skip


def trip_reject_recover(b: CircuitBreaker, clock: FakeClock) -> None:
    b.try_acquire().record_success(0.2)  # slow
    b.try_acquire().record_ignored()
    b.try_acquire().record_failure(0.01)
    b.try_acquire().record_failure(0.01)  # 2 of 3: open
    assert b.try_acquire() is None and b.try_acquire() is None  # rejected twice
    clock.advance(10)
    b.try_acquire().record_success(0.01)  # the probe closes it
    b.try_acquire().record_success(0.3)  # slow
    b.try_acquire().record_failure(0.01)
    b.try_acquire().record_success(0.01)


def otel_points(reader: InMemoryMetricReader) -> dict[str, dict[frozenset[tuple[str, str]], float]]:
    data = reader.get_metrics_data()
    assert data is not None
    out: dict[str, dict[frozenset[tuple[str, str]], float]] = {}
    for rm in data.resource_metrics:
        for sm in rm.scope_metrics:
            assert sm.scope.name == METER_NAME == "cbreaker"
            for m in sm.metrics:
                kind = dict((i[0], i[1]) for i in INSTRUMENTS)[m.name]
                if kind.endswith("counter"):
                    assert isinstance(m.data, Sum) and m.data.is_monotonic, m.name
                else:
                    assert isinstance(m.data, Gauge), m.name
                out[m.name] = {
                    frozenset((k, str(v)) for k, v in p.attributes.items()): p.value  # type: ignore[union-attr]
                    for p in m.data.data_points
                }
    return out


def prometheus(body: str) -> dict[Key, float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for fam in text_string_to_metric_families(body)
        for s in fam.samples
    }


def attrs(name: str, **kw: str) -> frozenset[tuple[str, str]]:
    return frozenset({(ATTR_NAME, name), *((f"circuit_breaker.{k}", v) for k, v in kw.items())})


def test_every_instrument_reads_the_cores_counters(reader: InMemoryMetricReader) -> None:
    clock = FakeClock(1_000)
    b = scripted(clock)
    instrument([b], meter_provider=reader.provider)  # type: ignore[attr-defined]
    trip_reject_recover(b, clock)
    s = b.snapshot()
    assert (s["successes"], s["failures"], s["ignored"], s["rejected"], s["slow"]) == (4, 3, 1, 2, 2)
    assert (s["window_calls"], s["window_failures"], s["window_slow"]) == (3, 1, 1)
    got = otel_points(reader)
    prom = prometheus(text([b]))
    n = "payments"

    outcomes = {
        o: s[k] for o, k in (("success", "successes"), ("failure", "failures"), ("ignored", "ignored"))
    }
    outcomes["rejected"] = s["rejected"]
    assert got["circuit_breaker.calls"] == {attrs(n, outcome=o): v for o, v in outcomes.items()}
    for o, v in outcomes.items():
        assert prom[("cbreaker_calls_total", frozenset({("breaker", n), ("outcome", o)}))] == v
    states = list(s["transitions"])
    assert len(states) == 6
    assert got["circuit_breaker.status"] == {attrs(n, state=st): float(st == "closed") for st in states}
    for st in states:
        assert prom[("cbreaker_state", frozenset({("breaker", n), ("state", st)}))] == float(st == "closed")
    assert got["circuit_breaker.transitions"] == {
        attrs(n, state=st): s["transitions"][st]
        for st in states  # type: ignore[literal-required]
    }
    assert s["transitions"] == dict.fromkeys(states, 0) | {"closed": 1, "open": 1, "half_open": 1}
    # One add per transition event, by previous state, state entered and cause.
    assert got["circuit_breaker.state_changes"] == {
        attrs(n, previous_state="closed", state="open", cause="failure_rate"): 1,
        attrs(n, previous_state="open", state="half_open", cause="open_elapsed"): 1,
        attrs(n, previous_state="half_open", state="closed", cause="probes_succeeded"): 1,
    }
    assert got["circuit_breaker.slow_calls"] == {attrs(n): s["slow"]}
    assert prom[("cbreaker_slow_calls_total", frozenset({("breaker", n)}))] == s["slow"]
    assert got["circuit_breaker.window.failure_rate"] == {attrs(n): s["failure_rate"]}
    assert got["circuit_breaker.window.slow_call_rate"] == {attrs(n): s["slow_rate"]}
    assert s["failure_rate"] == s["slow_rate"] == 100 / 3
    assert prom[("cbreaker_window_failure_rate_percent", frozenset({("breaker", n)}))] == s["failure_rate"]
    assert got["circuit_breaker.retry_after"] == {attrs(n): 0.0}
    # Every instrument of the core's table is registered; the duration histogram has no
    # points in this binding (its hooks carry no duration).
    assert {i[0] for i in INSTRUMENTS} - set(got) == {"circuit_breaker.call.duration"}


def test_a_manager_is_read_anew_and_close_stops_reporting(reader: InMemoryMetricReader) -> None:
    clock = FakeClock(0)
    mgr = CircuitBreakerManager(clock=clock)
    handle = instrument(mgr, meter_provider=reader.provider)  # type: ignore[attr-defined]
    a = mgr.register_breaker("a", failure_threshold=1)
    assert otel_points(reader)["circuit_breaker.calls"][attrs("a", outcome="failure")] == 0
    a.force_open()  # after the first collection attached its listener
    a.reset()
    got = otel_points(reader)
    assert got["circuit_breaker.state_changes"] == {
        attrs("a", previous_state="closed", state="forced_open", cause="force_open"): 1,
        attrs("a", previous_state="forced_open", state="closed", cause="reset"): 1,
    }
    handle.close()
    a.trip()
    after = otel_points(reader)
    assert "circuit_breaker.calls" not in after and "circuit_breaker.status" not in after
    assert attrs("a", previous_state="closed", state="open", cause="trip") not in after.get(
        "circuit_breaker.state_changes", {}
    )


def test_a_breaker_whose_clock_raises_does_not_hide_the_others(reader: InMemoryMetricReader) -> None:
    ok = CircuitBreaker("ok")
    broken_clock_on = [False]

    def clock() -> int:
        if broken_clock_on[0]:
            raise RuntimeError("clock broke")
        return 0

    bad = CircuitBreaker("bad", clock=clock)
    instrument({"ok": ok, "bad": bad}, meter_provider=reader.provider)  # type: ignore[attr-defined]
    ok.call_sync(int)
    broken_clock_on[0] = True
    got = otel_points(reader)
    assert got["circuit_breaker.calls"][attrs("ok", outcome="success")] == 1
    assert not any(dict(k)[ATTR_NAME] == "bad" for k in got["circuit_breaker.calls"])


def test_bad_arguments_name_what_is_wrong() -> None:
    with pytest.raises(TypeError, match="source must be"):
        instrument(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"source must hold cbreaker\.CircuitBreaker objects, got 1"):
        instrument([1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="meter_provider must be"):
        instrument([], meter_provider=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="cbreaker, resilience4j") as e:
        text([], "micrometer")  # type: ignore[arg-type]
    assert e.value.field == "naming"
    with pytest.raises(ConfigError) as e:
        CircuitBreakerCollector([], naming="micrometer")  # type: ignore[arg-type]
    assert e.value.field == "naming"
    with pytest.raises(ConfigError) as e:
        CircuitBreakerCollector([], namespace="svc", naming="resilience4j")
    assert e.value.field == "namespace"


def test_transitions_are_logged_with_structured_extra(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(1_000)
    b = scripted(clock)
    with caplog.at_level(logging.INFO, logger="cbreaker"):
        trip_reject_recover(b, clock)
    keys = [ATTR_NAME, *(f"circuit_breaker.{k}" for k in ("previous_state", "state", "cause"))]
    got = [(r.levelname, *(r.__dict__[k] for k in keys)) for r in caplog.records if r.name == "cbreaker"]
    assert got == [
        ("WARNING", "payments", "closed", "open", "failure_rate"),
        ("INFO", "payments", "open", "half_open", "open_elapsed"),
        ("INFO", "payments", "half_open", "closed", "probes_succeeded"),
    ]
    # The keys work in a format string too (beside a plain field, which %-style validation asks).
    fmt = logging.Formatter("%(levelname)s %(circuit_breaker.name)s %(circuit_breaker.cause)s")
    assert fmt.format(caplog.records[0]) == "WARNING payments failure_rate"


def test_resilience4j_names_parse_and_match_the_counts() -> None:
    clock = FakeClock(1_000)
    b = scripted(clock, "backend")
    trip_reject_recover(b, clock)
    s = b.snapshot()
    body = text([b], naming="resilience4j")
    got = prometheus(body)
    name = ("name", "backend")

    def r4j(family: str, **labels: str) -> float:
        return got[(f"resilience4j_circuitbreaker_{family}", frozenset({name, *labels.items()}))]

    assert [r4j("state", state=st) for st in s["transitions"]] == [1, 0, 0, 0, 0, 0]
    assert r4j("calls_seconds_count", kind="successful") == s["successes"] == 4
    assert r4j("calls_seconds_count", kind="failed") == s["failures"] == 3
    assert r4j("calls_seconds_count", kind="ignored") == s["ignored"] == 1
    assert r4j("not_permitted_calls_total", kind="not_permitted") == s["rejected"] == 2
    assert r4j("buffered_calls", kind="successful") == s["window_calls"] - s["window_failures"] == 2
    assert r4j("buffered_calls", kind="failed") == s["window_failures"] == 1
    assert r4j("slow_calls", kind="all") == s["window_slow"] == 1
    assert r4j("failure_rate") == r4j("slow_call_rate") == s["failure_rate"]
    types = {f.name: f.type for f in text_string_to_metric_families(body)}
    assert types["resilience4j_circuitbreaker_calls_seconds"] == "summary"
    assert types["resilience4j_circuitbreaker_not_permitted_calls"] == "counter"
    # The prometheus_client collector exposes the same samples as the core's text.
    reg = CollectorRegistry()
    reg.register(CircuitBreakerCollector([b], naming="resilience4j"))
    assert prometheus(generate_latest(reg).decode()) == got
    # resilience4j's -1 while the window holds fewer than minimum_calls.
    fresh = scripted(clock, "fresh")
    assert prometheus(text({"fresh": fresh}, "resilience4j"))[
        ("resilience4j_circuitbreaker_failure_rate", frozenset({("name", "fresh")}))
    ] == -1  # fmt: skip


def histogram_points(reader: InMemoryMetricReader) -> dict[frozenset[tuple[str, str]], tuple[int, float]]:
    """``circuit_breaker.call.duration``'s points: attributes → (count, sum)."""
    data = reader.get_metrics_data()
    out: dict[frozenset[tuple[str, str]], tuple[int, float]] = {}
    for rm in data.resource_metrics if data is not None else ():
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                if m.name == "circuit_breaker.call.duration":
                    for p in m.data.data_points:
                        out[frozenset(p.attributes.items())] = (p.count, p.sum)  # type: ignore[union-attr]
    return out


def test_durations_are_recorded_only_when_asked(reader: InMemoryMetricReader) -> None:
    clock = FakeClock(0)
    plain = CircuitBreaker("plain", clock=clock)
    timed = CircuitBreaker("timed", clock=clock)
    instrument([plain], meter_provider=reader.provider)  # type: ignore[attr-defined]
    handle = instrument([timed], meter_provider=reader.provider, durations=True)  # type: ignore[attr-defined]

    def slow() -> int:
        clock.advance(0.25)
        return 1

    def bad() -> int:
        clock.advance(0.5)
        raise ValueError("down")

    for b in (plain, timed):
        assert b.call_sync(slow) == 1
        with pytest.raises(ValueError):
            b.call_sync(bad)
    # No sink without durations=True: the call path is as it was (calls are not timed).
    assert plain._duration_sinks == () and len(timed._duration_sinks) == 1
    got = histogram_points(reader)
    assert frozenset({("circuit_breaker.name", "plain")}) not in got
    count, total = got[frozenset({("circuit_breaker.name", "timed")})]
    assert count == 2 and abs(total - 0.75) < 1e-9
    handle.close()
    timed.call_sync(slow)
    assert histogram_points(reader)[frozenset({("circuit_breaker.name", "timed")})][0] == 2
    with pytest.raises(TypeError, match="durations"):
        instrument([timed], meter_provider=reader.provider, durations="yes")  # type: ignore[arg-type]
