"""App container commands as the host's shell runs them (planner/commands/app.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from backstaff.planner.commands import app, proxy
from backstaff.planner.commands.words import render
from tests.planner.scenarios import example

SHELLS = [
    pytest.param(shell, id=" ".join(shell))
    for shell in (["sh"], ["dash"], ["bash"], ["busybox", "sh"])
    if shutil.which(shell[0])
]
FULL_ID = "0123456789ab" + "cdef" * 13  # what `docker run --detach` prints: 64 hex digits


def boot_script(docker_run: str) -> str:
    """The boot's `docker run` and proxy deploy, one after the other as in the boot's batch,
    with a `docker` that runs ``docker_run`` for `run` and prints each argument of the rest."""
    a = example("v2")
    web = a.roles[0]
    assert web.proxy is not None
    return "\n".join([
        f'docker() {{ if [ "$1" = run ]; then {docker_run}; else printf "<%s>\\n" "$@"; fi; }}',
        render(app.run_keeping_id(a, web, "10.254.0.11", "v2")) + " || exit",
        render(proxy.deploy(a, "tb-web", web.proxy, app.BOOTED_SHORT_ID, "web")),
    ])  # fmt: skip


@pytest.mark.parametrize("shell", SHELLS)
def test_the_proxy_targets_the_short_id_docker_run_printed(shell: list[str]) -> None:
    """Kamal asks docker for the new container's id by name, and gets its short id (12
    characters); the boot keeps what `docker run --detach` printed instead."""
    done = subprocess.run([*shell, "-c", boot_script(f"echo {FULL_ID}")],
                          capture_output=True, text=True, check=True)  # fmt: skip
    words = done.stdout.splitlines()
    assert words[:5] == ["<exec>", "<kamal-proxy>", "<kamal-proxy>", "<deploy>", "<tb-web>"]
    assert words[5] == "<--target=0123456789ab:80>"


@pytest.mark.parametrize("shell", SHELLS)
def test_a_failed_run_stops_before_the_proxy_deploy(shell: list[str]) -> None:
    done = subprocess.run([*shell, "-c", boot_script("echo no space left >&2; return 125")],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 125
    assert done.stdout == ""
    assert "no space left" in done.stderr


def test_the_old_container_is_stopped_by_the_name_the_plan_found() -> None:
    a = example("v2")
    web, workers = a.roles
    assert render(app.stop_container("tb-web-v1", web, 30)) == "docker stop -- tb-web-v1"
    # a value stays one word, whatever it holds
    assert render(app.stop_container("x y;z", workers, 30)) == "docker stop -t 30 -- 'x y;z'"


def test_a_host_with_a_user_is_named_without_it_in_the_container() -> None:
    """A servers entry ``user@host`` (a real config): Kamal writes SSHKit's host name, the
    user left out, into ``KAMAL_HOST`` and the container's ``--hostname``."""
    a = example("v2")
    words = app.run(a, a.roles[0], "deploy@10.254.0.11", "v2")
    line = render(words)
    assert "--env KAMAL_HOST=10.254.0.11 " in line
    assert app.hostname("deploy@10.254.0.11", "v2").startswith("10.254.0.11-")
    assert "deploy@" not in line


def readiness(
    shell: list[str], tmp_path: Path, answers: list[str], delay: int
) -> tuple[int, str, list[str]]:
    """``wait_ready`` for the workers role run by ``shell``, with a `docker` on the PATH that
    gives these statuses in turn (the last one again when they run out); the exit status, the
    stderr and the statuses asked for, in order."""
    workers = example("v2").roles[1]
    (tmp_path / "answers").write_text("".join(f"{a}\n" for a in answers))
    docker = tmp_path / "docker"
    docker.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {tmp_path}/asked\n'
        f"n=$(wc -l < {tmp_path}/asked)\n"
        f'sed -n "${{n}}p;\\$p" {tmp_path}/answers | head -n 1\n'
    )
    docker.chmod(0o755)
    script = render(app.wait_ready(workers, "v2", delay, 1))
    done = subprocess.run([*shell, "-c", script], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"})  # fmt: skip
    asked = (tmp_path / "asked").read_text().splitlines()
    assert all(a.endswith(" tb-workers-v2") and a.startswith("container inspect") for a in asked)
    return done.returncode, done.stderr, asked


@pytest.mark.parametrize("shell", SHELLS)
def test_a_running_container_is_checked_again_after_the_delay(
    shell: list[str], tmp_path: Path
) -> None:
    """As Kamal's poller: running, then (the delay waited) still running is ready."""
    started = time.monotonic()
    code, err, asked = readiness(shell, tmp_path, ["running", "running"], 1)
    assert (code, err, len(asked)) == (0, "", 2)
    assert time.monotonic() - started >= 1


@pytest.mark.parametrize("shell", SHELLS)
def test_a_container_gone_after_the_delay_is_not_ready(shell: list[str], tmp_path: Path) -> None:
    code, err, asked = readiness(shell, tmp_path, ["running", "exited"], 1)
    assert code == 1
    assert err == "container not ready after 1 seconds (exited)\n"


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(("answer", "delay"), [("healthy", 5), ("running", 0)])
def test_ready_at_the_first_check(
    shell: list[str], tmp_path: Path, answer: str, delay: int
) -> None:
    """A healthy container waits no delay (its timer is stopped at once); with
    ``readiness_delay: 0`` a running one is not checked again, as Kamal's poller."""
    started = time.monotonic()
    code, err, asked = readiness(shell, tmp_path, [answer], delay)
    assert (code, err, len(asked)) == (0, "", 1)
    assert time.monotonic() - started < 4


@pytest.mark.parametrize("shell", SHELLS)
def test_a_starting_container_is_checked_again_a_second_later(
    shell: list[str], tmp_path: Path
) -> None:
    """docker's health check not passed yet: asked again after a second (the delay's timer of
    the first round stopped, without a word on stderr), then healthy is ready."""
    started = time.monotonic()
    code, err, asked = readiness(shell, tmp_path, ["starting", "healthy"], 5)
    assert (code, err, len(asked)) == (0, "", 2)
    assert 1 <= time.monotonic() - started < 4


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    ("holder", "stopped"),
    [("0123456789ab", False), ("fedcba987654", True), ("", True)],
    ids=["the renamed container still holds the name", "the new one does", "none does"],
)
def test_a_boots_cleanup_leaves_the_container_it_failed_to_rename(
    shell: list[str], holder: str, stopped: bool
) -> None:
    """A boot that renames ``0123456789ab`` out of the way cleans up after a failure by
    stopping the container holding the name, unless that is still the renamed one."""
    answer = f'printf "%s\\n" {holder}' if holder else 'echo "No such object" >&2; return 1'
    script = "\n".join([
        f'docker() {{ if [ "$2" = inspect ]; then {answer}; else echo "docker $*"; fi; }}',
        render(app.stop_container_unless("tb-web-v2", "0123456789ab", None, 30)),
    ])  # fmt: skip
    done = subprocess.run([*shell, "-c", script], capture_output=True, text=True, timeout=10)
    assert done.stdout == ("docker stop -- tb-web-v2\n" if stopped else "")
    assert done.stderr == ""
