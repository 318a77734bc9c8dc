"""``app exec``, ``accessory exec`` and ``server exec`` build the commands Kamal 2.11 builds
(``commands/app/execution.rb``, ``commands/accessory.rb``), as shell words; every value (an
``-e`` value, a word of the command) reaches docker as exactly one argument."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from backstaff.planner.commands import verbs
from backstaff.planner.commands.base import join
from backstaff.planner.commands.words import Sub
from tests.planner.commands.test_words import FAKE_DOCKER, HOSTILE, SHELLS, argv_in
from tests.planner.kamal_recorded import words
from tests.planner.scenarios import example

APP = example("v1")
WEB = APP.roles[0]
CACHE = APP.accessories[0]
HOST = "10.254.0.11"
# What Kamal's execute_in_new_container renders for web on 10.254.0.11, version v1.
KAMAL_NEW = (
    'docker run {flags} --name tb-web-exec-v1-abc123 --network kamal --env TB_GREETING="hello"'
    ' --env TB_MODE="testbed" --env-file .kamal/apps/tb/env/roles/web.env {env}'
    '--log-opt max-size="10m" 10.254.0.2:5000/tb/app:v1 bin/rails console'
)


def _new(**options: object) -> tuple[str, ...]:
    return words(join(verbs.app_exec(APP, WEB, HOST, "bin/rails console", suffix="abc123",
                                     **options)))  # type: ignore[arg-type]  # fmt: skip


def test_new_container_as_kamal() -> None:
    assert _new() == words(KAMAL_NEW.format(flags="--rm", env=""))
    assert _new(interactive=True) == words(KAMAL_NEW.format(flags="-it --rm", env=""))
    assert _new(interactive=True, tty=False) == words(KAMAL_NEW.format(flags="-i --rm", env=""))
    assert _new(detach=True) == words(KAMAL_NEW.format(flags="--detach", env=""))
    assert _new(interactive=True, env=(("FOO", "a b"), ("X", "1"))) == words(
        KAMAL_NEW.format(flags="-it --rm", env='--env FOO="a b" --env X="1" ')
    )


def test_new_container_takes_the_role_options() -> None:
    def options(data: dict[str, object]) -> None:
        data["servers"]["workers"]["options"] = {"memory": "1g", "init": True}  # type: ignore[index]

    app = example("v1", options)
    workers = app.roles[1]
    command = words(join(verbs.app_exec(app, workers, "10.254.0.13", "ls", suffix="f00f00")))
    assert command[:6] == ("docker", "run", "--rm", "--name", "tb-workers-exec-v1-f00f00",
                           "--network")  # fmt: skip
    assert command[-5:] == ("--memory", "1g", "--init", "10.254.0.2:5000/tb/app:v1", "ls")


def test_reuse_as_kamal() -> None:
    """Kamal's ``docker exec`` names the container of the version; without --version backstaff
    asks docker for the role's current one (as its other verbs do)."""
    command = "bin/rails dbconsole --include-password"
    reuse = verbs.app_exec_reuse(
        APP, WEB, command, interactive=True, version="v1", env=(("FOO", "bar"),)
    )
    assert words(join(reuse)) == words(
        'docker exec -it --env FOO="bar" tb-web-v1 bin/rails dbconsole --include-password'
    )
    current = verbs.app_exec_reuse(APP, WEB, "bash", interactive=True)
    assert current[:3] == ("docker", "exec", "-it")
    assert current[3] == Sub(verbs.current_container_id(APP, WEB))
    assert words(join(current))[-1] == "bash"
    assert verbs.app_exec_reuse(APP, WEB, "ls")[:3] == ("docker", "exec", Sub(
        verbs.current_container_id(APP, WEB)))  # fmt: skip


def test_accessory_as_kamal() -> None:
    assert words(join(verbs.accessory_exec(CACHE, "sh", interactive=True))) == words(
        "docker exec -it tb-cache sh"
    )
    assert words(join(verbs.accessory_exec(CACHE, "redis-cli info"))) == words(
        "docker exec tb-cache redis-cli info"
    )
    assert words(join(verbs.accessory_exec_new(CACHE, "cat /etc/cache.conf", interactive=True))) == words(
        'docker run -it --rm --network kamal --env CACHE_MODE="lru"'
        " --env-file .kamal/apps/tb/env/accessories/cache.env"
        " --volume $PWD/tb-cache/etc/cache.conf:/etc/cache.conf"
        " --volume $PWD/tb-cache/cache-data:/data"
        " 10.254.0.2:5000/tb/busybox:1.35 cat /etc/cache.conf"
    )  # fmt: skip


def test_command_words_split_as_the_hosts_shell_splits_kamals_line() -> None:
    """Kamal joins the words with spaces and the host's shell splits the line: quotes group,
    and nothing else is shell syntax here (no host expansion, no second command)."""
    command = verbs.app_exec_reuse(APP, WEB, "sh -c 'echo $HOME; id' && rm -rf /", version="v1")
    assert words(join(command))[3:] == ("sh", "-c", "echo $HOME; id", "&&", "rm", "-rf", "/")
    assert "'&&'" in join(command)  # a word for the container, never an operator on the host


def test_server_exec_is_the_hosts_command_line() -> None:
    assert join(verbs.host_shell("docker exec kamal-proxy kamal-proxy list")) == (
        "sh -c 'docker exec kamal-proxy kamal-proxy list'"
    )


@pytest.fixture(scope="module")
def fake_docker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bin")
    (path / "docker").write_text(FAKE_DOCKER)
    (path / "docker").chmod(0o755)
    return path


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=HOSTILE.filter(lambda v: "\0" not in v))
def test_values_reach_docker_as_one_argument(fake_docker: Path, tmp_path: Path, value: str) -> None:
    """An ``-e`` value and a quoted word of the command, whatever they hold, are each exactly
    one argument of docker, through sh, dash and bash."""
    command = f"printf %s {shlex.quote(value)}"
    for cmd, env in (
        (verbs.app_exec(APP, WEB, HOST, command, suffix="abc123", env=(("K", value),),
                        interactive=True), True),
        (verbs.app_exec_reuse(APP, WEB, command, env=(("K", value),), version="v1"), True),
        (verbs.accessory_exec_new(CACHE, command), False),
    ):  # fmt: skip
        for shell in SHELLS:
            (argv,) = argv_in(shell, join(cmd), fake_docker, tmp_path)
            assert argv[-3:] == ["printf", "%s", value], (shell, value, join(cmd))
            word = "K=" + value if value.strip() else "K"  # blank: bare, as Kamal's argumentize
            assert not env or argv[argv.index(word) - 1] == "--env"
