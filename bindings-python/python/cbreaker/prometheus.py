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

``naming="resilience4j"`` (collector and ``text()``) writes the same figures under the names
resilience4j's Micrometer binding exposes (``resilience4j_circuitbreaker_state{name,state}``,
``resilience4j_circuitbreaker_calls_seconds_count{name,kind}``, ...: the core's
``NAMINGS["resilience4j"]``), so a dashboard built on them works unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from . import _native
from ._asyncio import CircuitBreaker
from ._errors import ConfigError
from ._sources import Source
from ._sources import breakers as _breakers

__all__ = ["CONTENT_TYPE", "FAMILIES", "NAMINGS", "CircuitBreakerCollector", "Naming", "text"]

#: Every family the core defines: ``(name, type, help, unit, labels)``, in the order written.
FAMILIES = _native.METRIC_FAMILIES
#: The families of each naming (``"cbreaker"``: ``FAMILIES``; ``"resilience4j"``: resilience4j's
#: Micrometer names), as the core maps them.
NAMINGS = _native.METRIC_NAMINGS
#: The Prometheus text exposition format's content type.
CONTENT_TYPE: str = _native.METRICS_CONTENT_TYPE

Naming = Literal["cbreaker", "resilience4j"]

_KINDS = {"gauge": GaugeMetricFamily, "counter": CounterMetricFamily, "histogram": HistogramMetricFamily}


def text(source: Source, naming: Naming = "cbreaker") -> str:
    """Every family for the breakers of ``source``, in the text exposition format, written by
    the core (``metrics::write_text_named``): byte for byte what Rust and JS write.
    ``naming="resilience4j"``: resilience4j's names. Another naming is a ``ConfigError``."""
    rows = _breakers(source)
    members = [(n, b.fleet._native) for n, b in rows if b.fleet is not None]
    fleet = _native.fleet_metrics_text(members) if members else ""
    return _native.metrics_text(rows, naming) + fleet


def _family(name: str, kind: str, help_text: str, unit: str, labels: list[str]) -> Metric:
    # prometheus_client appends a unit the name does not end with; the core's names are final.
    unit = unit if name.endswith("_" + unit) else ""
    if kind == "summary":  # resilience4j's call timers: `_count` samples only (the core's)
        return Metric(name, help_text, "summary", unit)
    family: Metric = _KINDS[kind](name, help_text, labels=labels, unit=unit)
    return family


class CircuitBreakerCollector(Collector):
    """A custom collector over a manager, a ``{name: breaker}`` mapping or breakers.
    ``namespace`` replaces the families' ``cbreaker`` prefix; ``naming="resilience4j"`` uses
    resilience4j's names (which take no namespace). A bad value is a ``ConfigError`` naming it."""

    def __init__(self, source: Source, namespace: str = "cbreaker", naming: Naming = "cbreaker") -> None:
        if naming not in NAMINGS:
            _native.metrics_text([], naming)  # the core's error, naming the field
        if naming != "cbreaker" and namespace != "cbreaker":
            raise ConfigError(f"namespace applies to the cbreaker names only, not to {naming!r}", "namespace")
        self.source = source
        self.ns = namespace
        self.naming = naming

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        labels_of: dict[str, list[str]] = {}
        for name, kind, help_text, unit, labels in NAMINGS[self.naming]:
            renamed = self.ns + name[len("cbreaker") :] if self.naming == "cbreaker" else name
            families[name] = _family(renamed, kind, help_text, unit, labels)
            labels_of[name] = labels
        for breaker, b in _breakers(self.source):
            for family, values in _native.metric_samples(b, self.naming):
                metric, labels = families[family], labels_of[family]
                for label, value in values:
                    if metric.type == "summary":
                        metric.add_sample(metric.name + "_count", dict(zip(labels, (breaker, label))), value)
                    else:
                        metric.add_metric([breaker, label] if label else [breaker], value)  # type: ignore[attr-defined]
        yield from families.values()
        yield from _fleet_families(_breakers(self.source))


def _fleet_families(rows: list[tuple[str, CircuitBreaker]]) -> Iterator[Metric]:
    """The ``cbreaker_fleet_*`` families of the breakers that joined a fleet (docs/python.md,
    "Fleet"): names, help and samples are the core's (``metrics::fleet``)."""
    members = [(n, b.fleet._native) for n, b in rows if b.fleet is not None]
    if not members:
        return
    families = {
        name: GaugeMetricFamily(name, help_text, labels=labels)
        for name, _kind, help_text, _unit, labels in _native.FLEET_METRIC_FAMILIES
    }
    for breaker, member in members:
        for family, label, value in _native.fleet_metric_values(breaker, member):
            families[family].add_metric([breaker, label] if label else [breaker], float(value))
    yield from families.values()
