"""Typing from a user's side: ``mypy --strict`` on code that uses the installed package
(``py.typed``, ``_native.pyi``): decorated functions keep their signatures, ``call`` /
``call_sync`` check their arguments and results, keyword typos are errors, event names are
``Literal``, ``get_metrics()`` is a ``TypedDict``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

USER = """\
from typing import Any
from cbreaker import CircuitBreaker, CircuitBreakerManager, FallbackHandler, RetryPolicy

breaker = CircuitBreaker("search", failure_threshold=5, recovery_timeout=30, timeout=2.5)

@breaker
async def fetch(q: str) -> dict[str, Any]:
    return {"q": q}

@breaker
def parse(raw: bytes) -> int:
    return len(raw)

async def typed() -> dict[str, Any]:
    reveal_type(fetch)                          # R1
    reveal_type(parse)                          # R2
    reveal_type(await breaker.call(fetch, "x")) # R3
    reveal_type(breaker.call_sync(parse, b"1")) # R4
    m = breaker.get_metrics()
    reveal_type(m["time_until_retry"])          # R5
    reveal_type(m["state"])                     # R6
    retry = RetryPolicy(max_attempts=3, base_delay=1.0)
    reveal_type(await retry.execute(lambda: breaker.call(fetch, "y")))  # R7
    handler = FallbackHandler(CircuitBreakerManager(failure_threshold=5))
    reveal_type(await handler.execute_with_fallback(lambda: fetch("a"), lambda: fetch("b")))  # R8
    breaker.add_listener("on_state_change", lambda b, t: print(t.to_state))
    return await breaker.call(fetch, "z")       # no Any returned

async def mistakes() -> None:
    await fetch(1)                                      # E1
    await breaker.call(fetch, 2)                        # E2
    breaker.call_sync(parse, "text")                    # E3
    CircuitBreakerManager(failure_treshold=3)           # E4
    CircuitBreaker("x", recovery_timout=1)              # E5
    breaker.add_listener("on_open", print)              # E6
    breaker.get_metrics()["failures"]                   # E7
    x: str = await breaker.call(fetch, "q")             # E8
"""

EXPECTED_TYPES = {
    "R1": "def (q: str) -> typing.Coroutine[Any, Any, dict[str, Any]]",
    "R2": "def (raw: bytes) -> int",
    "R3": "dict[str, Any]",
    "R4": "int",
    "R5": "float | None",
    "R6": "Literal['closed'] | Literal['open'] | Literal['half_open'] | Literal['forced_open'] "
    "| Literal['disabled'] | Literal['metrics_only']",
    "R7": "dict[str, Any]",
    "R8": "dict[str, Any]",
}


def test_mypy_strict_from_a_users_side(tmp_path: Path) -> None:
    user = tmp_path / "user.py"
    user.write_text(USER)
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--show-column-numbers",
         "--cache-dir", str(tmp_path / "cache"), str(user)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    lines = USER.splitlines()
    found_types: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for out in run.stdout.splitlines():
        m = re.match(r".*user\.py:(\d+):\d+: (\w+): (.*)", out)
        if not m:
            continue
        src = lines[int(m.group(1)) - 1]
        tag = re.search(r"# (R\d|E\d)", src)
        assert tag, f"unexpected mypy output on line {m.group(1)} ({src.strip()}): {out}"
        if m.group(2) == "note" and "Revealed type" in m.group(3):
            found_types[tag.group(1)] = m.group(3).split('"')[1]
        elif m.group(2) == "error":
            errors.setdefault(tag.group(1), []).append(m.group(3))
    assert found_types == EXPECTED_TYPES, run.stdout
    assert sorted(errors) == [f"E{i}" for i in range(1, 9)], run.stdout
    assert 'did you mean "failure_threshold"' in " ".join(errors["E4"]), errors["E4"]
    assert run.returncode == 1
