"""The exception hierarchy, declared once, in Python; the native module raises these.

See docs/errors.md for the table every front door shares.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "AllTiersFailedError",
    "CircuitBreakerError",
    "CircuitBreakerOpenError",
    "ConfigError",
    "PermitError",
    "RetryExhaustedError",
]


class CircuitBreakerError(Exception):
    """Base class of every error cbreaker raises."""


class CircuitBreakerOpenError(CircuitBreakerError):
    """The circuit rejected the call.

    ``retry_after`` is the time in seconds until a call may be admitted again, or ``None``
    while the breaker is forced open.
    """

    def __init__(self, retry_after: Optional[float] = None, name: Optional[str] = None) -> None:
        self.retry_after = retry_after
        self.name = name
        who = f"circuit {name!r}" if name else "circuit"
        if retry_after is None:
            super().__init__(f"{who} forced open")
        else:
            super().__init__(f"{who} open: retry after {retry_after:.3f} s")

    def __reduce__(self) -> tuple[type[CircuitBreakerOpenError], tuple[Optional[float], Optional[str]]]:
        return (type(self), (self.retry_after, self.name))


class ConfigError(CircuitBreakerError, ValueError):
    """A config value is out of range or of the wrong type. ``field`` names the keyword
    argument (or the environment variable, for ``from_env()``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, str]]:
        return (type(self), (str(self), self.field))


class PermitError(CircuitBreakerError, RuntimeError):
    """A permit was reported more than once."""


class AllTiersFailedError(CircuitBreakerError):
    """Every tier of a :class:`~cbreaker.FallbackHandler` failed or was skipped.

    ``errors`` maps each tier's breaker name to the exception it raised (a
    :class:`CircuitBreakerOpenError` for a tier skipped because its circuit is open).
    """

    def __init__(self, operation_name: str, errors: dict[str, BaseException]) -> None:
        self.operation_name = operation_name
        self.errors = errors
        detail = "; ".join(f"{k}: {type(v).__name__}: {v}" for k, v in errors.items())
        super().__init__(f"all tiers failed for {operation_name!r}: {detail}")


class RetryExhaustedError(CircuitBreakerError):
    """A :class:`~cbreaker.RetryPolicy` ran out of attempts. ``last_exception`` is the error of
    the last attempt (also chained as ``__cause__``)."""

    def __init__(self, attempts: int, last_exception: Optional[BaseException]) -> None:
        self.attempts = attempts
        self.last_exception = last_exception
        super().__init__(f"gave up after {attempts} attempts: {last_exception!r}")
