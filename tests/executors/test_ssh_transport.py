"""The transport every connection uses (executors/ssh_transport.py): the handshake's time limit
without a thread of its own, and the host's debug messages left alone when nothing logs."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from backstaff.executors.ssh import SshConnection
from backstaff.executors.ssh_transport import IDLE_WAKE_SECONDS, DeadlinePacketizer, Transport
from backstaff.planner.model import SshSettings
from tests.executors import loopback_sshd
from tests.executors.loopback_sshd import Sshd


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    yield from loopback_sshd.running(tmp_path_factory)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """A client socket with paramiko's short read timeout, and a host that sends nothing."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        host, _ = server.accept()
        client.settimeout(0.05)
        with client, host:
            yield client, host


@pytest.mark.parametrize("kind", [paramiko.Packetizer, DeadlinePacketizer])
def test_the_handshake_time_limit_starts_no_thread(
    kind: type[paramiko.Packetizer], pair: tuple[socket.socket, socket.socket]
) -> None:
    """paramiko starts a ``threading.Timer`` on every connection to time its handshake."""
    packetizer = kind(pair[0])
    before = threading.active_count()
    packetizer.start_handshake(30)
    started = threading.active_count() - before
    packetizer.complete_handshake()
    assert started == (0 if kind is DeadlinePacketizer else 1)


def test_a_handshake_past_its_time_limit_ends_the_read(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """A host that answers the banner and then nothing: the read ends at the deadline (the
    transport's thread then ends), not never."""
    packetizer = DeadlinePacketizer(pair[0])
    assert not packetizer.handshake_timed_out()  # no handshake started: no limit
    packetizer.start_handshake(0.3)
    started = time.monotonic()
    assert not packetizer.handshake_timed_out()
    with pytest.raises(EOFError):
        packetizer.read_all(16)
    assert 0.3 <= time.monotonic() - started < 2
    assert packetizer.handshake_timed_out()


def test_a_completed_handshake_has_no_time_limit(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    client, host = pair
    packetizer = DeadlinePacketizer(client)
    packetizer.start_handshake(0.1)
    packetizer.complete_handshake()
    time.sleep(0.2)
    assert not packetizer.handshake_timed_out()
    threading.Timer(0.3, host.sendall, (b"x" * 16,)).start()
    assert packetizer.read_all(16) == b"x" * 16  # waited past the limit for the host


def _connect(sshd: Sshd, tmp_path: Path) -> SshConnection:
    settings = SshSettings(port=sshd.port, keys_only=True, config=False)
    connection = SshConnection("127.0.0.1", settings, known_hosts=tmp_path / "kh",
                               key_data=(sshd.authorized.read_text(),), timeout=10)  # fmt: skip
    connection.connect()
    return connection


def test_connections_use_this_transport(sshd: Sshd, tmp_path: Path) -> None:
    with _connect(sshd, tmp_path) as ssh:
        assert ssh.run("echo in").stdout == "in\n"
        transport = ssh._client.get_transport()  # type: ignore[union-attr]
        assert isinstance(transport, Transport)
        assert isinstance(transport.packetizer, DeadlinePacketizer)


@pytest.mark.parametrize("logged", [False, True])
def test_the_hosts_debug_message_is_read_for_the_log_only(
    sshd: Sshd,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    logged: bool,
) -> None:
    """sshd sends a debug message on every connection (``key options: ...``); paramiko made it
    printable byte by byte, for a log that is usually off."""
    printable: list[bytes] = []
    safe_string = paramiko.util.safe_string
    monkeypatch.setattr(
        paramiko.util, "safe_string", lambda s: printable.append(s) or safe_string(s)
    )
    if logged:
        caplog.set_level(logging.DEBUG, logger="paramiko.transport")
    with _connect(sshd, tmp_path) as ssh:
        assert ssh.run("echo in").stdout == "in\n"
    if logged:
        assert printable and any("Debug msg: " in r.getMessage() for r in caplog.records)
    else:
        assert printable == []


def test_an_idle_connection_wakes_once_a_second_and_ends_at_close(
    sshd: Sshd, tmp_path: Path
) -> None:
    """paramiko's thread of each connection woke ten times a second to check it should go on;
    once connected it wakes once a second, and a close still ends it at once."""
    with _connect(sshd, tmp_path) as ssh:
        assert ssh.run("echo in").stdout == "in\n"
        transport = ssh._client.get_transport()  # type: ignore[union-attr]
        assert transport is not None and transport.sock.gettimeout() == IDLE_WAKE_SECONDS == 1.0
        time.sleep(0.2)  # the thread is waiting for the host
        closed = time.monotonic()
    transport.join(0.5)
    assert not transport.is_alive() and time.monotonic() - closed < 0.5
