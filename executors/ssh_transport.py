"""paramiko's Transport as backstaff connects with it.

A fleet is read with one connection a host, hundreds at once, and the client's CPU goes mostly
to paramiko's Python handling of each connection; what is changed here is what each connection
paid for nothing: a thread started only to time the handshake, and a message from the host
made printable for a log that is off. The exit-signal recording is ``ssh_channel``'s.
"""

from __future__ import annotations

import logging
import time
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
