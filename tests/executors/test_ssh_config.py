"""ssh config files read as net-ssh reads them (``ssh.config``), then applied to a real sshd
on the loopback with Kamal's precedence (deploy.yml's ssh settings first)."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backstaff.executors.ssh import SshConnection, SshError
from backstaff.executors.ssh_config import DEFAULT_FILES, config_files, lookup, send_env
from backstaff.planner.model import SshSettings
from tests.executors import loopback_sshd
from tests.executors.loopback_sshd import Sshd


def _lookup(tmp_path: Path, text: str, host: str = "web1") -> Any:
    (tmp_path / "config").write_text(text)
    return lookup(host, [str(tmp_path / "config")])


def test_files_of_ssh_config() -> None:
    assert config_files(True) == list(DEFAULT_FILES)
    assert DEFAULT_FILES == ("~/.ssh/config", "/etc/ssh_config", "/etc/ssh/ssh_config")
    assert config_files(False) == []
    assert config_files("a") == ["a"] and config_files(("a", "b")) == ["a", "b"]


def test_host_patterns_first_value_wins_and_identity_files_add_up(tmp_path: Path) -> None:
    options = _lookup(
        tmp_path,
        """
Host db* !web2
  HostName nope
Host web? other
  HostName %h.example.com
  IdentityFile ~/.ssh/one
  User deploy
  Port 2222
Host *
  HostName too-late
  IdentityFile ~/.ssh/two
  IdentitiesOnly yes
  ConnectTimeout 7
""",
    )
    assert options.host_name == "web1.example.com"
    assert options.keys == ("~/.ssh/one", "~/.ssh/two")
    assert (options.user, options.port, options.keys_only, options.timeout) == (
        "deploy",
        2222,
        True,
        7,
    )


def test_negated_host_and_case(tmp_path: Path) -> None:
    text = "Host WEB* !web2\n  HostName matched\n"
    assert _lookup(tmp_path, text, "web1").host_name == "matched"
    assert _lookup(tmp_path, text, "web2").host_name is None


def test_lines_before_any_block_are_defaults(tmp_path: Path) -> None:
    options = _lookup(
        tmp_path,
        """
User early
IdentityFile ~/.ssh/global
Host web1
  User late
  IdentityFile ~/.ssh/web1
""",
    )
    # net-ssh: a block's value beats a default; identity files: defaults first.
    assert options.user == "late"
    assert options.keys == ("~/.ssh/global", "~/.ssh/web1")


def test_match_all_and_host(tmp_path: Path) -> None:
    options = _lookup(
        tmp_path,
        """
Match host db1,web*
  User matched
Match user someone
  Port 1
Match all
  Compression yes
""",
    )
    assert options.user == "matched"
    assert options.port is None  # criteria other than host are not met (net-ssh)
    assert options.compression is True


def test_include_relative_to_the_first_file_with_globs(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "a.conf").write_text("Host web1\n  HostName from-a\n")
    (tmp_path / "conf.d" / "b.conf").write_text("Host web1\n  HostName from-b\n  User from-b\n")
    options = _lookup(tmp_path, "Include conf.d/*.conf\n")
    assert (options.host_name, options.user) == ("from-a", "from-b")


def test_proxy_jump_and_command_override_each_other(tmp_path: Path) -> None:
    options = _lookup(tmp_path, "Host web1\n  ProxyJump bastion\n  ProxyCommand ssh -W %h:%p x\n")
    assert options.proxy == ("proxyjump", "bastion")
    assert _lookup(tmp_path, "Host web1\n  ProxyCommand none\n").proxy is None


def test_translated_options(tmp_path: Path) -> None:
    options = _lookup(
        tmp_path,
        """
Host web1
  StrictHostKeyChecking accept-new
  UserKnownHostsFile /a /b
  HostKeyAlias web
  Ciphers aes256-ctr,aes128-ctr
  MACs hmac-sha2-256
  HostKeyAlgorithms ssh-ed25519
  SendEnv LANG LC_*
  SetEnv A=1 "B=two words"
  BindAddress 127.0.0.1
  IdentityAgent ~/agent.sock
  PubkeyAuthentication no
  ForwardAgent yes
  RekeyLimit 1G
""",
    )
    assert options.verify_host_key == "accept_new"
    assert options.user_known_hosts_files == ("/a", "/b")
    assert options.host_key_alias == "web"
    assert options.ciphers == ("aes256-ctr", "aes128-ctr")
    assert options.macs == ("hmac-sha2-256",) and options.host_key_algorithms == ("ssh-ed25519",)
    assert options.set_env == {"A": "1", "B": "two words"}
    assert send_env(options.send_env, {"LANG": "C", "LC_ALL": "C", "HOME": "/"}) == {
        "LANG": "C", "LC_ALL": "C"}  # fmt: skip
    assert (options.bind_address, options.identity_agent) == ("127.0.0.1", "~/agent.sock")
    assert "publickey" not in options.auth_methods
    assert options.not_applied == ("forwardagent", "rekeylimit")
    assert _lookup(tmp_path, "StrictHostKeyChecking no\n").verify_host_key == "never"
    assert _lookup(tmp_path, "StrictHostKeyChecking yes\n").verify_host_key == "always"


class _Unread(dict[str, str]):
    """An environment that fails the test when anything reads it."""

    def items(self) -> Any:
        raise AssertionError("the environment was read")

    def __iter__(self) -> Any:
        raise AssertionError("the environment was read")


def test_without_send_env_the_environment_is_not_read() -> None:
    """Every connection asks: without SendEnv patterns it costs nothing (it copied and sorted
    the whole environment, about 0.1 ms a connection)."""
    assert send_env((), _Unread(LANG="C")) == {}
    assert send_env(("LANG",), {"LANG": "C", "HOME": "/"}) == {"LANG": "C"}


def test_send_env_patterns() -> None:
    """``*`` and ``?`` as ssh matches them, in any case; the variables in name order."""
    environ = {"LC_ALL": "C", "LANG": "C", "lc_x": "1", "LCX": "2", "HOME": "/", "A1": "a",
               "AB1": "b", "XLANG": "x"}  # fmt: skip
    sent = send_env(("LC_*", "LANG", "A?"), environ)
    assert list(sent.items()) == [("A1", "a"), ("LANG", "C"), ("LC_ALL", "C"), ("lc_x", "1")]


def test_missing_files_are_skipped(tmp_path: Path) -> None:
    assert lookup("web1", [str(tmp_path / "nothing")]).host_name is None


def test_each_file_is_read_once_and_again_when_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hundreds of hosts ask for their options in one run: the file is read for the first
    only, and read again once it changed (its size, or only its modification time)."""
    config = tmp_path / "config"
    config.write_text("Host web*\n  Port 2201\n")
    opened: list[str] = []
    real_open = open

    def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", counting_open)
    ports = [lookup(f"web{n}", [str(config)]).port for n in range(50)]
    assert ports == [2201] * 50 and opened.count(str(config)) == 1
    config.write_text("Host web*\n  Port 2202\n")  # the same size
    os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 1_000_000))
    assert lookup("web1", [str(config)]).port == 2202
    config.write_text("Host web*\n  Port 22\n")  # another size
    assert lookup("web1", [str(config)]).port == 22
    assert opened.count(str(config)) == 3
    config.unlink()
    assert lookup("web1", [str(config)]).port is None


# -- applied to a real sshd -----------------------------------------------------------------


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    yield from loopback_sshd.running(tmp_path_factory)


def _config(tmp_path: Path, sshd: Sshd, extra: str = "") -> Path:
    config = tmp_path / "ssh_config"
    config.write_text(f"""Host web
  HostName 127.0.0.1
  User nobody
  Port 1
  IdentityFile {sshd.authorized}
  IdentitiesOnly yes
  UserKnownHostsFile {tmp_path}/config_known_hosts
  SetEnv BST_FROM_CONFIG=yes
{extra}""")
    return config


def test_config_applies_with_kamal_precedence(sshd: Sshd, tmp_path: Path) -> None:
    """HostName, IdentityFile, IdentitiesOnly, UserKnownHostsFile and SetEnv apply; User and
    Port do not (Kamal always passes its own, root and 22 by default)."""
    settings = SshSettings(port=sshd.port, config=(str(_config(tmp_path, sshd)),))
    with SshConnection("web", settings, known_hosts=Path("~/.ssh/known_hosts")) as ssh:
        assert ssh.run("whoami; echo $BST_FROM_CONFIG").stdout == "root\nyes\n"
    assert f"[127.0.0.1]:{sshd.port} ssh-ed25519" in (tmp_path / "config_known_hosts").read_text()


def test_a_user_in_the_host_string_logs_in_and_its_port_does_not_count(
    sshd: Sshd, tmp_path: Path
) -> None:
    """``user@host`` logs in as that user over ``ssh/user`` (net-ssh takes SSHKit's user);
    a ``host:port`` connects on ``ssh/port`` (Kamal merges its port over SSHKit's). The key
    lets root in, and sshd lets no other user of this machine in: ``nobody`` is refused,
    which shows who was asked for (root, ``ssh/user``, would have got in)."""
    settings = SshSettings(port=sshd.port, keys=(str(sshd.authorized),), keys_only=True)
    known_hosts = tmp_path / "known_hosts"
    with SshConnection("127.0.0.1:1", settings, known_hosts=known_hosts) as ssh:
        assert ssh.run("whoami").stdout == "root\n"
    nobody = SshConnection("nobody@127.0.0.1", settings, known_hosts=known_hosts)
    assert nobody.user == "nobody"
    with pytest.raises(SshError, match="^nobody@127.0.0.1: authentication failed as user nobody"):
        nobody.connect()
    with pytest.raises(SshError, match="127.0.0.1:x: Cannot parse host string"):
        SshConnection("nobody@127.0.0.1:x", settings, known_hosts=known_hosts).connect()


def test_deploy_yml_keys_win_over_identity_file(sshd: Sshd, tmp_path: Path) -> None:
    settings = SshSettings(port=sshd.port, keys=(str(sshd.stranger),), keys_only=True,
                           config=(str(_config(tmp_path, sshd)),))  # fmt: skip
    with pytest.raises(SshError, match="authentication failed as user root"):
        SshConnection("web", settings, known_hosts=tmp_path / "kh").connect()


def test_strict_host_key_checking_and_alias(sshd: Sshd, tmp_path: Path) -> None:
    config = _config(tmp_path, sshd, "  StrictHostKeyChecking yes\n")
    settings = SshSettings(port=sshd.port, config=(str(config),))
    with pytest.raises(SshError, match="unknown host key and new hosts are not trusted"):
        SshConnection("web", settings, known_hosts=tmp_path / "kh").connect()
    config = _config(tmp_path, sshd, "  HostKeyAlias web-alias\n")
    settings = SshSettings(port=sshd.port, config=(str(config),))
    with SshConnection("web", settings, known_hosts=tmp_path / "kh") as ssh:
        assert ssh.run("true").ok
    # --known-hosts (here, the test's file) wins over the config's UserKnownHostsFile.
    assert f"[web-alias]:{sshd.port} ssh-ed25519" in (tmp_path / "kh").read_text()


def test_ciphers_limit_what_is_negotiated(sshd: Sshd, tmp_path: Path) -> None:
    config = _config(tmp_path, sshd, "  Ciphers aes128-ctr\n  MACs hmac-sha2-512\n")
    settings = SshSettings(port=sshd.port, config=(str(config),))
    with SshConnection("web", settings, known_hosts=tmp_path / "kh") as ssh:
        transport = ssh._client.get_transport()  # type: ignore[union-attr]
        assert transport is not None
        assert (transport.local_cipher, transport.local_mac) == ("aes128-ctr", "hmac-sha2-512")


@pytest.mark.parametrize(
    ("ciphers", "negotiated"),
    [
        (None, "aes128-gcm@openssh.com"),  # paramiko's own order would give aes128-ctr
        ("aes256-ctr,aes128-gcm@openssh.com", "aes256-ctr"),  # the config's order, as ssh's
        ("^aes192-ctr", "aes192-ctr"),
        ("-aes128-gcm@openssh.com", "aes256-gcm@openssh.com"),
    ],
)
def test_ciphers_are_asked_for_in_order(
    sshd: Sshd, tmp_path: Path, ciphers: str | None, negotiated: str
) -> None:
    config = _config(tmp_path, sshd, f"  Ciphers {ciphers}\n" if ciphers else "")
    settings = SshSettings(port=sshd.port, config=(str(config),))
    with SshConnection("web", settings, known_hosts=tmp_path / "kh") as ssh:
        transport = ssh._client.get_transport()  # type: ignore[union-attr]
        assert transport is not None
        assert (transport.local_cipher, transport.remote_cipher) == (negotiated, negotiated)
        assert ssh.run("head -c 100000 /dev/zero | wc -c").stdout.strip() == "100000"


def _server_kex(sshd: Sshd) -> list[str]:
    """The key exchanges the loopback sshd offers, as it reports its own settings."""
    shown = subprocess.run(["/usr/sbin/sshd", "-T", "-f", str(sshd.directory / "sshd_config")],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    return next(line.split()[1].split(",") for line in shown.splitlines()
                if line.startswith("kexalgorithms "))  # fmt: skip


@pytest.mark.parametrize(
    ("kex", "negotiated"),
    [
        (None, "ecdh-sha2-nistp256"),  # paramiko's own order gives curve25519 (or ML-KEM)
        ("curve25519-sha256", "curve25519-sha256@libssh.org"),  # OpenSSH's name for it
        ("ecdh-sha2-nistp521,curve25519-sha256", "ecdh-sha2-nistp521"),  # the config's order
        ("^ecdh-sha2-nistp384", "ecdh-sha2-nistp384"),
        ("-ecdh-sha2-nistp256,mlkem768x25519-sha256", "curve25519-sha256@libssh.org"),
    ],
)
def test_key_exchanges_are_asked_for_in_order(
    sshd: Sshd, tmp_path: Path, caplog: pytest.LogCaptureFixture, kex: str | None,
    negotiated: str,
) -> None:  # fmt: skip
    """What the server and backstaff agree on, as paramiko's protocol log says it. By default
    a post-quantum hybrid comes first: an sshd that has one (OpenSSH 9.9 and later) uses it."""
    if kex is None and "mlkem768x25519-sha256" in _server_kex(sshd):
        negotiated = "mlkem768x25519-sha256"
    config = _config(tmp_path, sshd, f"  KexAlgorithms {kex}\n" if kex else "")
    settings = SshSettings(port=sshd.port, config=(str(config),))
    caplog.set_level(logging.DEBUG, logger="paramiko.transport")
    with SshConnection("web", settings, known_hosts=tmp_path / "kh") as ssh:
        assert ssh.run("echo ok").stdout == "ok\n"
    agreed = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Kex: ")]
    assert agreed == [f"Kex: {negotiated}"]


@pytest.mark.parametrize(
    ("line", "option"),
    [
        ("KexAlgorithms sntrup761x25519-sha512@openssh.com", "KexAlgorithms"),
        ("Ciphers chacha20-poly1305@openssh.com", "Ciphers"),
        ("MACs umac-128-etm@openssh.com", "MACs"),
    ],
)
def test_a_list_paramiko_has_none_of_is_refused_naming_it(
    sshd: Sshd, tmp_path: Path, line: str, option: str
) -> None:
    """OpenSSH would use them; paramiko has none, so the handshake could only fail: the
    error says which line of the config leaves nothing, before connecting."""
    config = _config(tmp_path, sshd, f"  {line}\n")
    settings = SshSettings(port=sshd.port, config=(str(config),))
    with pytest.raises(SshError) as refused:
        SshConnection("web", settings, known_hosts=tmp_path / "kh").connect()
    message = str(refused.value)
    assert message.startswith(f"web: the ssh config's {option} ({line.split()[1]}) names none")
    assert "paramiko" in message and not (tmp_path / "kh").exists()


def test_public_key_authentication_off_is_refused(sshd: Sshd, tmp_path: Path) -> None:
    config = _config(tmp_path, sshd, "  PubkeyAuthentication no\n")
    settings = SshSettings(port=sshd.port, config=(str(config),))
    with pytest.raises(SshError, match="turns public key authentication off"):
        SshConnection("web", settings, known_hosts=tmp_path / "kh").connect()


def test_config_false_reads_nothing(sshd: Sshd, tmp_path: Path) -> None:
    _config(tmp_path, sshd)
    settings = SshSettings(port=sshd.port, config=False, keys=(str(sshd.authorized),))
    with pytest.raises(SshError, match="^web: cannot connect"):  # "web" is not resolved via config
        SshConnection("web", settings, known_hosts=tmp_path / "kh", timeout=5).connect()


def test_identity_agent_of_the_config(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IdentityAgent: the keys of that agent (a real ssh-agent), not $SSH_AUTH_SOCK's."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    socket_path = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket_path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not socket_path.exists():
            assert time.monotonic() < deadline, "ssh-agent did not start"
            time.sleep(0.05)
        subprocess.run(["ssh-add", "-q", str(sshd.authorized)], check=True,
                       env={"SSH_AUTH_SOCK": str(socket_path)})  # fmt: skip
        config = tmp_path / "agent_config"
        config.write_text(f"Host web\n  HostName 127.0.0.1\n  IdentityAgent {socket_path}\n")
        settings = SshSettings(port=sshd.port, config=(str(config),))
        with SshConnection("web", settings, known_hosts=tmp_path / "kh") as ssh:
            assert ssh.run("echo in").stdout == "in\n"
        config.write_text("Host web\n  HostName 127.0.0.1\n  IdentityAgent none\n")
        with pytest.raises(SshError, match="authentication failed"):
            SshConnection("web", settings, known_hosts=tmp_path / "kh").connect()
    finally:
        agent.terminate()
        agent.wait(10)


def test_proxy_jump_through_several_hosts(sshd: Sshd, tmp_path: Path) -> None:
    """ProxyJump a,b: through a, then b, then the host (here all three are the same sshd)."""
    hop = f"root@127.0.0.1:{sshd.port}"
    config = tmp_path / "jump_config"
    config.write_text(f"Host target\n  HostName 127.0.0.1\n  ProxyJump {hop},{hop}\n")
    settings = SshSettings(port=sshd.port, keys=(str(sshd.authorized),), keys_only=True,
                           config=(str(config),))  # fmt: skip
    with SshConnection("target", settings, known_hosts=tmp_path / "kh") as ssh:
        hops = ssh.run("echo $SSH_CONNECTION").stdout.split()
        assert hops[0] == "127.0.0.1" and ssh._jump is not None and ssh._jump._jump is not None
