"""The TCP connection under every SSH connection (executors/ssh_socket.py): what the host
sends is acknowledged at once, and what arrived together is one read of the socket."""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backstaff.executors.ssh import SshConnection
from backstaff.executors.ssh_socket import QuickAckSocket
from backstaff.planner.model import SshSettings
from tests.executors import loopback_sshd
from tests.executors.loopback_sshd import Sshd


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    yield from loopback_sshd.running(tmp_path_factory)


@pytest.mark.skipif(not hasattr(socket, "TCP_QUICKACK"), reason="TCP_QUICKACK is Linux's")
@pytest.mark.parametrize("kind", [socket.socket, QuickAckSocket])
def test_what_the_host_sends_is_acknowledged_at_once(kind: type[socket.socket]) -> None:
    """sshd leaves Nagle's algorithm on for a command without a terminal: a client delaying its
    ACK made the first command of every connection wait up to 40 ms. Linux turns TCP_QUICKACK
    off once a connection goes back and forth (a plain socket shows it); each read of the
    connection's socket sets it again."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = kind(socket.AF_INET, socket.SOCK_STREAM)
        client.connect(server.getsockname())
        host, _ = server.accept()
        with client, host:
            quick = []
            for _ in range(5):
                client.sendall(b"ask")
                host.recv(3)
                host.sendall(b"answer")
                client.recv(6)
                quick.append(client.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK))
    assert quick == [1] * 5 if kind is QuickAckSocket else 0 in quick


def test_what_arrived_together_is_one_read_of_the_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    """paramiko reads each packet in exact pieces (its first block, the rest): about 50 reads
    a connection, each a system call. What already arrived is read once and handed out piece
    by piece, byte for byte; a read flagged (a peek) or larger than the read-ahead goes to the
    socket itself."""
    reads: list[int] = []
    real = socket.socket.recv

    def counted(sock: socket.socket, size: int, flags: int = 0) -> bytes:
        reads.append(size)
        return real(sock, size, flags)

    monkeypatch.setattr(socket.socket, "recv", counted)
    sent = bytes(range(256)) * 40
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = QuickAckSocket(socket.AF_INET, socket.SOCK_STREAM)
        client.connect(server.getsockname())
        host, _ = server.accept()
        with client, host:
            host.sendall(sent)
            time.sleep(0.2)  # all of it arrived
            got = b""
            for size in itertools.cycle((4, 12, 1, 1000, 16)):
                if len(got) == len(sent):
                    break
                got += client.recv(size)
            assert got == sent and reads == [QuickAckSocket.READ_AHEAD]
            host.sendall(b"more")
            assert client.recv(2, socket.MSG_PEEK) == b"mo" and reads[-1] == 2
            assert client.recv(QuickAckSocket.READ_AHEAD) == b"more"
            assert reads[-1] == QuickAckSocket.READ_AHEAD and len(reads) == 3


def test_connections_use_the_quick_ack_socket(sshd: Sshd, tmp_path: Path) -> None:
    settings = SshSettings(port=sshd.port, keys_only=True, config=False)
    with SshConnection("127.0.0.1", settings, known_hosts=tmp_path / "kh",
                       key_data=(sshd.authorized.read_text(),), timeout=10) as ssh:  # fmt: skip
        assert ssh.run("echo in").stdout == "in\n"
        transport = ssh._client.get_transport()  # type: ignore[union-attr]
        assert transport is not None and isinstance(transport.sock, QuickAckSocket)
