"""Real SSH (paramiko) to every test-bed host: docker answers, one connection serves many
commands, host keys are trusted on first use and a changed key is refused."""

from __future__ import annotations

from pathlib import Path

import paramiko
import pytest

from backstaff.executors.ssh import SshConnection, SshError
from backstaff.planner.model import SshSettings
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed


def settings(bed: Testbed) -> SshSettings:
    return SshSettings(user="root", keys=(bed.ssh_key,), keys_only=True)


def test_docker_version_on_every_host(testbed: Testbed, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    for host in testbed.hosts:
        with SshConnection(host.address, settings(testbed), known_hosts=known_hosts) as ssh:
            result = ssh.run("docker version --format '{{.Server.Version}}'")
            assert result.ok, result.stderr
            assert result.stdout.strip().startswith("20.10.")
            assert ssh.run("hostname").stdout.strip() == host.name
    recorded = known_hosts.read_text()
    assert all(host.address in recorded for host in testbed.hosts)


def test_one_connection_runs_many_commands(testbed: Testbed, tmp_path: Path) -> None:
    host = testbed.hosts[0]
    before = testbed.command_counts()[host.name]
    with SshConnection(host.address, settings(testbed), known_hosts=tmp_path / "kh") as ssh:
        transport = ssh._client.get_transport()  # type: ignore[union-attr]
        for _ in range(3):
            assert ssh.run("true").ok
        assert ssh.run("exit 3").exit_status == 3
        assert ssh._client.get_transport() is transport  # type: ignore[union-attr]
    assert testbed.command_counts()[host.name] == before + 4


def test_hosts_are_separate(testbed: Testbed, tmp_path: Path) -> None:
    """Each host has its own dockerd and home: a file made on h1 is not on h2."""
    h1, h2 = testbed.hosts[:2]
    with SshConnection(h1.address, settings(testbed), known_hosts=tmp_path / "kh") as ssh:
        assert ssh.run(
            "mkdir -p .kamal && echo h1 > .kamal/probe && docker info --format '{{.Name}}'"
        ).ok
    with SshConnection(h2.address, settings(testbed), known_hosts=tmp_path / "kh") as ssh:
        assert not ssh.run("test -e .kamal/probe").ok
    with SshConnection(h1.address, settings(testbed), known_hosts=tmp_path / "kh") as ssh:
        assert ssh.run("cat .kamal/probe && rm .kamal/probe").stdout == "h1\n"


def test_changed_host_key_is_refused(testbed: Testbed, tmp_path: Path) -> None:
    host = testbed.hosts[0]
    known_hosts = tmp_path / "known_hosts"
    other_key = paramiko.Ed25519Key.from_private_key_file(testbed.ssh_key)  # not the host's key
    keys = paramiko.HostKeys()
    keys.add(host.address, other_key.get_name(), other_key)
    keys.save(str(known_hosts))
    with pytest.raises(SshError, match=f"{host.address}: host key changed"):
        SshConnection(host.address, settings(testbed), known_hosts=known_hosts).connect()


def test_unknown_host_refused_when_not_trusting_new_hosts(testbed: Testbed, tmp_path: Path) -> None:
    host = testbed.hosts[1]
    connection = SshConnection(
        host.address, settings(testbed), known_hosts=tmp_path / "kh", trust_new_hosts=False
    )
    with pytest.raises(SshError, match="unknown host key and new hosts are not trusted"):
        connection.connect()


def test_unreachable_host_names_the_host(testbed: Testbed, tmp_path: Path) -> None:
    address = "10.254.0.99"  # in the test bed's own range, no host there
    connection = SshConnection(address, settings(testbed), known_hosts=tmp_path / "kh", timeout=2)
    with pytest.raises(SshError, match=f"^{address}: cannot connect on port 22"):
        connection.connect()


def test_jump_host(testbed: Testbed, tmp_path: Path) -> None:
    """ssh.proxy: reach h2 through h1 (a direct-tcpip channel on the jump host)."""
    h1, h2 = testbed.hosts[:2]
    jumped = SshSettings(
        user="root", keys=(testbed.ssh_key,), keys_only=True, proxy=f"root@{h1.address}"
    )
    with SshConnection(h2.address, jumped, known_hosts=tmp_path / "kh") as ssh:
        assert ssh.run("hostname").stdout.strip() == "h2"


def test_proxy_command(testbed: Testbed, tmp_path: Path) -> None:
    h1, h3 = testbed.hosts[0], testbed.hosts[2]
    command = (f"ssh -i {testbed.ssh_key} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
               f" -o BatchMode=yes -W %h:%p root@{h1.address}")  # fmt: skip
    settings_ = SshSettings(
        user="root", keys=(testbed.ssh_key,), keys_only=True, proxy_command=command
    )
    with SshConnection(h3.address, settings_, known_hosts=tmp_path / "kh") as ssh:
        assert ssh.run("hostname").stdout.strip() == "h3"


def test_ssh_config_file_proxy_jump(testbed: Testbed, tmp_path: Path) -> None:
    h1, h2 = testbed.hosts[:2]
    config = tmp_path / "ssh_config"
    config.write_text(f"Host {h2.address}\n  ProxyJump root@{h1.address}\n")
    settings_ = SshSettings(
        user="root", keys=(testbed.ssh_key,), keys_only=True, config=(str(config),)
    )
    with SshConnection(h2.address, settings_, known_hosts=tmp_path / "kh") as ssh:
        assert ssh._jump is not None  # went through the jump host named in the file
        assert ssh.run("hostname").stdout.strip() == "h2"


def test_key_data_instead_of_a_key_file(testbed: Testbed, tmp_path: Path) -> None:
    settings_ = SshSettings(user="root", keys_only=True)
    key = Path(testbed.ssh_key).read_text()
    with SshConnection(
        testbed.hosts[0].address, settings_, known_hosts=tmp_path / "kh", key_data=(key,)
    ) as ssh:
        assert ssh.run("true").ok


def test_connection_starts_are_bounded(
    testbed: Testbed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sshkit.max_concurrent_starts: never more connections starting at once than allowed."""
    import threading

    from backstaff.executors.gather import ConnectionPool

    active, peak, guard = 0, 0, threading.Lock()
    original = SshConnection.connect

    def counting_connect(self: SshConnection) -> None:
        nonlocal active, peak
        with guard:
            active += 1
            peak = max(peak, active)
        try:
            original(self)
        finally:
            with guard:
                active -= 1

    monkeypatch.setattr(SshConnection, "connect", counting_connect)
    bounded = SshSettings(
        user="root", keys=(testbed.ssh_key,), keys_only=True, max_concurrent_starts=1
    )
    pool = ConnectionPool(bounded, known_hosts=tmp_path / "kh")
    threads = [threading.Thread(target=pool.get, args=(h.address,)) for h in testbed.hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pool.close()
    assert peak == 1


def test_trust_on_first_use_is_announced_once(testbed: Testbed, tmp_path: Path) -> None:
    host = testbed.hosts[0]
    seen: list[tuple[str, str]] = []
    for _ in range(2):
        with SshConnection(host.address, settings(testbed), known_hosts=tmp_path / "kh",
                           on_new_key=lambda h, k: seen.append((h, k))):  # fmt: skip
            pass
    assert len(seen) == 1 and seen[0][0] == host.address
    assert seen[0][1].startswith("ssh-ed25519 SHA256:")
