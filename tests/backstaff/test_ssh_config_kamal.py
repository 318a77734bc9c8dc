"""ssh.config against the real Kamal 2.11 on a real sshd (loopback): both reach the host the
config's HostName names with its IdentityFile and SetEnv, and both ignore its User and Port
(Kamal always passes its own: root, and deploy.yml's port)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.executors import loopback_sshd
from tests.executors.loopback_sshd import Sshd
from tests.schemas.helpers import kamal_yaml


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    yield from loopback_sshd.running(tmp_path_factory)


def _project(tmp_path: Path, sshd: Sshd, port: int) -> Path:
    (tmp_path / ".kamal").mkdir()
    (tmp_path / ".kamal" / "secrets").write_text("")
    (tmp_path / "config").mkdir()
    (tmp_path / "ssh_config").write_text(f"""Host web-alias
  HostName 127.0.0.1
  Port 1
  User nobody
  IdentityFile {sshd.authorized}
  IdentitiesOnly yes
  UserKnownHostsFile {tmp_path}/known_hosts
  SetEnv BST_FROM_CONFIG=yes
""")
    (tmp_path / "config" / "deploy.yml").write_text(f"""service: a
image: a/b
servers: [web-alias]
registry: {{server: r.example, username: u, password: p}}
builder: {{arch: amd64}}
ssh:
  port: {port}
  config: {tmp_path}/ssh_config
""")
    return tmp_path


def _run(project: Path, tool: str) -> tuple[int, str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("BACKSTAFF_KNOWN_HOSTS", "SSH_AUTH_SOCK")
    }
    done = subprocess.run(
        [sys.executable, "-m", tool, "server", "exec", 'echo "$BST_FROM_CONFIG"; whoami'],
        cwd=project, capture_output=True, text=True, timeout=120, env={**env, "VERSION": "v1"},
    )  # fmt: skip
    out, start = done.stdout, done.stdout.find("App Host: web-alias")
    return done.returncode, (out[start:] if start >= 0 else out).strip(), done.stderr


@pytest.mark.parametrize("tool", ["backstaff", "kamal"])
def test_ssh_config_as_kamal_reads_it(sshd: Sshd, tmp_path: Path, tool: str) -> None:
    code, out, err = _run(_project(tmp_path, sshd, sshd.port), tool)
    assert (code, out) == (0, "App Host: web-alias\nyes\nroot"), err
    if tool == "backstaff":  # net-ssh checks no key of a "local tunnel" (127.0.0.1, not port 22)
        assert f"[127.0.0.1]:{sshd.port} " in (tmp_path / "known_hosts").read_text()


@pytest.mark.parametrize("tool", ["backstaff", "kamal"])
def test_the_config_port_is_not_used(sshd: Sshd, tmp_path: Path, tool: str) -> None:
    """deploy.yml's port (here one nothing listens on) wins over the config's Port."""
    closed = loopback_sshd._free_port()
    _, out, err = _run(_project(tmp_path, sshd, closed), tool)
    expected = f"127.0.0.1:{closed}" if tool == "kamal" else f"cannot connect on port {closed}"
    assert "refused" in out + err and expected in out + err


@pytest.mark.parametrize("tool", ["backstaff", "kamal"])
def test_every_key_data_key_is_tried(sshd: Sshd, tmp_path: Path, tool: str) -> None:
    """key_data [a key the host refuses, the right one]: both get in with the second."""
    project = _project(tmp_path, sshd, sshd.port)
    keys = [sshd.stranger.read_text(), sshd.authorized.read_text()]
    data = yaml.safe_load((project / "config" / "deploy.yml").read_text())
    data["servers"] = ["127.0.0.1"]
    data["ssh"] = {"port": sshd.port, "config": False, "keys_only": True, "key_data": keys}
    (project / "config" / "deploy.yml").write_text(kamal_yaml(data))
    env = {k: v for k, v in os.environ.items() if k not in ("SSH_AUTH_SOCK",)}
    done = subprocess.run(
        [sys.executable, "-m", tool, "server", "exec", "whoami"], cwd=project, capture_output=True,
        text=True, timeout=120, env={**env, "VERSION": "v1", "BACKSTAFF_KNOWN_HOSTS": str(tmp_path / "kh")},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("App Host: 127.0.0.1\nroot")
