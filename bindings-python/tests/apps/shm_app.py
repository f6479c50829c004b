"""An ASGI app for `uvicorn --workers 4` (tests/test_shared_memory.py): each worker guards
calls to an upstream with breakers that live in shared memory (`CB_SHM`, a segment prefix) or,
with `CB_SHM` empty, breakers of its own. Every response says which worker answered.

GET /call/<breaker>/<path>  the upstream's <path> through breaker `payments` or `probe`
GET /metrics/<breaker>      get_metrics() and the snapshot
GET /health                 the manager's health (503 when unhealthy)
Transitions each worker hears are appended to `$CB_EVENTS/<pid>.log`."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

from cbreaker import CircuitBreaker, CircuitBreakerManager, CircuitBreakerOpenError

PID = os.getpid()
UPSTREAM = os.environ["CB_UPSTREAM"]
EVENTS = os.environ["CB_EVENTS"]


def heard(breaker: CircuitBreaker, transition: Any) -> None:
    with open(os.path.join(EVENTS, f"{PID}.log"), "a") as f:
        f.write(f"{breaker.name} {transition}\n")


manager = CircuitBreakerManager(shared_memory=os.environ.get("CB_SHM") or None, on_state_change=heard)
manager.register_breaker(
    "payments", failure_threshold=5, recovery_timeout=1.0, half_open_max_calls=3, success_threshold=1
)
manager.register_breaker(
    "probe", failure_threshold=1, recovery_timeout=0.5, half_open_max_calls=1, success_threshold=1,
    half_open_max_wait=2.0,
)  # fmt: skip
client: httpx.AsyncClient | None = None


async def upstream(path: str) -> Any:
    global client
    if client is None:
        client = httpx.AsyncClient(timeout=None)
    r = await client.get(f"{UPSTREAM}/{path}", headers={"x-worker-pid": str(PID)})
    r.raise_for_status()
    return r.json()


async def answer(send: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps({**body, "pid": PID}).encode()
    headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    parts = scope["path"].strip("/").split("/", 2)
    if parts[0] == "call":
        breaker = manager.get_breaker(parts[1])
        assert breaker is not None
        try:
            result = await breaker.call(upstream, parts[2])
        except CircuitBreakerOpenError as e:
            return await answer(send, 503, {"rejected": e.reason, "retry_after": e.retry_after})
        except httpx.HTTPError as e:
            return await answer(send, 502, {"failed": str(e)})
        return await answer(send, 200, {"result": result})
    if parts[0] == "metrics":
        breaker = manager.get_breaker(parts[1])
        assert breaker is not None
        return await answer(send, 200, {"metrics": breaker.get_metrics(), "snapshot": breaker.snapshot()})
    if parts[0] == "health":
        h = manager.health()
        return await answer(send, 503 if h["status"] == "unhealthy" else 200, h)
    await answer(send, 404, {})
