"""The exception hierarchy, declared once, in Python; the native module raises these.

See docs/errors.md for the table every front door shares.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Optional

from . import _native

__all__ = [
    "AllTiersFailedError",
    "CircuitBreakerError",
    "CircuitBreakerOpenError",
    "ConfigError",
    "PermitError",
    "PermitSettledError",
    "RejectReason",
    "RetryExhaustedError",
    "UnknownOptionError",
]

RejectReason = Literal["open", "half_open_full", "forced_open"]


class CircuitBreakerError(Exception):
    """Base class of every error cbreaker raises."""


class CircuitBreakerOpenError(CircuitBreakerError):
    """The circuit rejected the call.

    ``retry_after`` is the core's advice in seconds: how long to wait before a call may be
    admitted (``None`` while the breaker is forced open). ``reason`` says why: ``"open"``,
    ``"half_open_full"`` (every probe slot taken) or ``"forced_open"``.
    """

    def __init__(
        self,
        retry_after: Optional[float] = None,
        name: Optional[str] = None,
        reason: Optional[RejectReason] = None,
    ) -> None:
        self.retry_after = retry_after
        self.name = name
        self.reason: RejectReason = reason or ("forced_open" if retry_after is None else "open")
        who = f"circuit {name!r}" if name else "circuit"
        if retry_after is None:
            super().__init__(f"{who} forced open")
        elif self.reason == "half_open_full":
            super().__init__(f"{who} half-open, every probe slot taken: retry after {retry_after:.3f} s")
        else:
            super().__init__(f"{who} open: retry after {retry_after:.3f} s")

    def __reduce__(
        self,
    ) -> tuple[type[CircuitBreakerOpenError], tuple[Optional[float], Optional[str], RejectReason]]:
        return (type(self), (self.retry_after, self.name, self.reason))


class ConfigError(CircuitBreakerError, ValueError):
    """A config value is out of range or of the wrong type. ``field`` names the keyword
    argument (or the environment variable, for ``from_env()``)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, str]]:
        return (type(self), (str(self), self.field))


class UnknownOptionError(ConfigError, TypeError):
    """A keyword argument no breaker takes (a misspelt option): a :class:`ConfigError` naming
    it, and a ``TypeError`` as Python raises for an unexpected keyword."""


class PermitError(CircuitBreakerError, RuntimeError):
    """A permit was misused: settled twice (:class:`PermitSettledError`), or handed to a
    breaker that did not issue it."""


class PermitSettledError(PermitError):
    """A permit was settled a second time: each is settled exactly once, in every language.
    ``code`` is the core's stable code (``"permit_settled"``); the message is the core's."""

    code: ClassVar[str] = _native.PERMIT_SETTLED_CODE

    def __init__(self, message: str = _native.PERMIT_SETTLED_MESSAGE) -> None:
        super().__init__(message)


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
