"""`pip install ./bindings-python` into a fresh virtualenv, then an import smoke test."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1]

SMOKE = """
import asyncio, cbreaker
from cbreaker import CircuitBreaker, CircuitBreakerOpenError
from cbreaker.exceptions import AllTiersFailedError, RetryExhaustedError
import cbreaker._native as n
assert cbreaker.__file__.startswith(__import__("sys").prefix), cbreaker.__file__
b = CircuitBreaker("smoke", failure_threshold=1)
async def boom():
    raise ValueError("x")
async def main():
    assert await b.call(lambda: 41) == 41
    try:
        await b.call(boom)
    except ValueError:
        pass
    try:
        await b.call(boom)
    except CircuitBreakerOpenError as e:
        assert e.retry_after > 59
    else:
        raise SystemExit("not open")
asyncio.run(main())
print("smoke ok", cbreaker.__version__, n.MAX_SLOTS)
"""


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_pip_install_into_fresh_venv(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    r = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(PKG)],
        env=env, capture_output=True, text=True, timeout=850,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(
        [str(py), "-c", SMOKE], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("smoke ok 0.1.0 256"), r.stdout
    # The wheel carries the stubs and the PEP 561 marker.
    r = subprocess.run(
        [str(py), "-c", "import cbreaker, pathlib; p = pathlib.Path(cbreaker.__file__).parent; "
         "print(sorted(x.name for x in p.iterdir() if x.suffix in ('.pyi', '.typed')))"],
        env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert r.stdout.strip() == "['_native.pyi', 'py.typed']", r.stdout + r.stderr
    assert sys.prefix != str(env_dir)
