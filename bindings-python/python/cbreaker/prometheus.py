"""Prometheus export (``pip install cbreaker[prometheus]``).

```python
from prometheus_client import REGISTRY
from cbreaker.prometheus import CircuitBreakerCollector

REGISTRY.register(CircuitBreakerCollector(manager))
```

Every scrape reads each breaker's snapshot (no hook on the call path). Metrics, labelled by
``breaker``: ``cbreaker_state{state}`` (1 for the current state, 0 for the others),
``cbreaker_calls_total{outcome}`` (success / failure / ignored), ``cbreaker_slow_calls_total``,
``cbreaker_rejected_calls_total``, ``cbreaker_transitions_total{to_state}``,
``cbreaker_window_failure_rate`` (percent) and ``cbreaker_retry_after_seconds``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Union

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ._asyncio import CircuitBreaker
from ._platform import CircuitBreakerManager

__all__ = ["CircuitBreakerCollector"]

_STATES = ("closed", "open", "half_open", "forced_open", "disabled", "metrics_only")

Source = Union[CircuitBreakerManager, Mapping[str, CircuitBreaker], Iterable[CircuitBreaker]]


class CircuitBreakerCollector(Collector):
    """A custom collector over a manager, a ``{name: breaker}`` mapping or breakers."""

    def __init__(self, source: Source, namespace: str = "cbreaker") -> None:
        self.source = source
        self.ns = namespace

    def _breakers(self) -> list[tuple[str, CircuitBreaker]]:
        src = self.source
        if isinstance(src, CircuitBreakerManager):
            return [(n, b) for n in src.list_names() if (b := src.get_breaker(n)) is not None]
        if isinstance(src, Mapping):
            return list(src.items())
        return [(b.name, b) for b in src]

    def describe(self) -> Iterator[Metric]:
        return iter(())

    def collect(self) -> Iterator[Metric]:
        ns = self.ns
        state = GaugeMetricFamily(
            f"{ns}_state", "Current state (1) of each breaker", labels=["breaker", "state"]
        )
        calls = CounterMetricFamily(
            f"{ns}_calls", "Calls reported, by outcome", labels=["breaker", "outcome"]
        )
        slow = CounterMetricFamily(
            f"{ns}_slow_calls", "Calls at or above slow_call_duration", labels=["breaker"]
        )
        rejected = CounterMetricFamily(
            f"{ns}_rejected_calls", "Calls the circuit rejected", labels=["breaker"]
        )
        trans = CounterMetricFamily(
            f"{ns}_transitions", "State transitions, by target state", labels=["breaker", "to_state"]
        )
        rate = GaugeMetricFamily(
            f"{ns}_window_failure_rate", "Failure rate in the window, %", labels=["breaker"]
        )
        retry = GaugeMetricFamily(
            f"{ns}_retry_after_seconds",
            "Seconds until a call may be admitted (0 when admitting)",
            labels=["breaker"],
        )
        for name, b in self._breakers():
            s = b.snapshot()
            for st in _STATES:
                state.add_metric([name, st], 1.0 if s["state"] == st else 0.0)
            calls.add_metric([name, "success"], s["successes"])
            calls.add_metric([name, "failure"], s["failures"])
            calls.add_metric([name, "ignored"], s["ignored"])
            slow.add_metric([name], s["slow"])
            rejected.add_metric([name], s["rejected"])
            for st in _STATES:
                trans.add_metric([name, st], s["transitions"][st])  # type: ignore[literal-required]
            rate.add_metric([name], s["failure_rate"])
            ra = s["retry_after"]
            retry.add_metric([name], float("inf") if s["state"] == "forced_open" else (ra or 0.0))
        yield from (state, calls, slow, rejected, trans, rate, retry)
