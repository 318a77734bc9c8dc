"""A real OpenSSH sshd on the loopback, for the connection options (no test bed needed).

It listens on 127.0.0.1 at a free port, lets root in with the keys in ``authorized_keys``
only, accepts ``BST_*`` environment variables and TCP forwarding. ``keygen`` makes client keys.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backstaff.executors.ssh import SshConnection


@dataclass(frozen=True)
class Sshd:
    port: int
    directory: Path
    authorized: Path  # the key that gets in (private key file)
    stranger: Path  # a key that does not


def keygen(path: Path) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(directory: Path) -> tuple[Sshd, subprocess.Popen[bytes]]:
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    authorized = keygen(directory / "authorized_key")
    stranger = keygen(directory / "stranger_key")
    (directory / "authorized_keys").write_text(Path(f"{authorized}.pub").read_text())
    host_key = keygen(directory / "host_key")
    port = _free_port()
    config = directory / "sshd_config"
    config.write_text(
        f"""ListenAddress 127.0.0.1
Port {port}
HostKey {host_key}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AuthorizedKeysFile {directory}/authorized_keys
PidFile {directory}/sshd.pid
AcceptEnv BST_*
AllowTcpForwarding yes
"""
    )
    process = subprocess.Popen(
        ["/usr/sbin/sshd", "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=open(directory / "sshd.log", "wb"),  # noqa: SIM115 (closed with the process)
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return Sshd(port, directory, authorized, stranger), process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"sshd did not start: {(directory / 'sshd.log').read_text()}")


def running(factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    """A module fixture's body: an sshd started for the module's tests, stopped after them."""
    server, process = start(factory.mktemp("sshd"))
    yield server
    process.terminate()
    process.wait(10)


def client_port(connection: SshConnection) -> str:
    """The client's source port as sshd sees it: a new one means a new connection."""
    return connection.run("echo $SSH_CONNECTION").stdout.split()[1]
