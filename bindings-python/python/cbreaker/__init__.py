"""cbreaker: a lock-free circuit breaker for asyncio and threads, on a verified Rust core.

```python
from cbreaker import CircuitBreaker

breaker = CircuitBreaker("payments", failure_threshold=5, recovery_timeout=30)
result = await breaker.call(fetch, url)
```
"""

from . import _native
from ._asyncio import CircuitBreaker
from ._errors import (
    AllTiersFailedError,
    CircuitBreakerError,
    CircuitBreakerOpenError,
    ConfigError,
    PermitError,
    PermitSettledError,
    RejectReason,
    RetryExhaustedError,
)
from ._native import MAX_SLOTS, PRESETS, Permit, Transition
from ._platform import CircuitBreakerManager, FallbackHandler, HealthMonitor, RetryPolicy
from ._shared import shared_memory_path, unlink_shared_memory
from .fleet import Fleet

NativeCircuitBreaker = _native.CircuitBreaker
__version__: str = _native.__version__

__all__ = [
    "MAX_SLOTS",
    "PRESETS",
    "AllTiersFailedError",
    "CircuitBreaker",
    "CircuitBreakerError",
    "CircuitBreakerManager",
    "CircuitBreakerOpenError",
    "ConfigError",
    "FallbackHandler",
    "Fleet",
    "HealthMonitor",
    "NativeCircuitBreaker",
    "Permit",
    "PermitError",
    "PermitSettledError",
    "RejectReason",
    "RetryExhaustedError",
    "RetryPolicy",
    "Transition",
    "__version__",
    "shared_memory_path",
    "unlink_shared_memory",
]
