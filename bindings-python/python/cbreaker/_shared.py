"""Shared-memory segments by name: where one lives, and removing it. A breaker is placed in
one with ``CircuitBreaker(..., shared_memory="name")`` (the native module does the placing)."""

from __future__ import annotations

import os

from . import _native

__all__ = ["shared_memory_path", "unlink_shared_memory"]


def shared_memory_path(name: str) -> str:
    """The file holding segment ``name``: ``$CBREAKER_SHM_DIR/cbreaker.<name>`` (default
    ``/dev/shm``). A name that cannot be one (a ``/``, empty, too long) is a ``ConfigError``."""
    return str(_native.shared_memory_path(name))


def unlink_shared_memory(name: str) -> bool:
    """Removes segment ``name``; returns whether there was one. Processes that have it mapped
    keep using their breaker; the next process that asks for ``name`` creates a new one (so do
    it when the service stops, or to change the config or the cbreaker version)."""
    try:
        os.unlink(shared_memory_path(name))
    except FileNotFoundError:
        return False
    return True
