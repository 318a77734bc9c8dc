"""The order of a read around the deploy lock: every host connected (or failed) first, then the
lock, then the reads; an unreachable host is named to the lock and not tried again. The hosts
are stand-ins recording what they are asked. And the pool's ``each_host``, which the read-only
verbs and the execs run their hosts with."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest

from backstaff.executors.gather import ConnectionPool, gather
from backstaff.executors.ssh import Result, SshConnection, SshError
from tests.planner.scenarios import example

APP = example("v2")
HOSTS = ("10.254.0.11", "10.254.0.12", "10.254.0.13")


@dataclass
class Host:
    name: str
    events: list[str]

    def run(self, command: str, timeout: float | None = None, stdin: str | None = None) -> Result:
        self.events.append(f"read {self.name}")
        return Result(0, "", "")


@dataclass
class Pool:
    unreachable: frozenset[str] = frozenset()
    events: list[str] = field(default_factory=list)
    guard: threading.Lock = field(default_factory=threading.Lock)

    def get(self, name: str) -> Host:
        with self.guard:
            self.events.append(f"connect {name}")
        if name in self.unreachable:
            raise SshError(f"{name}: cannot connect on port 22: connection refused")
        return Host(name, self.events)


def test_the_lock_comes_after_every_connection_and_before_any_read() -> None:
    pool = Pool(unreachable=frozenset({"10.254.0.13"}))
    told: list[frozenset[str]] = []

    def lock(unreachable: frozenset[str]) -> None:
        told.append(unreachable)
        pool.events.append("lock")

    live = gather(APP, HOSTS, pool, lock)  # type: ignore[arg-type]
    at = pool.events.index("lock")
    assert sorted(pool.events[:at]) == [f"connect {h}" for h in HOSTS]
    assert sorted(pool.events[at + 1 :]) == ["read 10.254.0.11", "read 10.254.0.12"]
    assert told == [frozenset({"10.254.0.13"})]
    assert pool.events.count("connect 10.254.0.13") == 1  # not tried again
    assert live.host("10.254.0.13").error == "cannot connect on port 22: connection refused"


def test_without_a_lock_nothing_waits_and_no_host_is_missed() -> None:
    pool = Pool()
    live = gather(APP, HOSTS, pool)  # type: ignore[arg-type]
    assert sorted(pool.events) == sorted(
        [f"connect {h}" for h in HOSTS] + [f"read {h}" for h in HOSTS]
    )
    assert [h.host for h in live.hosts] == list(HOSTS)


def test_no_host_to_read_still_takes_the_lock() -> None:
    told: list[frozenset[str]] = []
    assert gather(APP, (), Pool(), told.append).hosts == ()  # type: ignore[arg-type]
    assert told == [frozenset()]


def test_each_host_runs_the_hosts_at_once_and_answers_in_their_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool = ConnectionPool(APP.ssh)
    monkeypatch.setattr(pool, "close", lambda: pytest.fail("the caller's connections closed"))
    together = threading.Barrier(len(HOSTS), timeout=10)  # broken unless all run at once

    def work(host: str) -> str:
        together.wait()
        return host.upper()

    assert list(pool.each_host(reversed(HOSTS), work)) == [(h, h.upper()) for h in HOSTS[::-1]]
    assert list(pool.each_host([], work)) == []


def test_a_caller_that_stops_early_closes_the_connections_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C or an error while hosts still run: closing the connections is what ends their
    commands; without it, the run would wait for every command to finish."""
    pool = ConnectionPool(APP.ssh)
    closed = threading.Event()
    monkeypatch.setattr(pool, "stop", closed.set)

    def work(host: str) -> str:
        if host == HOSTS[0]:
            return "done"
        return "ended by the close" if closed.wait(10) else "still running"

    results = pool.each_host(HOSTS, work)
    assert next(results) == (HOSTS[0], "done")
    results.close()  # the caller stops here
    assert closed.is_set()


def test_after_an_early_stop_no_host_is_connected_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """A host whose turn comes after the stop (it waited for a connection slot, or its work
    asked for its connection late) is not connected to: its command never starts."""
    pool = ConnectionPool(APP.ssh)
    stopped, asked = threading.Event(), {}
    stop = pool.stop
    monkeypatch.setattr(pool, "stop", lambda: (stop(), stopped.set()))
    started = threading.Barrier(len(HOSTS), timeout=10)  # each host's work under way

    def work(host: str) -> str:
        started.wait()
        if host == HOSTS[0]:
            return "done"
        stopped.wait(10)
        try:
            pool.get("127.0.0.1")  # the loopback: nothing is contacted either way
            asked[host] = "connected"
        except SshError as exc:
            asked[host] = str(exc)
        return asked[host]

    results = pool.each_host(HOSTS, work)
    assert next(results) == (HOSTS[0], "done")
    results.close()
    assert asked == {h: "127.0.0.1: not run: the command was stopped" for h in HOSTS[1:]}


def test_a_stopped_connection_connects_no_more() -> None:
    connection = SshConnection("127.0.0.1", APP.ssh)
    connection.stop()
    with pytest.raises(SshError, match=r"^127\.0\.0\.1: not run: the command was stopped$"):
        connection.run("true")
