"""Gather the live state of every host: one SSH command per host, all hosts in parallel.

An unreachable host is reported with its error and the other hosts still report.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from backstaff.executors.ssh import (
    DEFAULT_KNOWN_HOSTS,
    NewKeyCallback,
    SshConnection,
    SshError,
    stopped,
)
from backstaff.planner.facts import frame_answer, gather_script
from backstaff.planner.live import LiveHost, LiveState, parse_host
from backstaff.planner.model import App, SshSettings

T = TypeVar("T")
MOST_HOSTS_AT_ONCE = 64  # threads; the connection starts are bounded by the pool itself


class ConnectionPool:
    """One reused connection per host; at most ``max_concurrent_starts`` connecting at once."""

    def __init__(
        self,
        settings: SshSettings,
        *,
        known_hosts: Path = DEFAULT_KNOWN_HOSTS,
        trust_new_hosts: bool = True,
        key_data: tuple[str, ...] = (),
        timeout: float = 30.0,
        on_new_key: NewKeyCallback | None = None,
    ) -> None:
        self._settings = settings
        self._on_new_key = on_new_key
        self._known_hosts = known_hosts
        self._trust_new = trust_new_hosts
        self._key_data = key_data
        self._timeout = timeout
        self._starts = threading.BoundedSemaphore(settings.max_concurrent_starts)
        self._lock = threading.Lock()
        self._connections: dict[str, SshConnection] = {}
        self._starting = 0
        self._stopped = False
        self.peak_starts = 0  # the most connections ever starting at once (for benchmarks)

    def get(self, host: str) -> SshConnection:
        with self._lock:
            self._refuse_if_stopped(host)
            connection = self._connections.get(host)
            if connection is None:
                connection = SshConnection(
                    host, self._settings, known_hosts=self._known_hosts,
                    trust_new_hosts=self._trust_new, timeout=self._timeout, key_data=self._key_data,
                    on_new_key=self._on_new_key,
                )  # fmt: skip
                self._connections[host] = connection
        if not connection.connected:
            with self._starts:
                self._refuse_if_stopped(host)  # stopped while it waited for its turn
                if not connection.connected:
                    self._count_start(+1)
                    try:
                        connection.connect()
                    finally:
                        self._count_start(-1)
        return connection

    def _count_start(self, delta: int) -> None:
        with self._lock:
            self._starting += delta
            self.peak_starts = max(self.peak_starts, self._starting)

    def _refuse_if_stopped(self, host: str) -> None:
        if self._stopped:
            raise stopped(host)

    def close(self) -> None:
        with self._lock:
            for connection in self._connections.values():
                connection.close()
            self._connections.clear()

    def stop(self) -> None:
        """Close every connection and open no new one: the run is over (Ctrl-C, an error).
        A command running ends with its connection; one not started yet never starts."""
        with self._lock:
            self._stopped = True
            for connection in self._connections.values():
                connection.stop()
            self._connections.clear()

    def each_host(self, hosts: Iterable[str], work: Callable[[str], T]) -> Iterator[tuple[str, T]]:
        """``work`` on every host at once, as SSHKit's ``on(hosts)`` runs Kamal's commands;
        each host's result in the hosts' order, as soon as it and those before it are done.
        When the caller stops early (Ctrl-C, an error), the pool is stopped first: the commands
        still running end at once instead of keeping the run waiting, and no host whose turn
        had not come yet is connected to afterwards."""
        hosts = list(hosts)
        if not hosts:
            return
        executor = ThreadPoolExecutor(max_workers=min(len(hosts), MOST_HOSTS_AT_ONCE))
        finished = False
        try:
            yield from zip(hosts, executor.map(work, hosts), strict=True)
            finished = True
        finally:
            if not finished:
                self.stop()
            executor.shutdown(wait=True, cancel_futures=True)


def gather(
    app: App,
    hosts: Iterable[str],
    pool: ConnectionPool,
    before_reading: Callable[[frozenset[str]], None] | None = None,
) -> LiveState:
    """Each host's state, read in parallel. ``before_reading`` (the deploy lock) runs once every
    host is connected or failed to, before any host is read; it is given the hosts that could
    not be reached, so that it does not try them again."""
    hosts = list(dict.fromkeys(hosts))
    token = secrets.token_hex(16)  # marks the script's own lines; no host value can know it

    def connect(host: str) -> SshConnection | LiveHost:
        try:
            return pool.get(host)
        except SshError as exc:
            return _unread(host, exc)

    def read(host: str, connection: SshConnection | LiveHost) -> LiveHost:
        if isinstance(connection, LiveHost):
            return connection
        try:
            result = connection.run(gather_script(app, host, token), timeout=120)
        except SshError as exc:
            return _unread(host, exc)
        return parse_host(host, frame_answer(result.stdout, result.stderr, token))

    if not hosts:
        if before_reading is not None:
            before_reading(frozenset())
        return LiveState(())
    with ThreadPoolExecutor(max_workers=min(len(hosts), MOST_HOSTS_AT_ONCE)) as executor:
        if before_reading is None:  # each host is read as soon as it is connected
            return LiveState(tuple(executor.map(lambda h: read(h, connect(h)), hosts)))
        connections = list(executor.map(connect, hosts))
        before_reading(frozenset(c.host for c in connections if isinstance(c, LiveHost)))
        return LiveState(tuple(executor.map(read, hosts, connections)))


def _unread(host: str, exc: SshError) -> LiveHost:
    return LiveHost(host, error=str(exc).removeprefix(f"{host}: "))
