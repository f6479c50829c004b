"""Every conformance vector through the Python API (tests/vectors + $CBREAKER_VECTORS)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vector_runner import REPO, VectorMismatch, run_vector, vector_files

HERE = Path(__file__).parent
VECTORS = vector_files()


def known_core_bugs() -> dict[str, str]:
    """The vectors the Rust runner lists as known core bugs (`CORE_BUGS` in
    tests/tests/vectors.rs): one list for every front door. They run here as non-strict
    xfails, so a core fix shows up as XPASS and never breaks this suite."""
    src = REPO / "tests" / "tests" / "vectors.rs"
    if not src.exists():
        return {}
    block = re.search(r"CORE_BUGS[^=]*=\s*&\[(.*?)\n\];", src.read_text(), re.S)
    if block is None:
        return {}
    return dict(re.findall(r'\(\s*"([^"]+)",\s*"((?:[^"\\]|\\.)*)",?\s*\)', block.group(1)))


BUGS = known_core_bugs()


def _param(p: Path) -> object:
    if p.stem in BUGS:
        return pytest.param(p, id=p.stem, marks=pytest.mark.xfail(reason=BUGS[p.stem], strict=False))
    return pytest.param(p, id=p.stem)


@pytest.mark.parametrize("path", [_param(p) for p in VECTORS])
def test_vector(path: Path) -> None:
    run_vector(path)


def test_the_shared_vectors_are_there() -> None:
    """An empty vector directory would make this suite pass vacuously."""
    assert len(VECTORS) >= 30


def test_runner_passes_its_own_good_vector() -> None:
    run_vector(HERE / "vectors_selftest" / "good_trip_and_recover.json")


@pytest.mark.parametrize("name", sorted(p.stem for p in (HERE / "vectors_selftest").glob("good_*.json")))
def test_runner_passes_every_good_selftest_vector(name: str) -> None:
    """The call layer's keys (begin/finish, sink, durations, settle-once, reasons, causes,
    trip, half_open, health, config, preset) have a good vector, and a bad one per key."""
    run_vector(HERE / "vectors_selftest" / f"{name}.json")


@pytest.mark.parametrize("name", sorted(p.stem for p in (HERE / "vectors_selftest").glob("bad_*.json")))
def test_runner_catches_a_wrong_expectation(name: str) -> None:
    with pytest.raises(VectorMismatch):
        run_vector(HERE / "vectors_selftest" / f"{name}.json")


def test_extra_vector_dirs_are_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "extra.json").write_text((HERE / "vectors_selftest" / "bad_state.json").read_text())
    monkeypatch.setenv("CBREAKER_VECTORS", f"{tmp_path}:{HERE / 'vectors_selftest'}")
    files = vector_files()
    assert tmp_path / "extra.json" in files
    assert HERE / "vectors_selftest" / "good_trip_and_recover.json" in files
    with pytest.raises(VectorMismatch):
        run_vector(tmp_path / "extra.json")
    monkeypatch.setenv("CBREAKER_VECTORS", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError):
        vector_files()
