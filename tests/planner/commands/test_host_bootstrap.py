"""``server bootstrap`` on one host, run by a real ``sh`` against stand-in commands (docker,
id, sudo, curl; nothing is installed or downloaded): Kamal 2.11's logic from
commands/docker.rb and cli/server.rb — install only where ``docker -v`` fails and the user is
root or may sudo usermod, then add a non-root user to the docker group unless already in it;
otherwise fail with Kamal's message."""

from __future__ import annotations

import subprocess
from pathlib import Path

from backstaff.planner.commands.host import NOT_INSTALLABLE, docker_bootstrap
from backstaff.planner.commands.words import render

STUBS = {
    "docker": '[ -f "$STATE/installed" ] || [ "$DOCKER" = present ]',
    "id": 'case "$1" in -u) echo "$UID_IS";; -un) echo tester;; -nG) echo "$GROUPS_ARE";; esac',
    "sudo": 'echo "sudo $*" >> "$STATE/log"; [ "$SUDO" = yes ]',
    "curl": 'echo "echo installed-by-get.docker.com >> $STATE/log; touch $STATE/installed"',
}


def run(tmp_path: Path, **env: str) -> tuple[int, str, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, body in STUBS.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    (state / "log").write_text("")
    # dash: $EUID is unset, so the checks ask the stand-in id -u (as on a host whose sh is dash)
    full = {"PATH": f"{bin_dir}:/usr/bin:/bin", "STATE": str(state), "USER": "tester",
            "DOCKER": "missing", "UID_IS": "1000", "GROUPS_ARE": "tester", "SUDO": "yes", **env}  # fmt: skip
    done = subprocess.run(["dash", "-c", render(docker_bootstrap("h1"))], env=full,
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    return done.returncode, done.stderr, (state / "log").read_text().splitlines()


def test_present_docker_is_left_alone(tmp_path: Path) -> None:
    assert run(tmp_path, DOCKER="present") == (0, "", [])


def test_non_root_with_sudo_installs_and_joins_the_group(tmp_path: Path) -> None:
    code, _, log = run(tmp_path)
    assert code == 0
    assert log == ["sudo -nl usermod", "installed-by-get.docker.com",
                   "sudo -n usermod -aG docker tester"]  # fmt: skip


def test_root_installs_without_usermod(tmp_path: Path) -> None:
    code, _, log = run(tmp_path, UID_IS="0")
    assert (code, log) == (0, ["installed-by-get.docker.com"])


def test_already_in_the_docker_group(tmp_path: Path) -> None:
    code, _, log = run(tmp_path, GROUPS_ARE="tester docker")
    assert (code, log) == (0, ["sudo -nl usermod", "installed-by-get.docker.com"])


def test_neither_root_nor_sudo_fails_with_kamals_message(tmp_path: Path) -> None:
    code, err, log = run(tmp_path, SUDO="no")
    assert code == 1
    assert err.strip() == NOT_INSTALLABLE.format(host="h1")
    assert log == ["sudo -nl usermod"]  # nothing installed
