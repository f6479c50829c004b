"""Prometheus export (``pip install cbreaker[prometheus]``): the core's metric families, the same
in every language (docs/metrics.md).

```python
from prometheus_client import REGISTRY
from cbreaker.prometheus import CircuitBreakerCollector, CONTENT_TYPE, text

REGISTRY.register(CircuitBreakerCollector(manager))   # a prometheus_client collector
body = text(manager)                                  # or the core's own text, served as CONTENT_TYPE
```

Every scrape reads each breaker's snapshot once (no hook on the call path). The families, their
names, types, labels and help are the core's (``FAMILIES``); ``text()`` is written by the core.
This binding keeps no duration histogram: ``cbreaker_call_duration_seconds`` has no samples.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Union

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from . import _native
from ._asyncio import CircuitBreaker
from ._platform import CircuitBreakerManager

__all__ = ["CONTENT_TYPE", "FAMILIES", "CircuitBreakerCollector", "text"]

#: Every family the core defines: ``(name, type, help, unit, labels)``, in the order written.
FAMILIES = _native.METRIC_FAMILIES
#: The Prometheus text exposition format's content type.
CONTENT_TYPE: str = _native.METRICS_CONTENT_TYPE

_KINDS = {"gauge": GaugeMetricFamily, "counter": CounterMetricFamily, "histogram": HistogramMetricFamily}

Source = Union[CircuitBreakerManager, Mapping[str, CircuitBreaker], Iterable[CircuitBreaker]]


def _breakers(src: Source) -> list[tuple[str, CircuitBreaker]]:
    if isinstance(src, CircuitBreakerManager):
        return [(n, b) for n in src.list_names() if (b := src.get_breaker(n)) is not None]
    if isinstance(src, Mapping):
        return list(src.items())
    return [(b.name, b) for b in src]


def text(source: Source) -> str:
    """Every family for the breakers of ``source``, in the text exposition format, written by
    the core (``metrics::write_text``): byte for byte what Rust and JS write."""
    return _native.metrics_text(_breakers(source))


class CircuitBreakerCollector(Collector):
    """A custom collector over a manager, a ``{name: breaker}`` mapping or breakers.
    ``namespace`` replaces the families' ``cbreaker`` prefix."""

    def __init__(self, source: Source, namespace: str = "cbreaker") -> None:
        self.source = source
        self.ns = namespace

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        for name, kind, help_text, unit, labels in FAMILIES:
            renamed = self.ns + name[len("cbreaker") :]
            families[name] = _KINDS[kind](renamed, help_text, labels=labels, unit=unit)
        for breaker, b in _breakers(self.source):
            for family, values in _native.metric_samples(b):
                metric = families[family]
                for label, value in values:
                    metric.add_metric([breaker, label] if label else [breaker], value)  # type: ignore[attr-defined]
        yield from families.values()
