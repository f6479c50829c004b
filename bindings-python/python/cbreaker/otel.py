"""OpenTelemetry metrics (``pip install cbreaker[otel]``): the core's instruments, on one meter
named ``cbreaker``, the same in every language (docs/metrics.md, "OpenTelemetry").

```python
from cbreaker.otel import instrument

instrumentation = instrument(manager)              # the global MeterProvider
instrument([breaker], meter_provider=provider)     # or a provider of your own
```

The instruments, their names, kinds, units, descriptions and attribute keys are the core's
(``INSTRUMENTS``). The observable ones (calls by outcome, the one-hot state, transitions into
each state, slow calls, the window's rates, the retry advice) read each breaker's snapshot at
collection time through the core's ``metrics::otel::points``: the call path pays nothing and
nothing is counted twice. ``circuit_breaker.state_changes`` is added to once per transition
event (an ``on_state_change`` listener on each breaker, with the core's attributes: previous
state, state entered, cause). ``circuit_breaker.call.duration`` is fed only with
``instrument(..., durations=True)``: every call of the call helpers is then timed (the core's
timing rule: a duration sink is attached) and its duration recorded; without it, registering the
instruments leaves the call path as it was.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Callable, Optional

from opentelemetry.metrics import (
    CallbackOptions,
    Counter,
    Histogram,
    MeterProvider,
    Observation,
    get_meter_provider,
)

from . import _native
from ._asyncio import CircuitBreaker
from ._native import Transition
from ._platform import CircuitBreakerManager
from ._sources import Source
from ._sources import breakers as _breakers

__all__ = ["ATTR_NAME", "INSTRUMENTS", "METER_NAME", "Instrumentation", "instrument"]

log = logging.getLogger("cbreaker")

#: The meter every instrument belongs to (the core's ``metrics::otel::METER_NAME``).
METER_NAME: str = _native.OTEL_METER_NAME
#: The attribute naming the breaker on every data point.
ATTR_NAME: str = _native.OTEL_ATTR_NAME
#: Every instrument: ``(name, kind, unit, description, attribute keys)``, in registration order.
INSTRUMENTS = _native.OTEL_INSTRUMENTS


class Instrumentation:
    """The instruments :func:`instrument` registered for a source of breakers. :meth:`close`
    stops them reporting and removes the transition listeners (OpenTelemetry's API cannot
    unregister an instrument: its callbacks then report nothing)."""

    def __init__(self, source: Source, meter_provider: MeterProvider, durations: bool = False) -> None:
        self._source = source
        self._durations: Optional[Histogram] = None
        # Breakers with a duration sink, and the sink (removed by close()).
        self._timing: weakref.WeakKeyDictionary[CircuitBreaker, Callable[[str, float], None]] = (
            weakref.WeakKeyDictionary()
        )
        self._closed = False
        self._lock = threading.Lock()
        # Breakers with a transition listener, and the listener (removed by close()).
        self._listening: weakref.WeakKeyDictionary[CircuitBreaker, Callable[..., None]] = (
            weakref.WeakKeyDictionary()
        )
        meter = meter_provider.get_meter(METER_NAME, _native.__version__)
        self._state_changes: Optional[Counter] = None
        for name, kind, unit, description, _keys in INSTRUMENTS:
            if kind == "observable counter":
                meter.create_observable_counter(name, [self._reader(name)], unit, description)
            elif kind == "observable gauge":
                meter.create_observable_gauge(name, [self._reader(name)], unit, description)
            elif kind == "counter":
                self._state_changes = meter.create_counter(name, unit, description)
            elif kind == "histogram":
                histogram = meter.create_histogram(name, unit, description)
                self._durations = histogram if durations else None
            else:  # pragma: no cover - a kind the core added and this binding does not map yet
                raise NotImplementedError(f"cbreaker.otel: instrument kind {kind!r} of {name!r}")
        self._attach()

    def close(self) -> None:
        """Stops reporting: the observable instruments report nothing from now on and no
        transition is counted."""
        with self._lock:
            self._closed = True
            listening = list(self._listening.items())
            self._listening.clear()
            timing = list(self._timing.items())
            self._timing.clear()
        for breaker, listener in listening:
            try:
                breaker.remove_listener("on_state_change", listener)
            except ValueError:  # removed by the user already
                pass
        for breaker, sink in timing:
            breaker._remove_duration_sink(sink)

    def __enter__(self) -> Instrumentation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _attach(self) -> list[tuple[str, CircuitBreaker]]:
        """The source's breakers now; each new one gets a transition listener."""
        pairs = _breakers(self._source)
        for name, b in pairs:
            with self._lock:
                if self._closed or b in self._listening:
                    continue
                listener = self._on_transition(name)
                self._listening[b] = listener
                sink = self._on_duration(name) if self._durations is not None else None
                if sink is not None:
                    self._timing[b] = sink
            b.add_listener("on_state_change", listener)
            if sink is not None:
                b._add_duration_sink(sink)
        return pairs

    def _on_duration(self, name: str) -> Callable[[str, float], None]:
        histogram = self._durations

        def record(_outcome: str, seconds: float) -> None:
            if histogram is not None and not self._closed:
                histogram.record(seconds, {ATTR_NAME: name})

        return record

    def _on_transition(self, name: str) -> Callable[[CircuitBreaker, Transition], None]:
        counter = self._state_changes

        def on_state_change(_breaker: CircuitBreaker, tr: Transition) -> None:
            if counter is not None and not self._closed:
                attributes = {ATTR_NAME: name, **dict(_native.otel_transition_attributes(tr))}
                counter.add(1, attributes)

        return on_state_change

    def _reader(self, instrument: str) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(_options: CallbackOptions) -> Iterable[Observation]:
            if self._closed:
                return []
            out = []
            for name, b in self._attach():
                try:
                    points = _native.otel_points(b, instrument)
                except Exception:  # a breaker's clock that raises: the others still report
                    log.exception("cbreaker.otel: reading %r for %s failed", name, instrument)
                    continue
                for attribute, value in points:
                    attributes = {ATTR_NAME: name}
                    if attribute is not None:
                        attributes[attribute[0]] = attribute[1]
                    out.append(Observation(value, attributes))
            return out

        return observe


def instrument(
    source: Source, *, meter_provider: Optional[MeterProvider] = None, durations: bool = False
) -> Instrumentation:
    """Registers the core's instruments for the breakers of ``source`` (a manager, a ``{name:
    breaker}`` mapping, or breakers under their ``name``; a manager or mapping is read anew at
    each collection) on the meter ``cbreaker`` of ``meter_provider`` (default: the global
    one). ``durations=True`` also feeds ``circuit_breaker.call.duration`` from every call of
    the call helpers (which then times every call); without it the call path is unchanged. A
    wrong argument is a ``TypeError`` naming it."""
    if not isinstance(durations, bool):
        raise TypeError(f"durations must be a bool, got {durations!r}")
    if meter_provider is None:
        meter_provider = get_meter_provider()
    elif not callable(getattr(meter_provider, "get_meter", None)):
        raise TypeError(f"meter_provider must be an OpenTelemetry MeterProvider, got {meter_provider!r}")
    values: list[object]
    if isinstance(source, CircuitBreakerManager):
        values = []
    elif isinstance(source, Mapping):
        values = list(source.values())
    elif isinstance(source, Iterable):
        source = list(source)  # an iterator is read once
        values = list(source)
    else:
        raise TypeError(f"source must be a CircuitBreakerManager, a mapping or breakers, got {source!r}")
    for b in values:
        if not isinstance(b, CircuitBreaker):
            raise TypeError(f"source must hold cbreaker.CircuitBreaker objects, got {b!r}")
    return Instrumentation(source, meter_provider, durations)
