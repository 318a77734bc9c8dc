"""Kamal's SSH options on a real sshd (loopback): every ``key_data`` key is tried,
``ssh.log_level`` shows paramiko's protocol log, ``sshkit.pool_idle_timeout`` closes idle
connections and ``sshkit.dns_retries`` retries a name that does not resolve."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko
import pytest

from backstaff.executors import ssh_idle
from backstaff.executors.ssh import SshConnection, SshError
from backstaff.executors.ssh_options import (
    PREFERRED,
    cipher_order,
    kex_names,
    kex_order,
    nothing_left,
    private_keys,
)
from backstaff.planner.model import SshSettings
from tests.executors import loopback_sshd
from tests.executors.loopback_sshd import Sshd, client_port


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    yield from loopback_sshd.running(tmp_path_factory)


def _settings(sshd: Sshd, **changes: Any) -> SshSettings:
    return SshSettings(port=sshd.port, keys_only=True, config=False, **changes)


def _connection(
    sshd: Sshd, tmp_path: Path, key_data: tuple[str, ...] = (), **changes: Any
) -> SshConnection:
    return SshConnection("127.0.0.1", _settings(sshd, **changes), known_hosts=tmp_path / "kh",
                         key_data=key_data, timeout=10)  # fmt: skip


def test_every_key_data_key_is_tried(sshd: Sshd, tmp_path: Path) -> None:
    wrong, right = sshd.stranger.read_text(), sshd.authorized.read_text()
    with _connection(sshd, tmp_path, (wrong, right)) as ssh:
        assert ssh.run("echo in").stdout == "in\n"
    with _connection(sshd, tmp_path, (wrong, wrong, right)) as ssh:
        assert ssh.run("echo in").stdout == "in\n"


def test_key_data_without_the_right_key_names_what_was_tried(sshd: Sshd, tmp_path: Path) -> None:
    wrong = sshd.stranger.read_text()
    with pytest.raises(SshError) as failure:
        _connection(sshd, tmp_path, (wrong, wrong)).connect()
    assert str(failure.value) == (
        "127.0.0.1: authentication failed as user root (tried 2 key(s) of ssh.key_data)"
    )


def test_key_data_is_parsed_once_a_process(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each key of ``ssh.key_data`` was parsed again for every host of a fleet."""
    parsed: list[str] = []
    real = paramiko.Ed25519Key.from_private_key.__func__  # type: ignore[attr-defined]

    def counted(cls: type, file_obj: Any, password: Any = None) -> Any:
        parsed.append(cls.__name__)
        return real(cls, file_obj, password)

    monkeypatch.setattr(paramiko.Ed25519Key, "from_private_key", classmethod(counted))
    private_keys.cache_clear()
    for _ in range(3):
        with _connection(sshd, tmp_path, (sshd.authorized.read_text(),)) as ssh:
            assert ssh.run("echo in").stdout == "in\n"
    assert parsed == ["Ed25519Key"]


def test_idle_connection_is_closed_after_the_timeout(sshd: Sshd, tmp_path: Path) -> None:
    ssh = _connection(sshd, tmp_path, (sshd.authorized.read_text(),), pool_idle_timeout=1)
    first = client_port(ssh)
    assert client_port(ssh) == first  # reused within the timeout
    deadline = time.monotonic() + 1 + 2 * ssh_idle._SWEEP_SECONDS + 1
    while ssh.connected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not ssh.connected  # closed by the reaper, not at the next use
    assert client_port(ssh) != first  # the next use connects again
    ssh.close()


def test_no_reuse_with_an_idle_timeout_of_zero(sshd: Sshd, tmp_path: Path) -> None:
    ssh = _connection(sshd, tmp_path, (sshd.authorized.read_text(),), pool_idle_timeout=0)
    ports = {client_port(ssh) for _ in range(3)}
    assert len(ports) == 3 and not ssh.connected


def test_default_idle_timeout_reuses_the_connection(sshd: Sshd, tmp_path: Path) -> None:
    with _connection(sshd, tmp_path, (sshd.authorized.read_text(),)) as ssh:
        assert len({client_port(ssh) for _ in range(3)}) == 1


def _failing_dns(monkeypatch: pytest.MonkeyPatch, name: str, failures: int) -> list[str]:
    """``name`` fails to resolve ``failures`` times, then is the loopback (a DNS flake)."""
    real = socket.getaddrinfo
    calls: list[str] = []

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == name:
            calls.append(host)
            if len(calls) <= failures:
                raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


def test_dns_failure_is_retried(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = _failing_dns(monkeypatch, "flaky.test", failures=2)
    settings = _settings(sshd, dns_retries=3)
    with SshConnection("flaky.test", settings, known_hosts=tmp_path / "kh",
                       key_data=(sshd.authorized.read_text(),)) as ssh:  # fmt: skip
        assert ssh.run("echo in").stdout == "in\n"
    assert len(calls) == 3
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" in ")[0] for line in lines] == [
        "Retrying DNS for flaky.test (attempt 1/3)",
        "Retrying DNS for flaky.test (attempt 2/3)",
    ]
    assert lines[0].endswith("s: Temporary failure in name resolution")


def test_dns_retries_run_out(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = _failing_dns(monkeypatch, "gone.test", failures=99)
    ssh = SshConnection("gone.test", _settings(sshd, dns_retries=2), known_hosts=tmp_path / "kh")
    with pytest.raises(
        SshError, match=r"^gone.test: cannot connect on port \d+: host name not found$"
    ):
        ssh.connect()
    assert len(calls) == 3  # the first lookup and 2 retries
    assert capsys.readouterr().err.count("Retrying DNS for gone.test") == 2
    calls.clear()
    with pytest.raises(SshError):
        SshConnection(
            "gone.test", _settings(sshd, dns_retries=0), known_hosts=tmp_path / "kh"
        ).connect()
    assert len(calls) == 1 and "Retrying" not in capsys.readouterr().err


_CONNECT = """
import sys
from pathlib import Path
from backstaff.executors.ssh import SshConnection
from backstaff.planner.model import SshSettings
settings = SshSettings(port=int(sys.argv[1]), keys_only=True, config=False, log_level=sys.argv[2])
with SshConnection("127.0.0.1", settings, known_hosts=Path(sys.argv[3]),
                   key_data=(Path(sys.argv[4]).read_text(),)) as ssh:
    print(ssh.run("echo in").stdout, end="")
"""


@pytest.mark.parametrize("level", ["debug", "info", "fatal"])
def test_log_level(sshd: Sshd, tmp_path: Path, level: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CONNECT, str(sshd.port), level, str(tmp_path / "kh"),
         str(sshd.authorized)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout == "in\n"  # the log never goes to stdout
    if level == "fatal":  # Kamal's default: silent
        assert done.stderr == ""
    elif level == "info":
        assert "Authentication (publickey) successful!" in done.stderr
        assert "kex algos" not in done.stderr
    else:  # the protocol itself
        assert "kex algos" in done.stderr and "DEBUG -- paramiko.transport" in done.stderr


def test_a_jump_host_is_not_closed_under_a_connection_in_use(sshd: Sshd, tmp_path: Path) -> None:
    """The jump host's connection is never idle on its own: it carries the host's."""
    ssh = _connection(sshd, tmp_path, pool_idle_timeout=1, keys=(str(sshd.authorized),),
                      proxy=f"root@127.0.0.1:{sshd.port}")  # fmt: skip
    first = client_port(ssh)
    deadline = time.monotonic() + 1 + 2 * ssh_idle._SWEEP_SECONDS + 0.5
    while time.monotonic() < deadline:
        assert client_port(ssh) == first  # used every 0.3 s: the same connection throughout
        time.sleep(0.3)
    ssh.close()


def _no_delay(connection: SshConnection) -> int:
    transport = connection._client.get_transport()  # type: ignore[union-attr]
    assert transport is not None
    return int(transport.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_the_connection_does_not_wait_for_acks(sshd: Sshd, tmp_path: Path) -> None:
    """TCP_NODELAY, as OpenSSH sets it: with Nagle's algorithm on, each small SSH packet
    waited for the host's delayed ACK, up to 40 ms a handshake step and a command."""
    with _connection(sshd, tmp_path, (sshd.authorized.read_text(),)) as ssh:
        assert ssh.run("echo in").stdout == "in\n"
        assert _no_delay(ssh) == 1


def test_bind_address_from_the_ssh_config(sshd: Sshd, tmp_path: Path) -> None:
    """The ssh config's BindAddress is the source address sshd sees; no Nagle delay either."""
    config = tmp_path / "ssh_config"
    config.write_text("Host 127.0.0.1\n  BindAddress 127.0.0.2\n")
    key = sshd.authorized.read_text()
    settings = SshSettings(port=sshd.port, keys_only=True, config=(str(config),))
    with SshConnection("127.0.0.1", settings, known_hosts=tmp_path / "kh", key_data=(key,),
                       timeout=10) as ssh:  # fmt: skip
        assert ssh.run("echo $SSH_CONNECTION").stdout.split()[0] == "127.0.0.2"
        assert _no_delay(ssh) == 1


def test_cipher_order() -> None:
    """AES-GCM first by default, then paramiko's order; a config's list in its own order."""
    default = cipher_order(None)
    assert default[:2] == ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")
    assert sorted(default) == sorted(PREFERRED["ciphers"])
    assert default[2:] == tuple(c for c in PREFERRED["ciphers"] if "-gcm@" not in c)
    assert cipher_order(("aes256-ctr", "aes128-ctr", "aes256-ctr")) == ("aes256-ctr", "aes128-ctr")
    assert cipher_order(("^aes256-ctr,aes128-cbc",)) == (
        "aes256-ctr", "aes128-cbc", *(c for c in default if c not in ("aes256-ctr", "aes128-cbc"))
    )  # fmt: skip
    assert cipher_order(("+aes128-cbc",)) == cipher_order(("-aes128-ctr",)) == default
    # Names paramiko does not know are not asked for; none it knows: the default (and the
    # config's list, as disabled algorithms, leaves nothing: the connection fails, as before).
    assert cipher_order(("chacha20-poly1305@openssh.com", "aes128-ctr")) == ("aes128-ctr",)
    assert cipher_order(("chacha20-poly1305@openssh.com",)) == default


def test_kex_order() -> None:
    """A post-quantum hybrid first, then ECDH on P-256 (OpenSSL's, where OpenSSH computes
    curve25519 with its own slower code), then paramiko's order; a config's list as ssh's."""
    default = kex_order(None)
    assert sorted(default) == sorted(PREFERRED["kex"])
    assert default[:3] == (
        "mlkem768x25519-sha256", "ecdh-sha2-nistp256", "curve25519-sha256@libssh.org"
    )  # fmt: skip
    rest = [k for k in PREFERRED["kex"] if k not in default[:2]]
    assert list(default[2:]) == rest  # paramiko's own order for the rest
    assert kex_order(("curve25519-sha256@libssh.org", "ecdh-sha2-nistp521")) == (
        "curve25519-sha256@libssh.org", "ecdh-sha2-nistp521"
    )  # fmt: skip
    assert kex_order(("^ecdh-sha2-nistp384",))[:2] == ("ecdh-sha2-nistp384", default[0])
    assert kex_order(("-ecdh-sha2-nistp256",)) == kex_order(("+sntrup761x25519-sha512",)) == default


def test_kex_names_in_paramiko_s_words() -> None:
    """OpenSSH's ``curve25519-sha256`` is paramiko's ``curve25519-sha256@libssh.org``; the list's
    ``+``/``-``/``^`` stays in front, and a name given twice is asked for once."""
    assert kex_names(None) is None
    assert kex_names(("curve25519-sha256",)) == ("curve25519-sha256@libssh.org",)
    assert kex_names(("^curve25519-sha256,curve25519-sha256@libssh.org", "x")) == (
        "^curve25519-sha256@libssh.org", "x"
    )  # fmt: skip
    assert kex_names(("-curve25519-sha256",)) == ("-curve25519-sha256@libssh.org",)
    assert kex_order(kex_names(("curve25519-sha256",))) == ("curve25519-sha256@libssh.org",)


@pytest.mark.parametrize(
    ("kind", "listed", "left"),
    [
        ("kex", None, True),
        ("kex", ("sntrup761x25519-sha512@openssh.com",), False),
        ("kex", ("sntrup761x25519-sha512@openssh.com", "ecdh-sha2-nistp521"), True),
        ("kex", ("-" + ",".join(PREFERRED["kex"]),), False),
        ("kex", ("+sntrup761x25519-sha512@openssh.com",), True),
        ("ciphers", ("chacha20-poly1305@openssh.com",), False),
        ("macs", ("umac-128-etm@openssh.com", "hmac-sha2-512"), True),
        ("keys", ("ssh-ed25519-cert-v01@openssh.com",), False),
    ],
)
def test_nothing_left(kind: str, listed: tuple[str, ...] | None, left: bool) -> None:
    assert nothing_left(kind, listed) is not left
