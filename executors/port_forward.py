"""Kamal's local registry tunnel (cli/build/port_forwarding.rb): the host's 127.0.0.1:PORT
forwarded over SSH to localhost:PORT here, where the local registry listens, for as long as
the images are pulled. Each connection the host opens there is piped to a new local one."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Callable
from typing import Any

import paramiko


def pipe_to_local(channel: paramiko.Channel, port: int) -> None:
    """Copy bytes both ways between ``channel`` and a new connection to localhost:``port``
    until either side closes."""
    try:
        local = socket.create_connection(("localhost", port), timeout=30)
    except OSError:
        channel.close()  # nothing listens here: the host's client sees the connection close
        return
    local.settimeout(None)
    try:
        while True:
            sources: list[Any] = [local, channel]
            readable, _, _ = select.select(sources, [], [], 60)
            if local in readable:
                data = local.recv(65536)
                if not data:
                    break
                channel.sendall(data)
            if channel in readable:
                data = channel.recv(65536)
                if not data:
                    break
                local.sendall(data)
    except (OSError, EOFError, paramiko.SSHException):
        pass
    finally:
        channel.close()
        local.close()


def handler(port: int) -> Callable[[paramiko.Channel, Any, Any], None]:
    """paramiko's callback for each connection the host opens on the forwarded port: piped
    in a thread of its own (the callback runs in the transport's thread)."""

    def accept(channel: paramiko.Channel, origin: object, server: object) -> None:
        threading.Thread(
            target=pipe_to_local, args=(channel, port), name=f"forward-{port}", daemon=True
        ).start()

    return accept
