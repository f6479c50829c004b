"""Runs one conformance vector (tests/vectors/README.md) through the Python API.

Time is injected: the breaker's clock returns the step's ``at`` (ms) in nanoseconds.
``call`` steps go through ``call_sync`` (a function that returns, raises, or raises an
excluded error), or through a permit when the step gives a ``duration_ms``; transitions are
collected by an ``on_state_change`` listener and checked against the values the API returns.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

import cbreaker
from cbreaker import CircuitBreaker, CircuitBreakerOpenError, ConfigError

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
    "window", "failure_rate_threshold", "slow_call_rate_threshold", "slow_call_duration_ms",
    "consecutive_failures", "minimum_calls", "open_duration_ms", "open_duration_max_ms",
    "open_duration_multiplier", "jitter_percent", "jitter_seed", "half_open_max_calls",
    "success_threshold", "half_open_max_wait_ms",
}  # fmt: skip
_COMMON = {"at", "op", "expect_transitions", "comment"}
_OPS = {
    "acquire": {"expect", "as", "retry_after_ms"},
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
    w = cfg["window"]
    kw: dict[str, Any] = {"window": w["kind"]}
    if w["kind"] == "count":
        kw["window_size"] = w["size"]
    elif w["kind"] == "time":
        kw["window_duration"] = w["duration_ms"] / 1000
        kw["window_buckets"] = w["buckets"]
    # Core defaults where the Python class has the agents platform's.
    kw.update(consecutive_failures=0, half_open_max_calls=1, success_threshold=1)
    # A vector reports a duration only where it gives one: the binding must not measure.
    kw["measure_durations"] = False
    for k, v in cfg.items():
        if k == "window":
            continue
        if k in _MS:
            kw[_MS[k]] = v / 1000
        else:
            kw[k] = v
    return kw


class Runner:
    def __init__(self, vector: dict[str, Any]) -> None:
        self.v = vector
        self.now_ms = 0
        self.permits: dict[str, Optional[cbreaker.Permit]] = {}
        self.keep: list[cbreaker.Permit] = []  # unnamed permits stay alive, as in the Rust runner
        self.heard: list[str] = []

    def fail(self, i: int, step: dict[str, Any], msg: str) -> None:
        raise VectorMismatch(f"{self.v['name']}: step {i} {json.dumps(step)}: {msg}")

    def clock(self) -> int:
        return self.now_ms * 1_000_000

    def run(self) -> None:
        v = self.v
        kw = config_kwargs(v["config"])
        if "expect_config_error" in v:
            want = _KEYWORDS.get(v["expect_config_error"], v["expect_config_error"])
            try:
                CircuitBreaker(v["name"], clock=self.clock, **kw)
            except ConfigError as e:
                if e.field != want:
                    raise VectorMismatch(f"{v['name']}: ConfigError names {e.field!r}, want {want!r}") from e
                return
            raise VectorMismatch(f"{v['name']}: no ConfigError (want one naming {want!r})")
        self.b = CircuitBreaker(
            v["name"],
            clock=self.clock,
            exclude=VectorIgnored,
            on_state_change=lambda _b, t: self.heard.append(str(t)),
            **kw,
        )
        for i, step in enumerate(v["steps"]):
            self.step(i, step)

    def step(self, i: int, step: dict[str, Any]) -> None:
        self.now_ms = step["at"]
        before = len(self.heard)
        returned: Optional[list[str]] = []
        op = step["op"]
        b = self.b
        if op == "acquire":
            returned = self.acquire(i, step)
        elif op == "record":
            p = self.permits.get(step["permit"])
            if p is None:
                self.fail(i, step, "records a permit no earlier acquire kept")
            assert p is not None
            t = self.report(p, step["outcome"], step.get("duration_ms"))
            returned = [str(t)] if t is not None else []
        elif op == "drop":
            if self.permits.get(step["permit"]) is None:
                self.fail(i, step, "drops a permit no earlier acquire kept")
            self.permits[step["permit"]] = None  # the last reference: released when collected
        elif op == "call":
            returned = None  # call_sync returns the function's value: the listener tells
            for _ in range(step.get("times", 1)):
                self.call(i, step)
        elif op == "state":
            pass
        elif op == "snapshot":
            self.check_snapshot(i, step, b.snapshot())
        elif op in ("force_open", "force_closed", "metrics_only", "reset"):
            returned = [str(getattr(b, op)())]
        else:
            self.fail(i, step, f"unknown op {op!r}")
        heard = self.heard[before:]
        if returned is not None and returned != heard:
            self.fail(i, step, f"listener heard {heard}, the API returned {returned}")
        if "expect_transitions" in step and heard != step["expect_transitions"]:
            self.fail(i, step, f"transitions {heard}, want {step['expect_transitions']}")
        if "expect_state" in step and b.state != step["expect_state"]:
            self.fail(i, step, f"state {b.state!r}, want {step['expect_state']!r}")

    def acquire(self, i: int, step: dict[str, Any]) -> list[str]:
        try:
            p = self.b.acquire_or_raise()
        except CircuitBreakerOpenError as e:
            if step["expect"] != "rejected":
                self.fail(i, step, f"rejected (retry_after={e.retry_after}), want a permit")
            if "retry_after_ms" in step:
                got = None if e.retry_after is None else round(e.retry_after * 1000)
                if got != step["retry_after_ms"]:
                    self.fail(i, step, f"retry_after_ms {got}, want {step['retry_after_ms']}")
            return []
        if step["expect"] != "permitted":
            self.fail(i, step, f"permitted ({p!r}), want rejected")
        if "as" in step:
            self.permits[step["as"]] = p
        else:
            self.keep.append(p)
        return [str(p.transition)] if p.transition is not None else []

    @staticmethod
    def report(p: cbreaker.Permit, outcome: str, duration_ms: Optional[int]) -> Optional[cbreaker.Transition]:
        d = None if duration_ms is None else duration_ms / 1000
        if outcome == "success":
            return p.record_success(d)
        if outcome == "failure":
            return p.record_failure(d)
        if outcome == "ignored":
            return p.record_ignored()
        raise ValueError(f"unknown outcome {outcome!r}")

    def call(self, i: int, step: dict[str, Any]) -> None:
        outcome = step["outcome"]
        if "duration_ms" in step:
            try:
                p = self.b.acquire_or_raise()
            except CircuitBreakerOpenError:
                return  # a rejected call counts as rejected, nothing else
            self.report(p, outcome, step["duration_ms"])
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


def run_vector(path: Path) -> None:
    v = json.loads(path.read_text(encoding="utf-8"))
    check_shape(v, path.stem)
    Runner(v).run()
