"""Broken hosts on the test bed, as a user meets them: ``backstaff plan`` (the installed command,
in its own process) says what is wrong in one line per host, with no traceback and no library
log line, and the plan says it is incomplete.

On test-bed host h3, inside its own network namespace: a web server on one port, nothing on
another (refused), and a port whose packets are dropped (never answers).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
HTTP_PORT, REFUSED_PORT, DROPPED_PORT = 2280, 2281, 2282


@pytest.fixture(scope="module")
def h3(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    host = testbed.hosts[2]
    ns = ["ip", "netns", "exec", host.namespace]
    root = tmp_path_factory.mktemp("www")
    httpd = subprocess.Popen(
        [*ns, "busybox", "httpd", "-f", "-p", f"{host.address}:{HTTP_PORT}", "-h", str(root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    drop = ["INPUT", "-p", "tcp", "--dport", str(DROPPED_PORT), "-j", "DROP"]
    subprocess.run([*ns, "iptables", "-A", *drop], check=True)
    try:
        yield host.address
    finally:
        subprocess.run([*ns, "iptables", "-D", *drop], check=False)
        httpd.kill()
        httpd.wait()


def _plan(testbed: Testbed, tmp: Path, host: str, port: int, key: str) -> tuple[int, str, str]:
    (tmp / "config").mkdir(exist_ok=True)
    (tmp / "config" / "deploy.yml").write_text(
        f"service: tb\nimage: tb/app\nservers: [{host}]\nbuilder: {{arch: amd64}}\n"
        f"registry: {{server: 10.254.0.2:5000, username: tb, password: [PW]}}\n"
        f"ssh: {{user: root, port: {port}, keys_only: true, keys: [{key}]}}\n"
    )
    (tmp / ".kamal").mkdir(exist_ok=True)
    (tmp / ".kamal" / "secrets").write_text("PW=tbpass\n")
    done = subprocess.run(
        [sys.executable, "-m", "backstaff", "--known-hosts", str(tmp / "known_hosts"),
         "plan", "--version", "v1", "--format", "text"],
        cwd=tmp, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def _one_clear_line(code: int, out: str, err: str, host: str, expected: str) -> None:
    assert code == 1
    other = [line for line in err.splitlines() if not line.startswith(f"Trusting {host} on first")]
    assert other == [], err  # no traceback, no "Exception (client): ..." from paramiko
    problems = [line for line in out.splitlines() if line.startswith(f"! {host}:")]
    assert problems == [f"! {host}: {expected}"]
    assert f"This plan is incomplete: 1 of 1 host(s) could not be read ({host})" in out
    assert "match the configuration" not in out


def test_http_on_the_ssh_port(testbed: Testbed, h3: str, tmp_path: Path) -> None:
    result = _plan(testbed, tmp_path, h3, HTTP_PORT, testbed.ssh_key)
    _one_clear_line(*result, h3, f"port {HTTP_PORT} does not answer as an SSH server"
                    " (no SSH banner: another service may be listening there)")  # fmt: skip


def test_refused(testbed: Testbed, h3: str, tmp_path: Path) -> None:
    result = _plan(testbed, tmp_path, h3, REFUSED_PORT, testbed.ssh_key)
    _one_clear_line(*result, h3, f"cannot connect on port {REFUSED_PORT}:"
                    " connection refused (nothing listens on that port)")  # fmt: skip


def test_never_answers(testbed: Testbed, h3: str, tmp_path: Path) -> None:
    result = _plan(testbed, tmp_path, h3, DROPPED_PORT, testbed.ssh_key)
    _one_clear_line(*result, h3, f"cannot connect on port {DROPPED_PORT}:"
                    " no answer within 30 s (timed out)")  # fmt: skip


def test_authentication_failed(testbed: Testbed, h3: str, tmp_path: Path) -> None:
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    result = _plan(testbed, tmp_path, h3, 22, str(other))
    _one_clear_line(*result, h3, f"authentication failed as user root (tried {other})")
