"""A command killed by a signal on a real sshd (loopback) is told apart from a lost connection:
the error names the signal and the connection stays; a connection that died is closed and
the next command connects again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backstaff.executors.ssh import CommandKilled, SshConnection, SshError
from backstaff.planner.model import SshSettings
from tests.executors import loopback_sshd
from tests.executors.loopback_sshd import Sshd, client_port


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    yield from loopback_sshd.running(tmp_path_factory)


@pytest.fixture
def ssh(sshd: Sshd, tmp_path: Path) -> Iterator[SshConnection]:
    settings = SshSettings(port=sshd.port, keys_only=True, config=False)
    with SshConnection("127.0.0.1", settings, known_hosts=tmp_path / "kh",
                       key_data=(sshd.authorized.read_text(),), timeout=10) as connection:  # fmt: skip
        yield connection


@pytest.mark.parametrize("signal", ["KILL", "TERM"])
def test_a_killed_command_names_its_signal_and_keeps_the_connection(
    ssh: SshConnection, signal: str
) -> None:
    before = client_port(ssh)
    with pytest.raises(SshError) as failure:
        ssh.run(f"echo started; kill -{signal} $$")
    assert (
        str(failure.value) == f"127.0.0.1: the command was killed on the host by signal SIG{signal}"
    )
    assert isinstance(failure.value, CommandKilled)  # a failed command: its step cleans up
    assert ssh.connected and client_port(ssh) == before


def test_a_killed_streamed_command_names_its_signal(ssh: SshConnection) -> None:
    seen: list[bytes] = []
    with pytest.raises(SshError, match="killed on the host by signal SIGKILL$"):
        ssh.stream("echo started; kill -KILL $$", seen.append)
    assert b"started" in b"".join(seen)
    assert ssh.run("echo still").stdout == "still\n"


def test_a_dropped_connection_is_lost_closed_and_connected_again(ssh: SshConnection) -> None:
    before = client_port(ssh)
    # the command's parent is the connection's own sshd process: killing it drops the connection
    with pytest.raises(SshError) as failure:
        ssh.run("kill -KILL $PPID; sleep 5")
    assert str(failure.value).startswith("127.0.0.1: connection lost while running a command")
    assert not isinstance(failure.value, CommandKilled)
    assert not ssh.connected
    assert client_port(ssh) != before  # the next command connects again


def test_an_exit_status_is_still_an_exit_status(ssh: SshConnection) -> None:
    assert ssh.run("exit 137").exit_status == 137  # as a shell reports a killed child
    # a child killed, the command's own shell going on: a status, not a signal
    assert ssh.run("sh -c 'kill -KILL $$'; exit $?").exit_status == 137
