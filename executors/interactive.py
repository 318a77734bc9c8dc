"""An interactive command: the local terminal joined to a command on a host, as Kamal's
``ssh -t user@host -p port 'docker … -it …'`` joins them.

The command runs on a new session of the host's existing connection (the same user, port,
keys, jump host or proxy command and known_hosts as every other command). When the local
stdin is a terminal, the session gets a pseudo-terminal of the same size (resized with it on
SIGWINCH) and the local terminal is put in raw mode, so keys such as Ctrl-C and Tab reach the
remote program; raw mode is always undone, whatever happens. Without a terminal (stdin is a
pipe or a file), as with ``ssh -t`` then, no pty is asked for and stdin is copied until its end.
The remote command's exit status is returned.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import termios
import threading
import tty
from collections.abc import Iterator
from types import FrameType

import paramiko

from backstaff.executors import ssh_channel
from backstaff.executors.ssh import SshConnection, SshError

CHUNK = 32768
DEFAULT_SIZE = (80, 24)


def terminal_size(fd: int) -> tuple[int, int]:
    """(columns, rows) of the terminal on ``fd``; 80x24 when it has none."""
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return DEFAULT_SIZE
    return (size.columns or DEFAULT_SIZE[0], size.lines or DEFAULT_SIZE[1])


@contextlib.contextmanager
def raw_mode(fd: int) -> Iterator[None]:
    """The terminal on ``fd`` in raw mode for the block, its settings restored after (also on
    an error or an interrupt)."""
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSADRAIN)  # keys typed ahead are kept, as ssh keeps them
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


@contextlib.contextmanager
def follow_resizes(fd: int, channel: paramiko.Channel) -> Iterator[None]:
    """Resize the remote pty whenever the local terminal is resized (SIGWINCH); the previous
    handler is put back after. Signals can only be handled in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def resize(signum: int, frame: FrameType | None) -> None:
        columns, rows = terminal_size(fd)
        with contextlib.suppress(paramiko.SSHException, EOFError, OSError):
            channel.resize_pty(width=columns, height=rows)

    previous = signal.signal(signal.SIGWINCH, resize)
    try:
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous)


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def pump(channel: paramiko.Channel, stdin_fd: int, stdout_fd: int, stderr_fd: int) -> None:
    """Copy ``stdin_fd`` to the channel and the channel's output to ``stdout_fd`` (its stderr,
    which a pty merges into the output, to ``stderr_fd``) until the channel's end."""
    stdin_open = True
    channel_fd = channel.fileno()  # readable when output, stderr or the end arrives
    while True:
        readable, _, _ = select.select([channel_fd, *([stdin_fd] if stdin_open else [])], [], [])
        if channel_fd in readable:
            while channel.recv_stderr_ready():
                _write(stderr_fd, channel.recv_stderr(CHUNK))
            if channel.recv_ready():
                data = channel.recv(CHUNK)
                if data:
                    _write(stdout_fd, data)
                    continue
            if channel.recv_stderr_ready():
                continue
            if channel.eof_received or channel.closed:
                return
        if stdin_open and stdin_fd in readable:
            data = os.read(stdin_fd, CHUNK)
            if data:
                channel.sendall(data)
            else:  # the end of stdin: the remote command reads its end too
                stdin_open = False
                channel.shutdown_write()


def run_interactive(
    connection: SshConnection, command: str, *, stdin_fd: int = 0, stdout_fd: int = 1,
    stderr_fd: int = 2, term: str | None = None,
) -> int:  # fmt: skip
    """Run ``command`` on the connection's host joined to the local terminal; its exit status."""
    terminal = os.isatty(stdin_fd)
    channel = connection.open_session()
    try:
        try:
            if terminal:
                columns, rows = terminal_size(stdin_fd)
                channel.get_pty(term=term or os.environ.get("TERM") or "vt100",
                                width=columns, height=rows)  # fmt: skip
            channel.exec_command(command)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise SshError(f"{connection.host}: cannot start the command: {exc}") from None
        try:
            with contextlib.ExitStack() as stack:
                if terminal:
                    stack.enter_context(raw_mode(stdin_fd))
                    stack.enter_context(follow_resizes(stdin_fd, channel))
                pump(channel, stdin_fd, stdout_fd, stderr_fd)
        except (paramiko.SSHException, EOFError, ConnectionError) as exc:
            raise SshError(f"{connection.host}: connection lost: {exc}") from None
        status = channel.recv_exit_status()
    finally:
        channel.close()
    if status == -1:  # closed without an exit status: killed by a signal, or the connection died
        raise SshError(ssh_channel.no_exit_status(connection.host, channel)[0])
    return status
