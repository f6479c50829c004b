"""Environment-variable configuration (the agents platform's variable names). An unset
variable keeps the default: the core's ``"agents_platform"`` preset for a breaker, the
constructor's for ``RetryPolicy`` and ``HealthMonitor``."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any, Optional

from ._errors import ConfigError

# Plain ASCII numbers only: Python's int()/float() also take "1_000", full-width digits and
# other scripts' digits, which a config file should not silently mean.
_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(env: Mapping[str, str], name: str) -> Optional[str]:
    v = env.get(name)
    return None if v is None or v.strip() == "" else v.strip()


def env_int(env: Mapping[str, str], name: str, minimum: int = 0) -> Optional[int]:
    raw = _raw(env, name)
    if raw is None:
        return None
    if not _INT.fullmatch(raw):
        raise ConfigError(f"{name} must be a whole number (ASCII digits), got {raw!r}", name)
    value = int(raw)
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {raw!r}", name)
    return value


def env_float(
    env: Mapping[str, str], name: str, minimum: float = 0.0, positive: bool = False
) -> Optional[float]:
    raw = _raw(env, name)
    if raw is None:
        return None
    if not _FLOAT.fullmatch(raw):
        raise ConfigError(f"{name} must be a finite number (ASCII digits), got {raw!r}", name)
    value = float(raw)
    if value < minimum or (positive and value <= 0):
        bound = "greater than 0" if positive else f"at least {minimum}"
        raise ConfigError(f"{name} must be {bound}, got {raw!r}", name)
    return value


def env_bool(env: Mapping[str, str], name: str) -> Optional[bool]:
    raw = _raw(env, name)
    if raw is None:
        return None
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}", name)


def _environ(environ: Optional[Mapping[str, str]]) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _set(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


# The platform keyword each variable sets, and the native keyword it stands for.
_BREAKER_VARS = {
    "CIRCUIT_BREAKER_FAILURE_THRESHOLD": ("failure_threshold", "consecutive_failures"),
    "CIRCUIT_BREAKER_RECOVERY_TIMEOUT": ("recovery_timeout", "open_duration"),
    "CIRCUIT_BREAKER_HALF_OPEN_CALLS": ("half_open_max_calls", "half_open_max_calls"),
    "CIRCUIT_BREAKER_SUCCESS_THRESHOLD": ("success_threshold", "success_threshold"),
}


def breaker_env(environ: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """``CircuitBreaker`` keywords from the ``CIRCUIT_BREAKER_*`` variables that are set."""
    env = _environ(environ)
    kwargs = _set(
        failure_threshold=env_int(env, "CIRCUIT_BREAKER_FAILURE_THRESHOLD", minimum=1),
        recovery_timeout=env_float(env, "CIRCUIT_BREAKER_RECOVERY_TIMEOUT", positive=True),
        half_open_max_calls=env_int(env, "CIRCUIT_BREAKER_HALF_OPEN_CALLS", minimum=1),
        success_threshold=env_int(env, "CIRCUIT_BREAKER_SUCCESS_THRESHOLD", minimum=1),
    )
    # Values the core refuses (e.g. 40 half-open calls) name the variable too.
    from . import _native

    native = {n: kwargs[a] for a, n in _BREAKER_VARS.values() if a in kwargs}
    try:
        _native.CircuitBreaker(preset="agents_platform", **native)
    except ConfigError as e:
        var = next((v for v, (_, n) in _BREAKER_VARS.items() if n == e.field), e.field)
        raise ConfigError(f"{var}: {e}", var) from None
    return kwargs


def retry_env(environ: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """``RetryPolicy`` keywords from ``MAX_RETRY_ATTEMPTS`` and the ``RETRY_*`` that are set."""
    env = _environ(environ)
    return _set(
        max_attempts=env_int(env, "MAX_RETRY_ATTEMPTS", minimum=1),
        base_delay=env_float(env, "RETRY_BASE_DELAY"),
        max_delay=env_float(env, "RETRY_MAX_DELAY"),
        exponential_base=env_float(env, "RETRY_EXPONENTIAL_BASE", minimum=1.0),
        jitter=env_bool(env, "RETRY_JITTER_ENABLED"),
    )


def health_env(environ: Optional[Mapping[str, str]] = None) -> dict[str, Any]:
    """``HealthMonitor`` keywords from ``HEALTH_CHECK_INTERVAL`` and ``HEALTH_CHECK_TIMEOUT``."""
    env = _environ(environ)
    return _set(
        check_interval=env_float(env, "HEALTH_CHECK_INTERVAL", positive=True),
        timeout=env_float(env, "HEALTH_CHECK_TIMEOUT", positive=True),
    )
