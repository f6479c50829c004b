"""The typed shapes of the public API: keyword options (so ``mypy --strict`` catches a
misspelt keyword), event names and the dicts it returns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable, Literal, Optional, TypedDict, Union

if TYPE_CHECKING:
    from ._native import StateName, TransitionCounts
    from .fleet import Fleet

__all__ = ["BreakerOptions", "CoreOptions", "EventName", "ExcludeItem", "Metrics"]

ExcludeItem = Union[type[BaseException], Callable[[BaseException], object]]
EventName = Literal["on_state_change", "on_reject", "on_success", "on_failure"]
WindowName = Literal["count", "time", "consecutive"]
Listener = Callable[..., Any]
Listeners = Union[Listener, Iterable[Listener], None]


class CoreOptions(TypedDict, total=False):
    """The core's options as keywords (seconds as floats, rates as percent); ``None`` is as
    absent. docs/python.md, "Config"."""

    window: Optional[WindowName]
    window_size: Optional[int]
    window_duration: Optional[float]
    window_buckets: Optional[int]
    failure_rate_threshold: Optional[float]
    slow_call_rate_threshold: Optional[float]
    slow_call_duration: Optional[float]
    consecutive_failures: Optional[int]
    minimum_calls: Optional[int]
    open_duration: Optional[float]
    open_duration_max: Optional[float]
    open_duration_multiplier: Optional[float]
    jitter_percent: Optional[float]
    jitter_seed: Optional[int]
    half_open_max_wait: Optional[float]
    exclude: Union[ExcludeItem, Iterable[ExcludeItem], None]
    clock: Optional[Callable[[], int]]


class BreakerOptions(CoreOptions, total=False):
    """Every keyword a ``CircuitBreaker`` takes but its name and ``shared_memory``: what a
    ``CircuitBreakerManager`` passes to the breakers it makes."""

    failure_threshold: Optional[int]
    recovery_timeout: Optional[float]
    half_open_max_calls: Optional[int]
    success_threshold: Optional[int]
    preset: Optional[str]
    timeout: Optional[float]
    on_state_change: Listeners
    on_reject: Listeners
    on_success: Listeners
    on_failure: Listeners
    fleet: Optional[Fleet]


class Metrics(TypedDict):
    """``CircuitBreaker.get_metrics()``: the agents platform's four keys first."""

    name: str
    state: StateName
    failure_count: int
    error_rate: float
    time_until_retry: Optional[float]
    success_count: int
    total_calls: int
    total_successes: int
    total_failures: int
    ignored_calls: int
    rejected_calls: int
    slow_calls: int
    window_failure_rate: float
    transitions: TransitionCounts
