"""Runs one conformance vector (tests/vectors/README.md) through the public Python API.

Time is injected: the breaker's clock returns the step's ``at`` (ms) in nanoseconds. The config
is the core's: ``NativeCircuitBreaker(**keywords).config`` fills in ``Config::default()`` or the
preset, and ``cbreaker.CircuitBreaker`` is built with every resolved value. ``acquire`` /
``record`` are ``acquire_or_raise()`` / ``breaker.record(permit, outcome, duration)``;
``begin`` / ``finish`` the call protocol (``acquire_or_raise(sink=...)`` / ``permit.finish(end)``);
``call`` steps go through ``call_sync`` (a function that returns, raises, or raises an excluded
error) where the core does not time calls, else through a permit recorded with the step's
duration. Transitions are collected by an ``on_state_change`` listener and checked against the
values the API returns.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

import cbreaker
from cbreaker import CircuitBreaker, CircuitBreakerOpenError, ConfigError, NativeCircuitBreaker

REPO = Path(__file__).resolve().parents[2]


class VectorMismatch(AssertionError):
    pass


class VectorFailure(Exception):
    """What a failing call raises."""


class VectorIgnored(Exception):
    """What an ignored call raises (excluded)."""


def vector_files() -> list[Path]:
    """tests/vectors/*.json, then every *.json in each dir of $CBREAKER_VECTORS."""
    dirs = [REPO / "tests" / "vectors"]
    dirs += [Path(d) for d in os.environ.get("CBREAKER_VECTORS", "").split(":") if d]
    files: list[Path] = []
    for d in dirs:
        if not d.is_dir():
            raise FileNotFoundError(f"vector directory {d} does not exist")
        files += sorted(d.glob("*.json"))
    return files


_KEYWORDS = {
    "window.size": "window_size",
    "window.duration": "window_duration",
    "window.buckets": "window_buckets",
}
_MS = {
    "slow_call_duration_ms": "slow_call_duration",
    "open_duration_ms": "open_duration",
    "open_duration_max_ms": "open_duration_max",
    "half_open_max_wait_ms": "half_open_max_wait",
}


_TOP = {"name", "description", "config", "steps", "expect_config_error"}
_CONFIG = {
    "preset", "window", "failure_rate_threshold", "slow_call_rate_threshold", "slow_call_duration_ms",
    "consecutive_failures", "minimum_calls", "open_duration_ms", "open_duration_max_ms",
    "open_duration_multiplier", "jitter_percent", "jitter_seed", "half_open_max_calls",
    "success_threshold", "half_open_max_wait_ms",
}  # fmt: skip
_COMMON = {"at", "op", "expect_transitions", "comment"}
_DECISION = {"expect", "as", "retry_after_ms", "reason"}
_OPS = {
    "acquire": _DECISION,
    "begin": _DECISION | {"sink", "expect_timed"},
    "finish": {"call", "end", "expect_duration_ms", "expect_error"},
    "health": {"expect_health"},
    "config": {"expect"},
    "trip": set(),
    "half_open": set(),
    "record": {"permit", "outcome", "duration_ms"},
    "drop": {"permit"},
    "call": {"outcome", "duration_ms", "times"},
    "state": {"expect_state"},
    "snapshot": {"expect"},
    "force_open": set(),
    "force_closed": set(),
    "metrics_only": set(),
    "reset": set(),
}


def check_shape(v: dict[str, Any], stem: str) -> None:
    """The README's strictness: unknown keys are errors, the name is the file name."""
    if v.get("name") != stem:
        raise VectorMismatch(f"{stem}: name {v.get('name')!r} differs from the file name")
    bad = set(v) - _TOP
    bad |= {f"config.{k}" for k in set(v["config"]) - _CONFIG}
    for i, step in enumerate(v.get("steps", [])):
        allowed = _OPS.get(step.get("op"))
        if allowed is None:
            bad.add(f"steps[{i}].op={step.get('op')!r}")
        else:
            bad |= {f"steps[{i}].{k}" for k in set(step) - allowed - _COMMON}
    if bad:
        raise VectorMismatch(f"{stem}: unknown keys {sorted(bad)}")


def config_kwargs(cfg: dict[str, Any]) -> dict[str, Any]:
    """The vector's config as Python keywords (seconds), as given: absent keys stay absent."""
    kw: dict[str, Any] = {}
    for k, v in cfg.items():
        if k == "window":
            kw["window"] = v["kind"]
            if v["kind"] == "count":
                kw["window_size"] = v["size"]
            elif v["kind"] == "time":
                kw["window_duration"] = v["duration_ms"] / 1000
                kw["window_buckets"] = v["buckets"]
        elif k in _MS:
            kw[_MS[k]] = v / 1000
        else:
            kw[k] = v
    return kw


def config_keys(config: dict[str, Any]) -> dict[str, Any]:
    """A breaker's ``config`` as the vector's keys (milliseconds, ``window`` an object)."""
    out: dict[str, Any] = {k: v for k, v in config.items() if not k.startswith("window")}
    for ms_key, py_key in _MS.items():
        out[ms_key] = round(out.pop(py_key) * 1000)
    w: dict[str, Any] = {"kind": config["window"]}
    if w["kind"] == "count":
        w["size"] = config["window_size"]
    elif w["kind"] == "time":
        w.update(duration_ms=round(config["window_duration"] * 1000), buckets=config["window_buckets"])
    out["window"] = w
    return out


def named(t: cbreaker.Transition, want: str) -> str:
    """``t`` as ``want`` writes it: ``from->to``, or ``from->to:cause``."""
    return f"{t}:{t.cause}" if ":" in want else str(t)


class Runner:
    def __init__(self, vector: dict[str, Any]) -> None:
        self.v = vector
        self.now_ms = 0
        self.permits: dict[str, Optional[cbreaker.Permit]] = {}
        self.calls: dict[str, cbreaker.Permit] = {}
        self.keep: list[cbreaker.Permit] = []  # unnamed permits stay alive, as in the Rust runner
        self.heard: list[cbreaker.Transition] = []

    def fail(self, i: int, step: dict[str, Any], msg: str) -> None:
        raise VectorMismatch(f"{self.v['name']}: step {i} {json.dumps(step)}: {msg}")

    def clock(self) -> int:
        return self.now_ms * 1_000_000

    def run(self) -> None:
        v = self.v
        kw = config_kwargs(v["config"])
        want = v.get("expect_config_error")
        want = _KEYWORDS.get(want, want)
        try:
            # The core fills in its defaults (or the preset's).
            config = NativeCircuitBreaker(clock=self.clock, **kw).config
        except ConfigError as e:
            if e.field == "preset" or want is None:
                raise VectorMismatch(f"{v['name']}: {e}") from e
            if e.field != want:
                raise VectorMismatch(f"{v['name']}: ConfigError names {e.field!r}, want {want!r}") from e
            return
        if want is not None:
            raise VectorMismatch(f"{v['name']}: no ConfigError (want one naming {want!r})")
        self.b = CircuitBreaker(
            v["name"],
            clock=self.clock,
            exclude=VectorIgnored,
            on_state_change=lambda _b, t: self.heard.append(t),
            **config,
        )
        if self.b.config != config:
            raise VectorMismatch(f"{v['name']}: built {self.b.config}, the core resolved {config}")
        for i, step in enumerate(v["steps"]):
            self.step(i, step)

    def step(self, i: int, step: dict[str, Any]) -> None:
        self.now_ms = step["at"]
        before = len(self.heard)
        returned: Optional[list[cbreaker.Transition]] = []
        op = step["op"]
        b = self.b
        if op in ("acquire", "begin"):
            returned = self.acquire(i, step)
        elif op == "record":
            p = self.permits.get(step["permit"])
            if p is None:
                self.fail(i, step, "records a permit no earlier acquire kept")
            assert p is not None
            t = b.record(p, step["outcome"], ms_to_s(step.get("duration_ms")))
            returned = [t] if t is not None else []
        elif op == "drop":
            if self.permits.get(step["permit"]) is None:
                self.fail(i, step, "drops a permit no earlier acquire kept")
            self.permits[step["permit"]] = None  # the last reference: settled as cancelled when collected
        elif op == "finish":
            returned = self.finish(i, step)
        elif op == "call":
            returned = None  # call_sync returns the function's value: the listener tells
            for _ in range(step.get("times", 1)):
                self.call(step)
        elif op in ("state", "health"):
            pass
        elif op == "snapshot":
            self.check_snapshot(i, step, b.snapshot())
        elif op == "config":
            got = config_keys(b.config)
            for key, want in step["expect"].items():
                close = key == "open_duration_multiplier" and abs(got[key] - want) <= 1e-9
                if not close and got.get(key) != want:
                    self.fail(i, step, f"config {key} = {got.get(key)!r}, want {want!r}")
        elif op in ("force_open", "force_closed", "metrics_only", "reset", "trip", "half_open"):
            returned = [getattr(b, op)()]
        else:
            self.fail(i, step, f"unknown op {op!r}")
        heard = self.heard[before:]
        if returned is not None and returned != heard:
            said = [str(t) for t in returned]
            self.fail(i, step, f"listener heard {[str(t) for t in heard]}, the API returned {said}")
        if "expect_transitions" in step:
            want = step["expect_transitions"]
            got = [named(t, w) for t, w in zip(heard, want)] + [str(t) for t in heard[len(want) :]]
            if got != want:
                self.fail(i, step, f"transitions {got}, want {want}")
        if "expect_state" in step and b.state != step["expect_state"]:
            self.fail(i, step, f"state {b.state!r}, want {step['expect_state']!r}")
        if "expect_health" in step and b.health() != step["expect_health"]:
            self.fail(i, step, f"health {b.health()!r}, want {step['expect_health']!r}")

    def acquire(self, i: int, step: dict[str, Any]) -> list[cbreaker.Transition]:
        """``acquire`` and ``begin``: both are the protocol's begin (``sink`` for ``begin``)."""
        try:
            p = self.b.acquire_or_raise(sink=step.get("sink", False))
        except CircuitBreakerOpenError as e:
            if step["expect"] != "rejected":
                self.fail(i, step, f"rejected (retry_after={e.retry_after}, {e.reason}), want a permit")
            got = None if e.retry_after is None else round(e.retry_after * 1000)
            if "retry_after_ms" in step and got != step["retry_after_ms"]:
                self.fail(i, step, f"retry_after_ms {got}, want {step['retry_after_ms']}")
            if "reason" in step and e.reason != step["reason"]:
                self.fail(i, step, f"reason {e.reason!r}, want {step['reason']!r}")
            return []
        if step["expect"] != "permitted":
            self.fail(i, step, f"permitted ({p!r}), want rejected")
        if "expect_timed" in step and p.timed != step["expect_timed"]:
            self.fail(i, step, f"timed {p.timed}, want {step['expect_timed']}")
        table: dict[str, Any] = self.calls if step["op"] == "begin" else self.permits
        if table.get(step.get("as")) is not None:
            self.keep.append(table[step["as"]])  # a name given twice: the earlier one stays out
        if "as" in step:
            table[step["as"]] = p
        else:
            self.keep.append(p)
        return [p.transition] if p.transition is not None else []

    def finish(self, i: int, step: dict[str, Any]) -> list[cbreaker.Transition]:
        p = self.calls.get(step["call"])
        if p is None:
            self.fail(i, step, "finishes a call no earlier begin kept")
        assert p is not None
        calls = self.b.snapshot()["calls"]
        try:
            t = p.finish(step["end"])
        except cbreaker.PermitSettledError as e:
            if step.get("expect_error") != e.code:
                self.fail(i, step, f"error {e.code!r} ({e}), want {step.get('expect_error')!r}")
            if self.b.snapshot()["calls"] != calls:
                self.fail(i, step, "a finish that failed recorded an outcome")
            return []
        if "expect_error" in step:
            self.fail(i, step, f"finished, want the error {step['expect_error']!r}")
        got = None if p.duration is None else round(p.duration * 1000)
        if "expect_duration_ms" in step and got != step["expect_duration_ms"]:
            self.fail(i, step, f"duration_ms {got}, want {step['expect_duration_ms']}")
        return [t] if t is not None else []

    def call(self, step: dict[str, Any]) -> None:
        outcome = step["outcome"]
        if "duration_ms" in step or self.b.times_calls():
            # A duration given, or a breaker that times its calls: the step reports exactly
            # the duration it gives (none without one), so through the record verb.
            try:
                p = self.b.acquire_or_raise()
            except CircuitBreakerOpenError:
                return  # a rejected call counts as rejected, nothing else
            self.b.record(p, outcome, ms_to_s(step.get("duration_ms")))
            return

        def fn() -> str:
            if outcome == "failure":
                raise VectorFailure()
            if outcome == "ignored":
                raise VectorIgnored()
            return "ok"

        try:
            assert self.b.call_sync(fn) == "ok" and outcome == "success"
        except (VectorFailure, VectorIgnored):
            pass
        except CircuitBreakerOpenError:
            pass  # a rejected call counts as rejected, nothing else

    def check_snapshot(self, i: int, step: dict[str, Any], s: dict[str, Any]) -> None:
        for key, want in step.get("expect", {}).items():
            if key == "retry_after_ms":
                got: Any = None if s["retry_after"] is None else round(s["retry_after"] * 1000)
            elif key in s:
                got = s[key]
            else:
                self.fail(i, step, f"unknown snapshot key {key!r}")
            if isinstance(want, float) or key in ("failure_rate", "slow_rate"):
                if abs(got - want) > 1e-9:
                    self.fail(i, step, f"snapshot {key} = {got}, want {want}")
            elif got != want:
                self.fail(i, step, f"snapshot {key} = {got!r}, want {want!r}")


def ms_to_s(ms: Optional[int]) -> Optional[float]:
    return None if ms is None else ms / 1000


def run_vector(path: Path) -> None:
    v = json.loads(path.read_text(encoding="utf-8"))
    check_shape(v, path.stem)
    Runner(v).run()
