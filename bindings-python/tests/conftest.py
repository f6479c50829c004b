from __future__ import annotations

import pytest


class FakeClock:
    """An injected clock: returns nanoseconds; counts how often it is read."""

    def __init__(self, ms: int = 0) -> None:
        self.ns = ms * 1_000_000
        self.reads = 0

    def __call__(self) -> int:
        self.reads += 1
        return self.ns

    def advance(self, seconds: float) -> None:
        self.ns += round(seconds * 1e9)

    def set_ms(self, ms: int) -> None:
        self.ns = ms * 1_000_000


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_000)
