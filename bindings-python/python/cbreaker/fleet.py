"""One breaker across processes and hosts (docs/fleet.md, docs/python.md "Fleet").

```python
from cbreaker import CircuitBreaker, Fleet

breaker = CircuitBreaker("payments", preset="http_api", fleet=Fleet("redis://127.0.0.1:6379"))
breaker.fleet.status            # "joining", then "joined" ("degraded" while Redis fails)
breaker.fleet.force_open()      # operators: the whole fleet, within one sync interval
```

Calls never touch the network: each process decides with its local breaker. The core's sync
agent runs on a native thread of its own (no GIL held) and does one round trip to Redis per
``sync_interval``; the decisions (trip, probe leases, close) are the core's.
"""

from __future__ import annotations

import atexit
import logging
import math
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, Literal, Optional, TypedDict, Union, final

from . import _native
from ._errors import CircuitBreakerError, ConfigError

if TYPE_CHECKING:
    from ._asyncio import CircuitBreaker
    from ._native import StateName

__all__ = [
    "FLEET_METRIC_FAMILIES",
    "FLEET_STATUSES",
    "Fleet",
    "FleetError",
    "FleetMember",
    "FleetRefusedError",
    "FleetSnapshot",
    "FleetStatusName",
    "FleetStoreError",
]

log = logging.getLogger("cbreaker")

FleetStatusName = Literal["joining", "joined", "degraded", "refused", "stopped"]
#: The fleet's metric families ``(name, type, help, unit, labels)`` (Prometheus).
FLEET_METRIC_FAMILIES = _native.FLEET_METRIC_FAMILIES
#: The label values of ``cbreaker_fleet_status`` (the core's ``fleet::Status::NAMES``).
FLEET_STATUSES: tuple[str, ...] = _native.FLEET_STATUSES
#: What a fleet URL may start with (the core's ``fleet_agent::URL_SCHEMES``).
_SCHEMES: tuple[str, ...] = _native.FLEET_URL_SCHEMES


class FleetError(CircuitBreakerError):
    """An operator move on a fleet failed."""


class FleetStoreError(FleetError, ConnectionError):
    """The fleet's store (Redis) could not be reached, answered an error or took too long."""


class FleetRefusedError(FleetError):
    """This member's breaker config differs from the fleet's (the core's message names both
    fingerprints): it runs on its local breaker alone."""


class FleetSnapshot(TypedDict):
    """``breaker.fleet.snapshot()``: what the member knows of its fleet now."""

    status: FleetStatusName
    state: Optional[StateName]
    generation: int
    members: int
    leases: int
    syncs: int
    failures: int
    error: Optional[str]


def _fail(field: str, what: str, got: object, kind: type[Exception] = ConfigError) -> Exception:
    message = f"invalid fleet option: {field} must be {what}, got {got!r}"
    return ConfigError(message, field) if kind is ConfigError else kind(message)


def _seconds(field: str, v: object, low: float, high: float) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _fail(field, "a number of seconds", v, TypeError)
    if not (math.isfinite(v) and low <= v <= high):
        raise _fail(field, f"{low:g} s to {high:g} s", v)
    return float(v)


@final
class Fleet:
    """How a breaker joins its fleet: ``CircuitBreaker(..., fleet=Fleet(url, ...))``. One
    ``Fleet`` may serve many breakers (a manager's ``fleet=``): each joins under its own name.

    ``url``: ``redis://[user:password@]host:port[/db]``; a Redis Cluster:
    ``redis+cluster://[user:password@]host:port[,host:port...]`` (seed nodes); ``rediss://`` or
    ``rediss+cluster://`` for TLS (the server's certificate is checked against the system's
    roots; ``SSL_CERT_FILE`` names a private CA's bundle instead; a ``#insecure`` suffix skips
    the check). ``prefix``: every key starts with it. ``sync_interval``: seconds between round
    trips (0.01–60). ``window``: whole seconds of outcomes (rate) or of
    local trips (quorum) the fleet counts (``None``: a time window's duration, else 10 s).
    ``quorum``: ``None`` for the config's rate rules over the fleet's totals, ``k`` to open the
    fleet when ``k`` members tripped on their own. ``timeout``: seconds a round trip may take
    before the member runs degraded (``None``: the sync interval). ``member_id``: unique per
    process (``None``: host, pid and a random part). A value of a wrong type is a
    ``TypeError``, a bad value a :class:`ConfigError` (a ``ValueError``), each naming it."""

    __slots__ = ("member_id", "prefix", "quorum", "sync_interval", "timeout", "url", "window")

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379",
        *,
        prefix: str = "cbreaker:",
        sync_interval: float = 0.2,
        window: Optional[float] = None,
        quorum: Optional[int] = None,
        timeout: Optional[float] = None,
        member_id: Optional[str] = None,
    ) -> None:
        if not isinstance(url, str):
            raise _fail("url", "a str", url, TypeError)
        if not url.startswith(_SCHEMES):
            raise _fail("url", "redis://host:port (or rediss://, redis+cluster://host:port,host:port)", url)
        if not isinstance(prefix, str):
            raise _fail("prefix", "a str", prefix, TypeError)
        if "{" in prefix or "}" in prefix:
            raise _fail("prefix", "without braces", prefix)
        self.sync_interval = _seconds("sync_interval", sync_interval, 0.01, 60)
        self.window = None if window is None else _seconds("window", window, 1, 3600)
        if self.window is not None and self.window != int(self.window):
            raise _fail("window", "whole seconds", window)
        if quorum is not None:
            if isinstance(quorum, bool) or not isinstance(quorum, int):
                raise _fail("quorum", "None or a whole number of members", quorum, TypeError)
            if quorum < 1 or quorum > 0xFFFF_FFFF:
                raise _fail("quorum", "at least 1", quorum)
        self.timeout = None if timeout is None else _seconds("timeout", timeout, 0.001, 3600)
        if member_id is not None:
            if not isinstance(member_id, str):
                raise _fail("member_id", "None or a str", member_id, TypeError)
            if not member_id or "#" in member_id:
                raise _fail("member_id", "non-empty, without '#'", member_id)
        self.url, self.prefix, self.quorum, self.member_id = url, prefix, quorum, member_id

    def _join(self, breaker: CircuitBreaker) -> FleetMember:
        return FleetMember(self, breaker)

    def __repr__(self) -> str:
        shown = {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}
        url = shown.pop("url")
        if "@" in url:  # never show a password
            url = url.split("://", 1)[0] + "://…@" + url.rsplit("@", 1)[1]
        rest = "".join(f", {k}={v!r}" for k, v in sorted(shown.items()))
        return f"Fleet({url!r}{rest})"


_members: weakref.WeakSet[FleetMember] = weakref.WeakSet()
_members_lock = threading.Lock()


@atexit.register
def _stop_all() -> None:
    # Agents stop before the interpreter does: none may wait for the GIL of a dying one.
    with _members_lock:
        members = list(_members)
    for m in members:
        m.stop()


def _listener(breaker: CircuitBreaker) -> Any:
    ref = weakref.ref(breaker)

    def on_transition(tr: _native.Transition) -> None:
        b = ref()
        if b is None:
            return
        try:
            b._on_transition(tr)
        except Exception:
            log.exception("cbreaker fleet: a transition listener of %r raised", b.name)

    return on_transition


@final
class FleetMember:
    """``breaker.fleet``: the breaker's membership of its fleet (the core's agent)."""

    __slots__ = ("__weakref__", "_native", "options")

    def __init__(self, options: Fleet, breaker: CircuitBreaker) -> None:
        self.options = options
        self._native = _native.FleetMember(
            breaker,
            breaker.name,
            options.url,
            prefix=options.prefix,
            sync_interval=options.sync_interval,
            window=options.window,
            quorum=options.quorum,
            timeout=options.timeout,
            member_id=options.member_id,
            on_transition=_listener(breaker),
        )
        with _members_lock:
            _members.add(self)

    @property
    def name(self) -> str:
        """The breaker's name: the fleet's keys are ``<prefix>{<name>}:*``."""
        return self._native.name

    @property
    def member_id(self) -> str:
        return self._native.member_id

    @property
    def status(self) -> FleetStatusName:
        """``"joining"`` (no answer yet), ``"joined"``, ``"degraded"`` (the store failed: the
        local breaker runs alone), ``"refused"`` (another config) or ``"stopped"``."""
        return self._native.status()["status"]

    def snapshot(self) -> FleetSnapshot:
        """Status, the fleet's state and generation as last read, members, leases held, syncs,
        failed syncs, and ``error``: the last sync's error, or why the member is refused."""
        return self._native.status()  # the same TypedDict shape

    def wait(self, timeout: float = 5.0) -> FleetStatusName:
        """Waits until the member is no longer joining (at most ``timeout`` seconds) and
        returns its status. Raises :class:`FleetRefusedError` (the core's message) if the fleet
        refused this member's config."""
        end = time.monotonic() + timeout
        while True:
            s = self._native.status()
            if s["status"] == "refused":
                raise FleetRefusedError(s["error"])
            if s["status"] != "joining" or time.monotonic() >= end:
                return s["status"]
            time.sleep(0.005)

    def force_open(self) -> dict[str, Any]:
        """Opens the whole fleet until :meth:`reset` or :meth:`force_closed` (one
        compare-and-set on its record; the GIL is released during the round trip). Returns the
        record written. :class:`FleetStoreError`, :class:`FleetRefusedError`."""
        return self._native.force_open()

    def force_closed(self) -> dict[str, Any]:
        """Every member admits every call and never trips."""
        return self._native.force_closed()

    def reset(self) -> dict[str, Any]:
        """Closes the whole fleet with an empty window and its backoff reset."""
        return self._native.reset()

    def stop(self) -> None:
        """Leaves the fleet: the breaker keeps its state and runs alone. Idempotent."""
        self._native.stop()

    def _metrics(self) -> dict[str, Union[str, int, None]]:
        s = self._native.status()
        return {
            "fleet_status": s["status"],
            "fleet_state": s["state"],
            "fleet_generation": s["generation"],
            "fleet_members": s["members"],
        }

    def __repr__(self) -> str:
        return f"<cbreaker.FleetMember {self.name!r} {self.member_id!r} {self.status}>"
