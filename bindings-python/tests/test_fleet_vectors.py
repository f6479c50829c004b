"""Every fleet vector (tests/vectors/fleet, format in its README) with Python breakers as the
members: calls, refusals and states through the Python API; syncs through the core's own sync
flow against its simulated store (``_native.FleetSim``), as the fleet agent runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import pytest

from cbreaker import CircuitBreakerOpenError, NativeCircuitBreaker, _native
from vector_runner import REPO, config_kwargs

FLEET = REPO / "tests" / "vectors" / "fleet"
VECTORS = sorted(FLEET.glob("*.json"))


def test_there_are_fleet_vectors() -> None:
    assert len(VECTORS) >= 10


class FleetRunner:
    def __init__(self, v: dict[str, Any]) -> None:
        self.v = v
        self.now_ms = 0
        self.sim = _native.FleetSim(v.get("server_offset_ms", 1_700_000_000_000))
        fleet = v.get("fleet", {})
        self.members: list[NativeCircuitBreaker] = []
        for i in range(v["members"]):
            cfg = v.get("member_configs", {}).get(str(i), v["config"])
            b = NativeCircuitBreaker(clock=lambda: self.now_ms * 1_000_000, **config_kwargs(cfg))
            self.members.append(b)
            assert self.sim.join(b, fleet.get("quorum"), fleet.get("window_ms")) == i
        self.held: dict[str, Any] = {}

    def fail(self, i: int, step: dict[str, Any], msg: str) -> None:
        raise AssertionError(f"{self.v['name']}: step {i} {json.dumps(step)}: {msg}")

    def expect(self, i: int, step: dict[str, Any], want: dict[str, Any], got: dict[str, Any]) -> None:
        seen = {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in got.items()}
        diff = {k: (w, seen[k]) for k, w in want.items() if seen[k] != w}
        if diff:
            self.fail(i, step, f"(want, got) {diff}")

    def acquire(self, member: int) -> tuple[Optional[Any], Optional[str], Optional[int]]:
        try:
            return self.members[member].acquire_or_raise(), None, None
        except CircuitBreakerOpenError as e:
            advice = None if e.retry_after is None else round(e.retry_after * 1000)
            return None, e.reason, advice

    def run(self) -> None:
        for i, step in enumerate(self.v["steps"]):
            op = step["op"]
            if "at" in step:
                self.now_ms = step["at"]
            m = step.get("member", 0)
            if op == "sync":
                got = self.sim.sync(m, self.now_ms)
                self.expect(i, step, step.get("expect", {}), got)
            elif op == "calls":
                for _ in range(step.get("count", 1)):
                    p, reason, _advice = self.acquire(m)
                    if p is None:
                        self.fail(i, step, f"refused ({reason})")
                    self.members[m].record(p, step["outcome"])
            elif op == "acquire":
                p, reason, advice = self.acquire(m)
                if (p is not None) != step["admitted"]:
                    self.fail(i, step, f"admitted={p is not None} ({reason}, {advice})")
                if p is None:
                    if "reason" in step and step["reason"] != reason:
                        self.fail(i, step, f"reason {reason}")
                    if "retry_after_ms" in step and step["retry_after_ms"] != advice:
                        self.fail(i, step, f"retry_after_ms {advice}")
                elif "hold" in step:
                    self.held[step["hold"]] = p
            elif op == "settle":
                self.members[m].record(self.held.pop(step["permit"]), step["outcome"])
            elif op == "state":
                if self.members[m].state != step["expect"]:
                    self.fail(i, step, f"state {self.members[m].state}")
            elif op == "transitions":
                got_t = self.sim.transitions(m)
                if got_t != step["expect"]:
                    self.fail(i, step, f"got {got_t}")
            elif op == "store":
                self.sim.store(step["action"])
            elif op == "operator":
                self.sim.operator(m, step["action"], self.now_ms)
            elif op == "fleet":
                self.expect(i, step, step["expect"], self.sim.fleet())
            else:
                self.fail(i, step, f"unknown op {op}")


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_fleet_vector(path: Path) -> None:
    FleetRunner(json.loads(path.read_text())).run()
