"""The native layer: config keywords, permits, state, snapshot, manual control, clock."""

from __future__ import annotations

import gc
import math
import sys

import pytest

import cbreaker
from cbreaker import ConfigError, NativeCircuitBreaker, PermitError, _native
from conftest import FakeClock

CORE_FIELDS = [
    # (keywords, field named by the error)
    ({"window": "count", "window_size": 0}, "window_size"),
    ({"window": "count", "window_size": 1025}, "window_size"),
    ({"window": "time", "window_duration": 0}, "window_duration"),
    ({"window": "time", "window_duration": 1.001, "window_buckets": 10}, "window_duration"),
    ({"window": "time", "window_buckets": 65}, "window_buckets"),
    ({"failure_rate_threshold": 101}, "failure_rate_threshold"),
    ({"failure_rate_threshold": 1000}, "failure_rate_threshold"),
    ({"slow_call_rate_threshold": 101}, "slow_call_rate_threshold"),
    ({"slow_call_duration": 5_000_000.0}, "slow_call_duration"),
    ({"window": "consecutive"}, "consecutive_failures"),
    ({"consecutive_failures": (1 << 20) + 1}, "consecutive_failures"),
    ({"open_duration": 0}, "open_duration"),
    ({"open_duration": 10, "open_duration_max": 5}, "open_duration_max"),
    ({"open_duration_multiplier": 0.5}, "open_duration_multiplier"),
    ({"open_duration_multiplier": 1000.5}, "open_duration_multiplier"),
    ({"jitter_percent": 101}, "jitter_percent"),
    ({"half_open_max_calls": 0}, "half_open_max_calls"),
    ({"half_open_max_calls": 32}, "half_open_max_calls"),
    ({"success_threshold": 0}, "success_threshold"),
    ({"success_threshold": 32}, "success_threshold"),
    ({"half_open_max_wait": 0}, "half_open_max_wait"),
]


@pytest.mark.parametrize(("kwargs", "field"), CORE_FIELDS)
def test_core_config_errors_name_the_keyword(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as e:
        NativeCircuitBreaker(**kwargs)
    assert e.value.field == field
    assert isinstance(e.value, ValueError)
    assert isinstance(e.value, cbreaker.CircuitBreakerError)
    assert str(e.value).startswith("invalid config: ")


BAD_VALUES = [-1, -0.5, math.nan, math.inf, -math.inf, "10", True, None.__class__, [1]]
FIELDS = [
    "window_size",
    "failure_rate_threshold",
    "slow_call_rate_threshold",
    "slow_call_duration",
    "consecutive_failures",
    "minimum_calls",
    "open_duration",
    "open_duration_max",
    "open_duration_multiplier",
    "jitter_percent",
    "jitter_seed",
    "half_open_max_calls",
    "success_threshold",
    "half_open_max_wait",
]


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("value", BAD_VALUES, ids=repr)
def test_bad_types_and_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ConfigError) as e:
        NativeCircuitBreaker(window="count", **{field: value})
    assert e.value.field == field


@pytest.mark.parametrize("field", ["window_duration", "window_buckets"])
@pytest.mark.parametrize("value", [-1, math.nan, math.inf, "x", False])
def test_bad_time_window_values(field: str, value: object) -> None:
    with pytest.raises(ConfigError) as e:
        NativeCircuitBreaker(window="time", **{field: value})
    assert e.value.field == field


def test_unknown_window_kind_and_misplaced_keywords() -> None:
    for kw, field in [
        ({"window": "sliding"}, "window"),
        ({"window": 3}, "window"),
        ({"window": "consecutive", "consecutive_failures": 3, "window_size": 5}, "window_size"),
        ({"window": "count", "window_duration": 5}, "window_duration"),
        ({"window": "count", "window_buckets": 5}, "window_buckets"),
        ({"clock": 5}, "clock"),
        ({"exclude": 5}, "exclude"),
        ({"exclude": [5]}, "exclude"),
    ]:
        with pytest.raises(ConfigError) as e:
            NativeCircuitBreaker(**kw)
        assert e.value.field == field, kw


def test_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        NativeCircuitBreaker(window_sizee=3)  # type: ignore[call-arg]


def test_config_round_trips_in_python_units() -> None:
    b = NativeCircuitBreaker(
        window="time",
        window_duration=10.0,
        window_buckets=5,
        failure_rate_threshold=25.0,
        slow_call_rate_threshold=40,
        slow_call_duration=1.5,
        minimum_calls=7,
        open_duration=2.5,
        open_duration_max=30,
        open_duration_multiplier=2.0,
        jitter_percent=10,
        jitter_seed=2**64 - 1,
        half_open_max_calls=4,
        success_threshold=3,
        half_open_max_wait=0.25,
    )
    assert b.config == {
        "window": "time",
        "window_duration": 10.0,
        "window_buckets": 5,
        "failure_rate_threshold": 25,
        "slow_call_rate_threshold": 40,
        "slow_call_duration": 1.5,
        "consecutive_failures": 0,
        "minimum_calls": 7,
        "open_duration": 2.5,
        "open_duration_max": 30.0,
        "open_duration_multiplier": 2.0,
        "jitter_percent": 10,
        "jitter_seed": 2**64 - 1,
        "half_open_max_calls": 4,
        "success_threshold": 3,
        "half_open_max_wait": 0.25,
    }


def test_fractional_percent_is_refused() -> None:
    with pytest.raises(ConfigError) as e:
        NativeCircuitBreaker(failure_rate_threshold=50.5)
    assert e.value.field == "failure_rate_threshold"


def test_largest_windows_fit() -> None:
    assert NativeCircuitBreaker(window="count", window_size=1024).config["window_size"] == 1024
    b = NativeCircuitBreaker(window="time", window_duration=64, window_buckets=64)
    assert b.config["window_buckets"] == 64
    assert cbreaker.MAX_SLOTS == 256


def _trip(b: NativeCircuitBreaker, n: int) -> list[cbreaker.Transition]:
    out = []
    for _ in range(n):
        p = b.try_acquire()
        assert p is not None
        t = p.record_failure()
        if t is not None:
            out.append(t)
    return out


def test_permit_flow_trip_and_recover(clock: FakeClock) -> None:
    b = NativeCircuitBreaker(window="consecutive", consecutive_failures=3, open_duration=5, clock=clock)
    trs = _trip(b, 3)
    assert [str(t) for t in trs] == ["closed->open"]
    t = trs[0]
    assert (t.from_state, t.to_state, t.cause, t.at) == ("closed", "open", "consecutive_failures", 1.0)
    assert b.state == "open"
    assert b.try_acquire() is None
    with pytest.raises(cbreaker.CircuitBreakerOpenError) as e:
        b.acquire_or_raise()
    assert e.value.retry_after == 5.0
    clock.advance(4.5)
    assert b.snapshot()["retry_after"] == 0.5
    clock.advance(0.5)
    assert b.state == "half_open"
    p = b.try_acquire()
    assert p is not None and p.state == "half_open"
    assert p.transition is not None and str(p.transition) == "open->half_open"
    t2 = p.record_success()
    assert t2 is not None and str(t2) == "half_open->closed" and t2.cause == "probes_succeeded"
    s = b.snapshot()
    assert (s["calls"], s["failures"], s["successes"], s["rejected"]) == (4, 3, 1, 2)
    assert s["transitions"]["open"] == 1 and s["transitions"]["closed"] == 1


def test_second_report_raises(clock: FakeClock) -> None:
    b = NativeCircuitBreaker(clock=clock)
    p = b.try_acquire()
    assert p is not None
    assert not p.reported
    p.record_success()
    assert p.reported
    for report in (p.record_success, p.record_failure, p.record_ignored):
        with pytest.raises(PermitError):
            report()
    assert b.snapshot()["calls"] == 1


def test_dropped_permit_is_released(clock: FakeClock) -> None:
    b = NativeCircuitBreaker(window="consecutive", consecutive_failures=1, open_duration=1, clock=clock)
    _trip(b, 1)
    clock.advance(1)
    p = b.try_acquire()
    assert p is not None and b.try_acquire() is None  # the one half-open slot is taken
    del p
    gc.collect()
    s = b.snapshot()
    assert s["ignored"] == 1
    assert b.try_acquire() is not None  # the slot was freed


def test_duration_marks_slow_calls(clock: FakeClock) -> None:
    b = NativeCircuitBreaker(
        window="count",
        window_size=4,
        minimum_calls=4,
        slow_call_rate_threshold=50,
        slow_call_duration=1.0,
        failure_rate_threshold=0,
        clock=clock,
    )
    for d in (1.0, 0.999, 2.0):
        p = b.try_acquire()
        assert p is not None
        p.record_success(duration=d)
    assert b.snapshot()["slow"] == 2
    # Measured automatically when slow-call tripping is on: the clock moves during the call.
    p = b.try_acquire()
    assert p is not None
    clock.advance(1.5)
    t = p.record_success()
    assert t is not None and t.cause == "slow_call_rate"
    with pytest.raises(ValueError):
        NativeCircuitBreaker(clock=clock).try_acquire().record_success(duration=-1)  # type: ignore[union-attr]


def test_manual_control_each_one_transition(clock: FakeClock) -> None:
    b = NativeCircuitBreaker(clock=clock)
    seen = [str(b.force_open()), b.state]
    with pytest.raises(cbreaker.CircuitBreakerOpenError) as e:
        b.acquire_or_raise()
    assert e.value.retry_after is None
    seen += [str(b.force_closed()), b.state, str(b.metrics_only()), b.state, str(b.reset()), b.state]
    assert seen == [
        "closed->forced_open",
        "forced_open",
        "forced_open->disabled",
        "disabled",
        "disabled->metrics_only",
        "metrics_only",
        "metrics_only->closed",
        "closed",
    ]
    assert str(b.reset()) == "closed->closed"


def test_closed_success_path_reads_no_clock() -> None:
    clock = FakeClock(5)
    b = NativeCircuitBreaker(window="count", window_size=10, clock=clock)
    for _ in range(100):
        b.call_sync(lambda: None)
    assert clock.reads == 0
    b.snapshot()
    assert clock.reads == 1


def test_clock_errors_surface_and_do_not_wedge() -> None:
    calls = {"n": 0}

    def bad_clock() -> int:
        calls["n"] += 1
        raise OSError("clock broke")

    b = NativeCircuitBreaker(clock=bad_clock)
    with pytest.raises(OSError):
        b.snapshot()
    assert calls["n"] == 1
    assert b.state == "closed"  # a closed breaker needs no time to answer
    assert calls["n"] == 1
    with pytest.raises(OSError):
        b.force_open()
    b2 = NativeCircuitBreaker(clock=lambda: "soon")
    with pytest.raises(TypeError):
        b2.force_open()


def test_default_clock_is_monotonic_seconds() -> None:
    b = NativeCircuitBreaker()
    a = b.now()
    assert b.now() >= a >= 0
    assert b.clock is None


def test_permit_bits_and_repr(clock: FakeClock) -> None:
    b = NativeCircuitBreaker(clock=clock)
    p = b.try_acquire()
    assert p is not None
    assert isinstance(p.to_bits(), int)
    assert "closed" in repr(p)
    p.record_ignored()
    assert b.snapshot()["ignored"] == 1


def test_types_are_frozen() -> None:
    b = NativeCircuitBreaker()
    with pytest.raises(AttributeError):
        b.state = "open"  # type: ignore[misc]
    assert _native.CircuitBreaker.__module__ == "cbreaker._native"


@pytest.mark.parametrize("size", [31, 32, 33, 1024])
def test_inline_and_boxed_storage_behave_alike(size: int) -> None:
    """Windows up to 32 outcomes live inline, bigger ones in a boxed MAX_SLOTS breaker."""
    clock = FakeClock(0)
    b = NativeCircuitBreaker(window="count", window_size=size, minimum_calls=size, clock=clock)
    for i in range(size - 1):
        p = b.try_acquire()
        assert p is not None
        assert (p.record_failure() if i % 2 else p.record_success()) is None
    p = b.try_acquire()
    assert p is not None
    t = p.record_failure()
    assert t is not None and t.cause == "failure_rate"
    s = b.snapshot()
    assert (s["window_calls"], s["window_failures"]) == (
        size,
        size // 2 + size % 2 if size % 2 else size // 2,
    )
    small = size <= 32
    assert (sys.getsizeof(b) < 600) == small


def test_exceptions_pickle_and_hierarchy() -> None:
    import pickle

    from cbreaker import exceptions as ex

    e = pickle.loads(pickle.dumps(ex.CircuitBreakerOpenError(1.5, "svc")))
    assert (e.retry_after, e.name, str(e)) == (1.5, "svc", "circuit 'svc' open: retry after 1.500 s")
    c = pickle.loads(pickle.dumps(ex.ConfigError("bad", "open_duration")))
    assert (c.field, str(c)) == ("open_duration", "bad")
    assert str(ex.CircuitBreakerOpenError(None)) == "circuit forced open"
    for cls in (
        ex.CircuitBreakerOpenError,
        ex.ConfigError,
        ex.PermitError,
        ex.AllTiersFailedError,
        ex.RetryExhaustedError,
    ):
        assert issubclass(cls, ex.CircuitBreakerError)
    assert issubclass(ex.PermitError, RuntimeError)


def test_transition_repr_and_equality(clock: FakeClock) -> None:
    b = NativeCircuitBreaker(clock=clock)
    t = b.force_open()
    assert repr(t) == (
        'Transition(from_state="closed", to_state="forced_open", at=1, generation=1, cause="force_open")'
    )
    assert t == t and t != b.reset()


# ---- issue 13: the call protocol, settle-once, manual moves, presets, health ----------------


def test_second_settle_is_the_cores_permit_settled_everywhere(clock: FakeClock) -> None:
    b = NativeCircuitBreaker(clock=clock)
    settles = [
        lambda p: p.finish("success"),
        lambda p: p.record_failure(),
        lambda p: p.record_ignored(),
        lambda p: b.record(p, "success"),
        lambda p: b._end(p),
    ]
    for first in settles:
        for second in settles:
            p = b.try_acquire()
            assert p is not None
            first(p)
            calls = b.snapshot()["calls"]
            with pytest.raises(cbreaker.PermitSettledError) as e:
                second(p)
            assert e.value.code == _native.PERMIT_SETTLED_CODE == "permit_settled"
            assert str(e.value) == _native.PERMIT_SETTLED_MESSAGE
            assert isinstance(e.value, PermitError)
            assert b.snapshot()["calls"] == calls  # nothing recorded
    other = NativeCircuitBreaker(clock=clock)
    p = other.try_acquire()
    with pytest.raises(PermitError, match="another breaker"):
        b.record(p, "success")  # type: ignore[arg-type]
    assert p is not None and not p.reported
    with pytest.raises(ValueError, match="outcome must be one of"):
        p.finish("nope")  # type: ignore[arg-type]
    assert cbreaker.PermitSettledError.code == "permit_settled"


def test_collected_unsettled_permit_is_cancelled(clock: FakeClock) -> None:
    b = NativeCircuitBreaker(window="count", window_size=4, slow_call_rate_threshold=50, clock=clock)
    p = b.try_acquire()
    assert p is not None and p.timed
    clock.advance(5)
    del p
    gc.collect()
    s = b.snapshot()
    assert (s["ignored"], s["calls"], s["slow"]) == (1, 1, 0)  # cancelled: ignored, never slow


def test_timing_is_the_cores_rule(clock: FakeClock) -> None:
    untimed = NativeCircuitBreaker(window="count", window_size=4, clock=clock)
    timed = NativeCircuitBreaker(window="count", window_size=4, slow_call_rate_threshold=100, clock=clock)
    assert (untimed.times_calls(), untimed.times_calls(sink=True), timed.times_calls()) == (False, True, True)
    for b, sink, want in [(untimed, False, None), (untimed, True, 2.5), (timed, False, 2.5)]:
        p = b.try_acquire(sink=sink)
        assert p is not None and p.timed == (want is not None) and p.duration is None
        clock.advance(2.5)
        p.finish("timeout")  # the helper's own timeout: a failure
        assert p.duration == want
    assert untimed.snapshot()["failures"] == 2
    # A timed call through a helper always reports its duration: slow calls are counted.
    b = NativeCircuitBreaker(window="count", window_size=4, slow_call_rate_threshold=100,
                             slow_call_duration=1.0, minimum_calls=4, clock=clock)  # fmt: skip
    b.call_sync(lambda: clock.advance(1.5))
    assert b.snapshot()["slow"] == 1
    with pytest.raises(TypeError):
        NativeCircuitBreaker(measure_durations=True)  # type: ignore[call-arg]


def test_record_is_the_cores_record_verb(clock: FakeClock) -> None:
    b = NativeCircuitBreaker(window="count", window_size=4, slow_call_rate_threshold=100,
                             slow_call_duration=1.0, minimum_calls=4, clock=clock)  # fmt: skip
    p = b.try_acquire()
    assert p is not None
    clock.advance(3)
    assert b.record(p, "success") is None  # exactly the duration given: none
    assert p.duration is None and b.snapshot()["slow"] == 0
    q = b.try_acquire()
    assert q is not None
    assert b.record(q, "failure", 2.0) is None
    assert q.duration == 2.0 and b.snapshot()["slow"] == 1
    with pytest.raises(ValueError):
        b.record(b.try_acquire(), "success", -1)  # type: ignore[arg-type]


def test_trip_and_half_open_by_hand(clock: FakeClock) -> None:
    b = NativeCircuitBreaker(open_duration=5, clock=clock)
    t = b.trip()
    assert (str(t), t.cause, b.state) == ("closed->open", "trip", "open")
    with pytest.raises(cbreaker.CircuitBreakerOpenError) as e:
        b.acquire_or_raise()
    assert (e.value.reason, e.value.retry_after) == ("open", 5.0)
    clock.advance(5)
    p = b.try_acquire()  # it recovers by itself, unlike force_open
    assert p is not None and p.transition is not None and p.transition.cause == "open_elapsed"
    with pytest.raises(cbreaker.CircuitBreakerOpenError) as e:
        b.acquire_or_raise()
    assert e.value.reason == "half_open_full" and e.value.retry_after is not None
    assert 0 < e.value.retry_after <= 1.0  # the core's advice: at most a second
    assert "half-open" in str(e.value)
    p.record_success()
    assert b.state == "closed"
    t = b.half_open()
    assert (str(t), t.cause, b.state) == ("closed->half_open", "half_open", "half_open")
    b.force_open()
    with pytest.raises(cbreaker.CircuitBreakerOpenError) as e:
        b.acquire_or_raise()
    assert (e.value.reason, e.value.retry_after) == ("forced_open", None)


def test_defaults_and_presets_come_from_the_core() -> None:
    assert cbreaker.PRESETS == _native.PRESETS
    assert set(cbreaker.PRESETS) >= {"agents_platform", "pybreaker", "http_api", "llm_service"}
    default = NativeCircuitBreaker().config
    assert default["window"] == "count"  # Config::default(): the vector defaults_empty_config_*
    for name in cbreaker.PRESETS:
        c = NativeCircuitBreaker(preset=name).config
        assert c == NativeCircuitBreaker(preset=name, **{k: v for k, v in c.items()}).config
    llm = NativeCircuitBreaker(preset="llm_service", minimum_calls=10).config
    assert llm == {**NativeCircuitBreaker(preset="llm_service").config, "minimum_calls": 10}
    for bad in ("nope", 5, ""):
        with pytest.raises(ConfigError) as e:
            NativeCircuitBreaker(preset=bad)  # type: ignore[arg-type]
        assert e.value.field == "preset"
    # A time window needs both parts: the core has no default one.
    for kw, field in [({"window": "time"}, "window_buckets"), ({"window_duration": 10}, "window_buckets"),
                      ({"window_buckets": 5}, "window_duration")]:  # fmt: skip
        with pytest.raises(ConfigError) as e:
            NativeCircuitBreaker(**kw)  # type: ignore[arg-type]
        assert e.value.field == field, kw


def test_health_is_the_cores_rule(clock: FakeClock) -> None:
    b = NativeCircuitBreaker(open_duration=1, clock=clock)
    seen = [b.health()]
    for move in (b.trip, b.half_open, b.force_open, b.force_closed, b.metrics_only, b.reset):
        move()
        seen.append(b.health())
    assert seen == ["healthy", "unhealthy", "unhealthy", "unhealthy", "healthy", "healthy", "healthy"]
    assert _native.group_health([]) == "healthy"
    assert _native.group_health(["closed", "half_open"]) == "degraded"
    assert _native.group_health(["open", "half_open", "forced_open"]) == "unhealthy"
    with pytest.raises(ValueError):
        _native.group_health(["sideways"])  # type: ignore[list-item]
