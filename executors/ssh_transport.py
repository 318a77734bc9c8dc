"""paramiko's Transport as backstaff connects with it.

A fleet is read with one connection a host, hundreds at once, and the client's CPU goes mostly
to paramiko's Python handling of each connection; what is changed here is what each connection
paid for nothing: a thread started only to time the handshake, and a message from the host
made printable for a log that is off; and once connected, its thread wakes once a second
instead of ten times. The exit-signal recording is ``ssh_channel``'s, the socket under it
``ssh_socket``'s, the key files ``ssh_client``'s.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from typing import Any

import paramiko
from paramiko.packet import Packetizer

from backstaff.executors import ssh_channel


class DeadlinePacketizer(Packetizer):
    """paramiko's packet layer with the handshake's time limit kept as a deadline. paramiko
    starts a ``threading.Timer`` for it on every connection, a thread of its own whose only
    work is to set a flag when the time is up (or to be cancelled); its reads already ask
    ``handshake_timed_out`` each time the socket's short timeout passes, and a clock answers
    that as well."""

    _deadline: float | None = None
    _handshake_done = False

    def start_handshake(self, timeout: float) -> None:
        if self._deadline is None:
            self._deadline = time.monotonic() + float(timeout)

    def handshake_timed_out(self) -> bool:
        return (
            self._deadline is not None
            and not self._handshake_done
            and time.monotonic() >= self._deadline
        )

    def complete_handshake(self) -> None:
        if self._deadline is not None:
            self._handshake_done = True


class Transport(ssh_channel.Transport):
    """The transport every connection uses: the deadline packetizer, and the host's debug
    messages left alone unless paramiko's log is on."""

    def __init__(self, sock: Any, **options: Any) -> None:
        options.setdefault("packetizer_class", DeadlinePacketizer)
        super().__init__(sock, **options)

    def _parse_debug(self, m: paramiko.Message) -> None:
        """sshd sends a debug message on every connection (``key options: ...``); paramiko
        makes it printable byte by byte for its debug log, whether or not anything logs."""
        if self.logger.isEnabledFor(logging.DEBUG):
            super()._parse_debug(m)  # type: ignore[misc]


def asking_for(ciphers: tuple[str, ...], kex: tuple[str, ...]) -> Callable[..., paramiko.Transport]:
    """paramiko's Transport, asking for ``ciphers`` and ``kex`` in these orders (its public
    security options; what ``disabled_algorithms`` removes stays removed)."""

    def transport(sock: Any, **options: Any) -> paramiko.Transport:
        made = Transport(sock, **options)
        security = made.get_security_options()
        security.ciphers, security.kex = ciphers, kex
        return made

    return transport


# How often a connected transport's thread wakes up when nothing arrives (paramiko: 0.1 s).
IDLE_WAKE_SECONDS = 1.0


def wake_idle_transport_less(transport: paramiko.Transport) -> None:
    """paramiko's transport thread waits for the host with a 0.1 s socket timeout, to check now
    and then whether it should stop or send a keepalive: ten wake-ups a second for every open
    connection, each taking the interpreter's lock. With hundreds of hosts read at once that
    was a good part of the client's CPU. Once connected, once a second is enough for both
    (``close`` shuts the socket down, which ends the wait at once)."""
    if isinstance(transport.sock, socket.socket):
        transport.sock.settimeout(IDLE_WAKE_SECONDS)


def shut_down(transport: paramiko.Transport | None) -> None:
    """Shut the connection's socket down before paramiko closes it: a socket closed under a
    waiting thread does not wake it (it would wait out its timeout); one shut down does."""
    if transport is not None and isinstance(transport.sock, socket.socket):
        try:
            transport.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already closed or reset: nothing to wake
