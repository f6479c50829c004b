"""Stubs for the native module ``cbreaker._native`` (checked by ``mypy.stubtest``)."""

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, Optional, TypedDict, TypeVar, Union, final

from typing_extensions import ParamSpec, Self, disjoint_base

_R = TypeVar("_R")
_P = ParamSpec("_P")

StateName = Literal["closed", "open", "half_open", "forced_open", "disabled", "metrics_only"]
WindowName = Literal["count", "time", "consecutive"]
HealthName = Literal["healthy", "degraded", "unhealthy"]
EndName = Literal["success", "failure", "ignored", "timeout", "cancelled"]
PresetName = Literal[
    "agents_platform", "pybreaker", "http_api", "llm_service", "database", "notifications", "cache"
]
MetricType = Literal["gauge", "counter", "histogram", "summary"]
NamingName = Literal["cbreaker", "resilience4j"]
InstrumentKind = Literal["observable counter", "observable gauge", "histogram", "counter"]
Number = Union[int, float]
ExcludeItem = Union[type[BaseException], Callable[[BaseException], object]]

__all__ = [
    "FLEET_METRIC_FAMILIES",
    "FLEET_STATUSES",
    "FLEET_URL_SCHEMES",
    "MAX_SLOTS",
    "METRICS_CONTENT_TYPE",
    "METRIC_FAMILIES",
    "METRIC_NAMINGS",
    "OTEL_ATTR_NAME",
    "OTEL_INSTRUMENTS",
    "OTEL_METER_NAME",
    "PERMIT_SETTLED_CODE",
    "PERMIT_SETTLED_MESSAGE",
    "PRESETS",
    "CircuitBreaker",
    "FleetMember",
    "FleetSim",
    "Guarded",
    "Permit",
    "Transition",
    "__version__",
    "fleet_metric_values",
    "fleet_metrics_text",
    "group_health",
    "metric_samples",
    "metrics_text",
    "otel_points",
    "otel_transition_attributes",
    "shared_memory_path",
]

MAX_SLOTS: int
__version__: str
#: The core's preset names (``Config::PRESETS``).
PRESETS: tuple[PresetName, ...]
PERMIT_SETTLED_CODE: str
PERMIT_SETTLED_MESSAGE: str
#: The core's metric families: ``(name, type, help, unit, labels)``.
METRIC_FAMILIES: tuple[tuple[str, MetricType, str, str, list[str]], ...]
METRICS_CONTENT_TYPE: str
#: The families of each naming (``metrics::Naming``), as ``METRIC_FAMILIES``.
METRIC_NAMINGS: dict[NamingName, tuple[tuple[str, MetricType, str, str, list[str]], ...]]
#: The core's OpenTelemetry meter name, breaker attribute key and instruments:
#: ``(name, kind, unit, description, attribute keys)``.
OTEL_METER_NAME: str
OTEL_ATTR_NAME: str
OTEL_INSTRUMENTS: tuple[tuple[str, InstrumentKind, str, str, list[str]], ...]

#: The fleet's metric families (until the core defines them): as ``METRIC_FAMILIES``.
FLEET_METRIC_FAMILIES: tuple[tuple[str, MetricType, str, str, list[str]], ...]

FLEET_STATUSES: tuple[str, ...]
FLEET_URL_SCHEMES: tuple[str, ...]

def fleet_metrics_text(rows: Sequence[tuple[str, FleetMember]]) -> str: ...
def fleet_metric_values(breaker: str, member: FleetMember) -> list[tuple[str, str, int]]: ...
def group_health(states: Sequence[StateName]) -> HealthName: ...
def metric_samples(
    breaker: CircuitBreaker, naming: str = "cbreaker"
) -> list[tuple[str, list[tuple[str, float]]]]: ...
def metrics_text(rows: Sequence[tuple[str, CircuitBreaker]], naming: str = "cbreaker") -> str: ...
def otel_points(
    breaker: CircuitBreaker, instrument: str
) -> list[tuple[Optional[tuple[str, str]], float]]: ...
def otel_transition_attributes(transition: Transition) -> list[tuple[str, str]]: ...
def shared_memory_path(name: str) -> str: ...

class TransitionCounts(TypedDict):
    closed: int
    open: int
    half_open: int
    forced_open: int
    disabled: int
    metrics_only: int

class Snapshot(TypedDict):
    state: StateName
    generation: int
    calls: int
    successes: int
    failures: int
    ignored: int
    slow: int
    rejected: int
    transitions: TransitionCounts
    window_calls: int
    window_failures: int
    window_slow: int
    failure_rate: float
    slow_rate: float
    consecutive_failures: int
    retry_after: Optional[float]

class Config(TypedDict, total=False):
    window: WindowName
    window_size: int
    window_duration: float
    window_buckets: int
    failure_rate_threshold: int
    slow_call_rate_threshold: int
    slow_call_duration: float
    consecutive_failures: int
    minimum_calls: int
    open_duration: float
    open_duration_max: float
    open_duration_multiplier: float
    jitter_percent: int
    jitter_seed: int
    half_open_max_calls: int
    success_threshold: int
    half_open_max_wait: float

@final
class Transition:
    @property
    def from_state(self) -> StateName: ...
    @property
    def to_state(self) -> StateName: ...
    @property
    def at(self) -> float: ...
    @property
    def generation(self) -> int: ...
    @property
    def cause(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...

@final
class Permit:
    def finish(self, end: EndName) -> Optional[Transition]: ...
    def record_success(self, duration: Optional[float] = None) -> Optional[Transition]: ...
    def record_failure(self, duration: Optional[float] = None) -> Optional[Transition]: ...
    def record_ignored(self) -> Optional[Transition]: ...
    @property
    def reported(self) -> bool: ...
    @property
    def timed(self) -> bool: ...
    @property
    def duration(self) -> Optional[float]: ...
    @property
    def state(self) -> StateName: ...
    @property
    def generation(self) -> int: ...
    @property
    def transition(self) -> Optional[Transition]: ...
    def to_bits(self) -> int: ...

@final
class Guarded:
    """A sync function decorated with ``@breaker``."""

    def __new__(cls, breaker: CircuitBreaker, func: Callable[..., Any]) -> Self: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def __get__(self, obj: Any, owner: Any = None, /) -> Any: ...
    @property
    def breaker(self) -> CircuitBreaker: ...

@disjoint_base
class CircuitBreaker:
    def __new__(
        cls,
        *,
        exclude: Union[ExcludeItem, Iterable[ExcludeItem], None] = None,
        clock: Optional[Callable[[], int]] = None,
        shared_memory: Optional[str] = None,
        fleet: object = None,
        preset: Optional[str] = None,
        window: Optional[WindowName] = None,
        window_size: Optional[int] = None,
        window_duration: Optional[Number] = None,
        window_buckets: Optional[int] = None,
        failure_rate_threshold: Optional[Number] = None,
        slow_call_rate_threshold: Optional[Number] = None,
        slow_call_duration: Optional[Number] = None,
        consecutive_failures: Optional[int] = None,
        minimum_calls: Optional[int] = None,
        open_duration: Optional[Number] = None,
        open_duration_max: Optional[Number] = None,
        open_duration_multiplier: Optional[Number] = None,
        jitter_percent: Optional[Number] = None,
        jitter_seed: Optional[int] = None,
        half_open_max_calls: Optional[int] = None,
        success_threshold: Optional[int] = None,
        half_open_max_wait: Optional[Number] = None,
    ) -> Self: ...
    def try_acquire(self, sink: bool = False) -> Optional[Permit]: ...
    def acquire_or_raise(self, sink: bool = False) -> Permit: ...
    def record(
        self, permit: Permit, outcome: EndName, duration: Optional[float] = None
    ) -> Optional[Transition]: ...
    def call_sync(self, func: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...
    def _begin(self) -> Union[int, tuple[int, int]]: ...
    def _end(
        self,
        token: Union[int, tuple[int, int], Permit],
        exc: Optional[BaseException] = None,
        timed_out: bool = False,
    ) -> Optional[Transition]: ...
    def classify_exception(self, exc: BaseException) -> Literal["failure", "ignored"]: ...
    def times_calls(self, sink: bool = False) -> bool: ...
    @property
    def state(self) -> StateName: ...
    def health(self) -> Literal["healthy", "unhealthy"]: ...
    def snapshot(self) -> Snapshot: ...
    @property
    def config(self) -> Config: ...
    def force_open(self) -> Transition: ...
    def force_closed(self) -> Transition: ...
    def metrics_only(self) -> Transition: ...
    def reset(self) -> Transition: ...
    def trip(self) -> Transition: ...
    def half_open(self) -> Transition: ...
    def _generation(self) -> int: ...
    @property
    def shared_memory(self) -> Optional[str]: ...
    @property
    def shared_memory_created(self) -> bool: ...
    def now(self) -> float: ...
    @property
    def clock(self) -> Optional[Callable[[], int]]: ...
    def _set_hooks(self, mask: int) -> None: ...

FleetStatusName = Literal["joining", "joined", "degraded", "refused", "stopped"]

class FleetStatus(TypedDict):
    status: FleetStatusName
    state: Optional[StateName]
    generation: int
    members: int
    leases: int
    syncs: int
    failures: int
    error: Optional[str]

@final
class FleetSim:
    """The core's simulated fleet store with native breakers as members (fleet vectors)."""

    def __new__(cls, server_offset_ms: int) -> Self: ...
    def join(
        self, breaker: CircuitBreaker, quorum: Optional[int] = None, window_ms: Optional[int] = None
    ) -> int: ...
    def sync(self, i: int, now_ms: int) -> dict[str, Any]: ...
    def transitions(self, i: int) -> list[str]: ...
    def store(self, action: str) -> None: ...
    def operator(self, i: int, action: str, now_ms: int) -> None: ...
    def fleet(self) -> dict[str, Any]: ...

@final
class FleetMember:
    def __new__(
        cls,
        breaker: CircuitBreaker,
        name: str,
        url: str,
        *,
        prefix: str,
        sync_interval: float,
        window: Optional[float],
        quorum: Optional[int],
        timeout: Optional[float],
        member_id: Optional[str],
        on_transition: Optional[Callable[[Transition], object]],
    ) -> Self: ...
    @property
    def member_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    def status(self) -> FleetStatus: ...
    def force_open(self) -> dict[str, Any]: ...
    def force_closed(self) -> dict[str, Any]: ...
    def reset(self) -> dict[str, Any]: ...
    def stop(self) -> None: ...
