"""Stubs for the native module ``cbreaker._native`` (checked by ``mypy.stubtest``)."""

from collections.abc import Callable, Iterable
from typing import Any, Literal, Optional, TypedDict, TypeVar, Union, final

from typing_extensions import Self, disjoint_base

_R = TypeVar("_R")

StateName = Literal["closed", "open", "half_open", "forced_open", "disabled", "metrics_only"]
WindowName = Literal["count", "time", "consecutive"]
Number = Union[int, float]
ExcludeItem = Union[type[BaseException], Callable[[BaseException], object]]

__all__ = ["MAX_SLOTS", "CircuitBreaker", "Guarded", "Permit", "Transition", "__version__"]

MAX_SLOTS: int
__version__: str

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
    def record_success(self, duration: Optional[float] = None) -> Optional[Transition]: ...
    def record_failure(self, duration: Optional[float] = None) -> Optional[Transition]: ...
    def record_ignored(self) -> Optional[Transition]: ...
    @property
    def reported(self) -> bool: ...
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
        exclude: Union[ExcludeItem, Iterable[ExcludeItem], None] = None,
        clock: Optional[Callable[[], int]] = None,
        measure_durations: Optional[bool] = None,
    ) -> Self: ...
    def try_acquire(self) -> Optional[Permit]: ...
    def acquire_or_raise(self) -> Permit: ...
    def call_sync(self, func: Callable[..., _R], /, *args: Any, **kwargs: Any) -> _R: ...
    def _begin(self) -> Union[int, tuple[int, int]]: ...
    def _end(self, token: Union[int, tuple[int, int]], exc: Optional[BaseException] = None) -> None: ...
    def classify_exception(self, exc: BaseException) -> Literal["failure", "ignored"]: ...
    @property
    def state(self) -> StateName: ...
    def snapshot(self) -> Snapshot: ...
    @property
    def config(self) -> Config: ...
    def force_open(self) -> Transition: ...
    def force_closed(self) -> Transition: ...
    def metrics_only(self) -> Transition: ...
    def reset(self) -> Transition: ...
    def now(self) -> float: ...
    @property
    def measure_durations(self) -> bool: ...
    @property
    def clock(self) -> Optional[Callable[[], int]]: ...
    def _set_hooks(self, mask: int) -> None: ...
