"""The breakers an exporter reads (Prometheus, OpenTelemetry): a manager, a ``{name: breaker}``
mapping or breakers (each under its ``name``), read anew at every scrape or collection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Union

from ._asyncio import CircuitBreaker
from ._platform import CircuitBreakerManager

__all__ = ["Source", "breakers"]

Source = Union[CircuitBreakerManager, Mapping[str, CircuitBreaker], Iterable[CircuitBreaker]]


def breakers(src: Source) -> list[tuple[str, CircuitBreaker]]:
    """``(name, breaker)`` pairs of ``src`` now."""
    if isinstance(src, CircuitBreakerManager):
        return [(n, b) for n in src.list_names() if (b := src.get_breaker(n)) is not None]
    if isinstance(src, Mapping):
        return list(src.items())
    return [(b.name, b) for b in src]
