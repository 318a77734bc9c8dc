"""A host that cannot be reached is one plain line naming it, never a library's log line.

Real sockets on loopback stand in for the broken hosts (the test bed has the same cases with
real hosts): a closed port, a server that answers HTTP, and one that accepts and stays silent.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backstaff.executors.ssh import SshConnection, SshError
from backstaff.planner.model import SshSettings


def _listener() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    return server


@pytest.fixture
def http_port() -> Iterator[int]:
    """Answers every connection the way a web server answers a non-HTTP greeting."""
    server = _listener()

    def serve() -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            client.close()

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    server = _listener()  # the kernel completes the handshake; nothing is ever sent
    yield server.getsockname()[1]
    server.close()


@pytest.fixture
def closed_port() -> int:
    server = _listener()
    port = int(server.getsockname()[1])
    server.close()
    return port


def _connect(port: int, tmp_path: Path) -> str:
    settings = SshSettings(
        user="deploy", port=port, keys=(str(tmp_path / "no-key"),), keys_only=True
    )
    connection = SshConnection("127.0.0.1", settings, known_hosts=tmp_path / "kh", timeout=1.5)
    with pytest.raises(SshError) as exc:
        connection.connect()
    return str(exc.value)


def test_http_on_the_ssh_port(
    http_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = _connect(http_port, tmp_path)
    assert message == (
        f"127.0.0.1: port {http_port} does not answer as an SSH server"
        " (no SSH banner: another service may be listening there)"
    )
    out, err = capsys.readouterr()
    assert out + err == ""  # no "Exception (client): Error reading SSH protocol banner"


def test_refused(closed_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _connect(closed_port, tmp_path) == (
        f"127.0.0.1: cannot connect on port {closed_port}:"
        " connection refused (nothing listens on that port)"
    )
    assert capsys.readouterr() == ("", "")


def test_silent_server(
    silent_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = _connect(silent_port, tmp_path)
    assert message.startswith(f"127.0.0.1: port {silent_port} does not answer as an SSH server")
    assert capsys.readouterr() == ("", "")


def _plan(tmp_path: Path, port: int, *extra: str) -> subprocess.CompletedProcess[str]:
    """``backstaff plan`` as a user runs it, against one host: loopback on ``port``."""
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "deploy.yml").write_text(
        "service: app\nimage: acme/app\nservers: [127.0.0.1]\nbuilder: {arch: amd64}\n"
        "registry: {username: u, password: [PW]}\n"
        f"ssh: {{user: deploy, port: {port}, keys_only: true, keys: [{tmp_path}/no-key]}}\n"
    )
    (tmp_path / ".kamal").mkdir(exist_ok=True)
    (tmp_path / ".kamal" / "secrets").write_text("PW=pw\n")
    return subprocess.run(
        [sys.executable, "-m", "backstaff", "--known-hosts", str(tmp_path / "kh"), "plan",
         "--version", "v1", *extra],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_plan_against_http_says_it_in_one_line(http_port: int, tmp_path: Path) -> None:
    done = _plan(tmp_path, http_port)
    assert done.returncode == 1
    assert done.stderr == ""  # no library log line, no traceback
    assert done.stdout.splitlines()[2] == (
        f"! 127.0.0.1: port {http_port} does not answer as an SSH server"
        " (no SSH banner: another service may be listening there)"
    )
    assert "This plan is incomplete: 1 of 1 host(s) could not be read (127.0.0.1)" in done.stdout
    assert "match the configuration" not in done.stdout


def test_library_log_lines_only_with_verbose(http_port: int, tmp_path: Path) -> None:
    done = _plan(tmp_path, http_port, "-v")
    assert done.returncode == 1
    assert "paramiko.transport: " in done.stderr
