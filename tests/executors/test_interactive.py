"""The interactive transport on a real pseudo-terminal, with a stand-in SSH channel: the pty is
asked for at the terminal's size and follows its resizes, keys reach the channel, its output
reaches the terminal, its exit status is returned, and the terminal's settings are restored
after, also when the connection fails half-way."""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import termios
import threading
import time
from collections.abc import Iterator

import paramiko
import pytest

from backstaff.executors.interactive import run_interactive
from backstaff.executors.ssh import SshError


class FakeChannel:
    """Echoes what it is sent as ``got:<keys>``; ``exit`` ends it with status 3."""

    def __init__(self, fail: bool = False) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        self.out = bytearray()
        self.received = bytearray()
        self.eof_received = False
        self.closed = False
        self.status = -1
        self.pty: tuple[str, int, int] | None = None
        self.resized: list[tuple[int, int]] = []
        self.command: str | None = None
        self.fail = fail

    def _signal(self) -> None:
        os.write(self._write, b"x")

    def get_pty(self, term: str, width: int, height: int) -> None:
        self.pty = (term, width, height)

    def exec_command(self, command: str) -> None:
        self.command = command

    def fileno(self) -> int:
        return self._read

    def recv_stderr_ready(self) -> bool:
        return False

    def recv_ready(self) -> bool:
        return bool(self.out)

    def recv(self, size: int) -> bytes:
        data = bytes(self.out[:size])
        del self.out[:size]
        if not self.out:
            while True:
                try:
                    os.read(self._read, 1024)
                except BlockingIOError:
                    break
            if self.eof_received:
                self._signal()
        return data

    def sendall(self, data: bytes) -> None:
        if self.fail:
            raise paramiko.SSHException("connection reset")
        self.received += data
        self.out += b"got:" + data
        if b"exit" in self.received:
            self.status, self.eof_received = 3, True
        self._signal()

    def shutdown_write(self) -> None:
        self.status, self.eof_received = 0, True
        self._signal()

    def resize_pty(self, width: int, height: int) -> None:
        self.resized.append((width, height))

    def recv_exit_status(self) -> int:
        return self.status

    def close(self) -> None:
        self.closed = True


class FakeConnection:
    host = "10.254.0.11"

    def __init__(self, channel: FakeChannel) -> None:
        self.channel = channel

    def open_session(self) -> FakeChannel:
        return self.channel


def _set_size(fd: int, columns: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    master, slave = os.openpty()
    _set_size(slave, 100, 30)
    yield master, slave
    os.close(master)
    os.close(slave)


def _type_later(master: int, *keys: bytes) -> threading.Thread:
    def type_keys() -> None:
        for key in keys:
            time.sleep(0.3)
            os.write(master, key)

    thread = threading.Thread(target=type_keys, daemon=True)
    thread.start()
    return thread


def _read_all(fd: int) -> bytes:
    os.set_blocking(fd, False)
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except (BlockingIOError, OSError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_keys_output_size_resize_and_exit_status(terminal: tuple[int, int]) -> None:
    master, slave = terminal
    before = termios.tcgetattr(slave)
    channel = FakeChannel()

    def resize() -> None:
        time.sleep(0.2)
        _set_size(slave, 120, 40)
        os.kill(os.getpid(), signal.SIGWINCH)

    threading.Thread(target=resize, daemon=True).start()
    typist = _type_later(master, b"hi\x03", b"exit")
    status = run_interactive(
        FakeConnection(channel),  # type: ignore[arg-type]
        "docker exec -it x sh",
        stdin_fd=slave,
        stdout_fd=slave,
        stderr_fd=slave,
        term="xterm",
    )
    typist.join()
    assert status == 3
    assert channel.command == "docker exec -it x sh"
    assert channel.pty == ("xterm", 100, 30)
    assert channel.resized == [(120, 40)]
    assert channel.received == b"hi\x03exit"  # raw mode: Ctrl-C is a key for the remote
    assert b"got:hi\x03" in _read_all(master)
    assert termios.tcgetattr(slave) == before
    assert channel.closed


def test_terminal_restored_when_the_connection_fails(terminal: tuple[int, int]) -> None:
    master, slave = terminal
    before = termios.tcgetattr(slave)
    previous = signal.getsignal(signal.SIGWINCH)
    typist = _type_later(master, b"x")
    with pytest.raises(SshError, match="10.254.0.11: connection lost: connection reset"):
        run_interactive(
            FakeConnection(FakeChannel(fail=True)),  # type: ignore[arg-type]
            "sh",
            stdin_fd=slave,
            stdout_fd=slave,
            stderr_fd=slave,
        )
    typist.join()
    assert termios.tcgetattr(slave) == before
    assert signal.getsignal(signal.SIGWINCH) == previous


def test_without_a_terminal_no_pty_and_stdin_is_copied_to_its_end() -> None:
    read, write = os.pipe()
    os.write(write, b"echo 1\n")
    os.close(write)
    out_read, out_write = os.pipe()
    channel = FakeChannel()
    status = run_interactive(
        FakeConnection(channel),  # type: ignore[arg-type]
        "sh",
        stdin_fd=read,
        stdout_fd=out_write,
        stderr_fd=out_write,
    )
    os.close(out_write)
    assert status == 0 and channel.pty is None
    assert channel.received == b"echo 1\n"
    assert os.read(out_read, 4096) == b"got:echo 1\n"
    os.close(read)
    os.close(out_read)
