"""The TCP connection under every SSH connection: what OpenSSH sets on its socket (no Nagle
delay, no delayed acknowledgement), and one read taking what has arrived where paramiko reads
each packet in pieces."""

from __future__ import annotations

import errno
import socket
from typing import Any

import paramiko

QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only


class QuickAckSocket(socket.socket):
    """A socket that acknowledges what it receives at once (``TCP_QUICKACK``, set again before
    each read: Linux turns it off as it goes). sshd leaves Nagle's algorithm on for a command
    without a terminal, so it holds the second of two small packets (the channel's confirmation
    and what follows) until the first is acknowledged, and a client delaying its ACK made the
    first command on every connection wait up to 40 ms for nothing (53 ms against 10 ms on the
    test bed).

    It also reads ahead: paramiko reads each packet in exact pieces (its first block, then the
    rest), about 50 reads a connection for some 25 packets that mostly arrive together, each
    read a system call or two, a TCP_QUICKACK and a release of the interpreter's lock, which
    with hundreds of connections at once hands it to another thread. One read takes what has
    arrived, and the pieces are cut from it. Only paramiko's transport thread reads."""

    READ_AHEAD = 65536  # what one read asks the kernel for
    _ahead = b""
    _taken = 0

    def recv(self, size: int, flags: int = 0) -> bytes:
        if self._taken < len(self._ahead) and not flags:
            piece = self._ahead[self._taken : self._taken + size]
            self._taken += len(piece)
            return piece
        if QUICKACK is not None:
            self.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
        if flags or size >= self.READ_AHEAD:
            return super().recv(size, flags)
        data = super().recv(self.READ_AHEAD)
        self._ahead, self._taken = data, min(size, len(data))
        return data[:size]


def tcp_connection(
    address: str, port: int, timeout: float, bind_address: str | None = None
) -> socket.socket:
    """A TCP connection to the host with TCP_NODELAY set, as OpenSSH sets it. Without it,
    Nagle's algorithm holds each small SSH packet until the one before is acknowledged, and
    the host acknowledges late (delayed ACK, up to 40 ms on Linux): every handshake and every
    command paid that wait once or twice. What the host sends is acknowledged at once, for
    the same reason the other way (``QuickAckSocket``). Addresses are tried as paramiko tries
    them (each family ``getaddrinfo`` gives; refused and unreachable ones collected, any other
    error at once), so a failure reads as before."""
    errors: dict[Any, Exception] = {}
    infos = socket.getaddrinfo(address, port, socket.AF_UNSPEC, socket.SOCK_STREAM)
    for family, _, _, _, target in infos:
        sock = QuickAckSocket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(timeout)
            if bind_address:
                sock.bind((bind_address, 0))
            sock.connect(target)
            return sock
        except OSError as exc:
            sock.close()
            if exc.errno not in (errno.ECONNREFUSED, errno.EHOSTUNREACH):
                raise
            errors[(str(target[0]), int(target[1]))] = exc
    raise paramiko.ssh_exception.NoValidConnectionsError(errors)
