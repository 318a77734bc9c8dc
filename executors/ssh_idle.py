"""``sshkit.pool_idle_timeout``: a connection idle longer than that is closed, as SSHKit's pool.

SSHKit reuses a host's connection only within the idle timeout and a background thread closes
the ones left idle longer (every 5 s); 0 turns reuse off (each use gets a new connection,
closed after it). Here each SshConnection counts its uses; one daemon thread closes the idle
ones, and the next use connects again.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Protocol


class Reapable(Protocol):
    def close_if_idle(self, now: float) -> None: ...


_SWEEP_SECONDS = 1.0
_connections: weakref.WeakSet[Reapable] = weakref.WeakSet()
_lock = threading.Lock()
_thread: threading.Thread | None = None


def watch(connection: Reapable) -> None:
    """Close ``connection`` once idle past its timeout (it decides, under its own lock)."""
    global _thread
    with _lock:
        _connections.add(connection)
        if _thread is None:
            _thread = threading.Thread(target=_sweep, name="ssh-idle-reaper", daemon=True)
            _thread.start()


def _sweep() -> None:
    while True:
        time.sleep(_SWEEP_SECONDS)
        with _lock:
            connections = list(_connections)
        now = time.monotonic()
        for connection in connections:
            connection.close_if_idle(now)
