"""The client every connection uses (executors/ssh_client.py): each key file read once a
process, read again when it changes, and paramiko's errors and log as they were."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from backstaff.executors import ssh_client
from backstaff.executors.ssh import SshConnection, SshError
from backstaff.planner.model import SshSettings
from tests.executors import loopback_sshd
from tests.executors.loopback_sshd import Sshd

KEY_TYPES = (paramiko.RSAKey, paramiko.ECDSAKey, paramiko.Ed25519Key)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    yield from loopback_sshd.running(tmp_path_factory)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every read of a key file by paramiko, by key type."""
    done: list[str] = []
    for kind in KEY_TYPES:
        real = kind.from_private_key_file.__func__  # type: ignore[attr-defined]

        def counted(cls: type, filename: str, password: object = None, _real=real) -> object:  # type: ignore[no-untyped-def]
            done.append(cls.__name__)
            return _real(cls, filename, password)

        monkeypatch.setattr(kind, "from_private_key_file", classmethod(counted))
    return done


def _echo(sshd: Sshd, tmp_path: Path, key: Path) -> str:
    settings = SshSettings(port=sshd.port, keys=(str(key),), keys_only=True, config=False)
    with SshConnection("127.0.0.1", settings, known_hosts=tmp_path / "kh", timeout=10) as ssh:
        return ssh.run("echo in").stdout


def test_a_key_file_is_read_once_for_many_connections(
    sshd: Sshd, tmp_path: Path, reads: list[str]
) -> None:
    """paramiko tries RSA, ECDSA, then Ed25519 on every connection, reading the file each
    time: three reads a host for the usual key. Each is done once a process."""
    key = Path(shutil.copy(sshd.authorized, tmp_path / "id_ed25519"))
    for _ in range(3):
        assert _echo(sshd, tmp_path, key) == "in\n"
    assert reads == ["RSAKey", "ECDSAKey", "Ed25519Key"]


def test_a_changed_key_file_is_read_again(sshd: Sshd, tmp_path: Path) -> None:
    key = Path(shutil.copy(sshd.authorized, tmp_path / "id_ed25519"))
    assert _echo(sshd, tmp_path, key) == "in\n"
    shutil.copy(sshd.stranger, key)  # another key: the host does not let it in
    with pytest.raises(SshError, match="authentication failed"):
        _echo(sshd, tmp_path, key)
    shutil.copy(sshd.authorized, key)
    assert _echo(sshd, tmp_path, key) == "in\n"


def test_a_file_that_is_no_key_fails_each_time_as_paramiko_fails(tmp_path: Path) -> None:
    """The same error as paramiko's, a new one each time (an error raised again from a store
    would carry every earlier traceback)."""
    junk = tmp_path / "junk"
    junk.write_text("not a key\n")
    expected = []
    for kind in KEY_TYPES:
        with pytest.raises(paramiko.SSHException) as plain:
            paramiko.SSHClient()._key_from_filepath(str(junk), kind, None)  # type: ignore[attr-defined]
        expected.append((type(plain.value), plain.value.args))
    client = ssh_client.SSHClient()
    errors = []
    for _ in range(2):
        for kind in KEY_TYPES:
            with pytest.raises(paramiko.SSHException) as kept:
                client._key_from_filepath(str(junk), kind, None)
            errors.append(kept.value)
    assert [(type(e), e.args) for e in errors] == expected * 2
    assert len({id(e) for e in errors}) == len(errors)


_TWICE = """
import sys
from pathlib import Path
from backstaff.executors.ssh import SshConnection
from backstaff.planner.model import SshSettings
settings = SshSettings(port=int(sys.argv[1]), keys=(sys.argv[2],), keys_only=True, config=False,
                       log_level="debug")
for _ in range(2):
    with SshConnection("127.0.0.1", settings, known_hosts=Path(sys.argv[3])) as ssh:
        print(ssh.run("echo in").stdout, end="")
"""


def test_a_key_read_before_is_logged_as_paramiko_logs_it(sshd: Sshd, tmp_path: Path) -> None:
    """``ssh.log_level: debug`` shows which key is tried on every connection, read or kept."""
    key = Path(shutil.copy(sshd.authorized, tmp_path / "id_ed25519"))
    done = subprocess.run([sys.executable, "-c", _TWICE, str(sshd.port), str(key),
                           str(tmp_path / "kh")],
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    assert done.stdout == "in\nin\n"
    log = done.stderr.splitlines()
    tried = [line.split(" -- ", 1)[1] for line in log if "Trying discovered key" in line]
    assert len(tried) == 2 and tried[0] == tried[1] and tried[0].endswith(f" in {key}")
