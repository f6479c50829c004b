"""The exceptions, under the agents platform's module name."""

from ._errors import (
    AllTiersFailedError,
    CircuitBreakerError,
    CircuitBreakerOpenError,
    ConfigError,
    PermitError,
    PermitSettledError,
    RetryExhaustedError,
)

__all__ = [
    "AllTiersFailedError",
    "CircuitBreakerError",
    "CircuitBreakerOpenError",
    "ConfigError",
    "PermitError",
    "PermitSettledError",
    "RetryExhaustedError",
]
