"""App container commands as the host's shell runs them (planner/commands/app.py)."""

from __future__ import annotations

import shutil
import subprocess

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
