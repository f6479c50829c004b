"""Environment-variable configuration (the agents platform's variable names and defaults)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Optional

from ._errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(env: Mapping[str, str], name: str) -> Optional[str]:
    v = env.get(name)
    return None if v is None or v.strip() == "" else v.strip()


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}", name) from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}", name)
    return value


def env_float(
    env: Mapping[str, str], name: str, default: float, minimum: float = 0.0, positive: bool = False
) -> float:
    raw = _raw(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}", name) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{name} must be a finite number, got {raw!r}", name)
    if value < minimum or (positive and value <= 0):
        bound = "greater than 0" if positive else f"at least {minimum}"
        raise ConfigError(f"{name} must be {bound}, got {raw!r}", name)
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = _raw(env, name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}", name)


def _environ(environ: Optional[Mapping[str, str]]) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def breaker_env(environ: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """``CircuitBreaker`` keywords from ``CIRCUIT_BREAKER_*``."""
    env = _environ(environ)
    kwargs: dict[str, Any] = {
        "failure_threshold": env_int(env, "CIRCUIT_BREAKER_FAILURE_THRESHOLD", 5, minimum=1),
        "recovery_timeout": env_float(env, "CIRCUIT_BREAKER_RECOVERY_TIMEOUT", 60.0, positive=True),
        "half_open_max_calls": env_int(env, "CIRCUIT_BREAKER_HALF_OPEN_CALLS", 3, minimum=1),
        "success_threshold": env_int(env, "CIRCUIT_BREAKER_SUCCESS_THRESHOLD", 2, minimum=1),
    }
    # Values the core refuses (e.g. 40 half-open calls) name the variable too.
    from . import _native

    names = {
        "consecutive_failures": "CIRCUIT_BREAKER_FAILURE_THRESHOLD",
        "open_duration": "CIRCUIT_BREAKER_RECOVERY_TIMEOUT",
        "half_open_max_calls": "CIRCUIT_BREAKER_HALF_OPEN_CALLS",
        "success_threshold": "CIRCUIT_BREAKER_SUCCESS_THRESHOLD",
    }
    try:
        _native.CircuitBreaker(
            window="consecutive",
            consecutive_failures=kwargs["failure_threshold"],
            open_duration=kwargs["recovery_timeout"],
            half_open_max_calls=kwargs["half_open_max_calls"],
            success_threshold=kwargs["success_threshold"],
        )
    except ConfigError as e:
        var = names.get(e.field, e.field)
        raise ConfigError(f"{var}: {e}", var) from None
    return kwargs


def retry_env(environ: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """``RetryPolicy`` keywords from ``MAX_RETRY_ATTEMPTS`` and ``RETRY_*``."""
    env = _environ(environ)
    return {
        "max_attempts": env_int(env, "MAX_RETRY_ATTEMPTS", 3, minimum=1),
        "base_delay": env_float(env, "RETRY_BASE_DELAY", 1.0),
        "max_delay": env_float(env, "RETRY_MAX_DELAY", 60.0),
        "exponential_base": env_float(env, "RETRY_EXPONENTIAL_BASE", 2.0, minimum=1.0),
        "jitter": env_bool(env, "RETRY_JITTER_ENABLED", True),
    }


def health_env(environ: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """``HealthMonitor`` keywords from ``HEALTH_CHECK_INTERVAL`` and ``HEALTH_CHECK_TIMEOUT``."""
    env = _environ(environ)
    return {
        "check_interval": env_float(env, "HEALTH_CHECK_INTERVAL", 30.0, positive=True),
        "timeout": env_float(env, "HEALTH_CHECK_TIMEOUT", 10.0, positive=True),
    }
