"""Why a command's channel closed without an exit status.

A host sends ``exit-status`` when the command exits, or ``exit-signal`` when a signal killed it
(RFC 4254 6.10). paramiko ignores ``exit-signal``: both a killed command and a dropped
connection read as status -1, and a killed command was reported as a lost connection (and its
healthy connection closed). The transport here records the signal's name, so the error says
which of the two happened, and the connection is closed only when it really died.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import paramiko
from paramiko.common import MSG_CHANNEL_REQUEST

_DYING_SECONDS = 0.5
Handler = Callable[[paramiko.Channel, paramiko.Message], None]
# paramiko's own handlers of channel messages (private, so not in its type stubs; the same
# from paramiko 3.4 to 5.x: without them, no signal is recorded and nothing else changes)
_HANDLERS: dict[int, Handler] = vars(paramiko.Transport).get("_channel_handler_table", {})
_HANDLE_REQUEST: Handler | None = _HANDLERS.get(MSG_CHANNEL_REQUEST)
_signals: weakref.WeakKeyDictionary[paramiko.Channel, str] = weakref.WeakKeyDictionary()


def _record_exit_signal(channel: paramiko.Channel, message: paramiko.Message) -> None:
    start = message.packet.tell()
    if message.get_text() == "exit-signal":
        message.get_boolean()  # want reply: never, for exit-signal
        _signals[channel] = message.get_text() or "?"
    message.packet.seek(start)
    assert _HANDLE_REQUEST is not None
    _HANDLE_REQUEST(channel, message)  # every request as paramiko handles it


class Transport(paramiko.Transport):
    """paramiko's Transport, recording the signal that killed a channel's command."""

    if _HANDLE_REQUEST is not None:
        _channel_handler_table = {**_HANDLERS, MSG_CHANNEL_REQUEST: _record_exit_signal}


def no_exit_status(host: str, channel: paramiko.Channel) -> tuple[str, bool]:
    """What to say of a command whose channel closed without an exit status, and whether the
    connection itself is gone (then it is closed; otherwise it stays in use)."""
    signal = _signals.get(channel)  # its name: KILL, TERM
    if signal is not None:
        return f"{host}: the command was killed on the host by signal SIG{signal}", False
    transport: Any = channel.get_transport()
    if transport is not None and transport.is_alive():
        # A dying transport closes its channels before it counts as inactive: give it a moment.
        transport.join(_DYING_SECONDS)
    if transport is not None and transport.is_active():
        return f"{host}: the command ended without an exit status", False
    cause = getattr(transport, "saved_exception", None)
    if isinstance(cause, EOFError):
        detail = " (the host closed it)"
    else:
        detail = f" ({cause or type(cause).__name__})" if cause is not None else ""
    return f"{host}: connection lost while running a command{detail}", True
