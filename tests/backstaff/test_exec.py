"""``app exec``, ``accessory exec`` and ``server exec`` take Kamal's options: the command as
several words, ``-i`` on the primary host (or the one host given), ``--reuse``, ``-e``,
``--detach``; the Rails 8 aliases (``console``, ``shell``, ``dbc``, ``logs``) expand to them.
Nothing here connects anywhere: what would run is captured."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import pytest

from backstaff import commands_accessory, commands_app, commands_ops, exec_support
from backstaff.aliases import expand
from backstaff.cli import cli, main
from backstaff.errors import BackstaffError
from backstaff.planner.commands import verbs
from backstaff.planner.commands.base import Cmd, join
from tests.conftest import FIXTURES
from tests.planner.scenarios import example

EXAMPLE = example("v1")  # the project's config: its roles' current-container lookups
RAILS_ALIASES = """
aliases:
  console: app exec --interactive --reuse "bin/rails console"
  shell: app exec --interactive --reuse "bash"
  logs: app logs -f
  dbc: app exec --interactive --reuse "bin/rails dbconsole --include-password"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "app"
    shutil.copytree(FIXTURES / "example", path)
    with (path / "config" / "deploy.yml").open("a") as handle:
        handle.write(RAILS_ALIASES)
    monkeypatch.chdir(path)
    monkeypatch.delenv("VERSION", raising=False)
    return path


@pytest.fixture
def ran(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """What the commands would run: ("show", {host: [command, ...]}), ("login", hosts),
    ("interactive", (host, command, options)) and ("answer", (host, command)), a question whose
    answer is the host's entry in ``RUNNING``."""
    calls: list[tuple[str, Any]] = []

    connections = object()  # the exec's one pool, which its login, question and command share

    @contextmanager
    def host_connections(ctx: object, app: object) -> Iterator[object]:
        yield connections

    def show(ctx: object, app: object, hosts: Any, build: Any, title: str, **options: Any) -> None:
        # a command that fails fails the exec; app and accessory exec: through the exec's pool
        group = click.get_current_context().find_root().invoked_subcommand
        if group != "server":
            assert options.pop("pool") is connections
        assert options == {"check": True}
        calls.append(("show", {h: [join(c) for c in build(h)] for h in hosts}))

    def login(ctx: object, app: object, pool: object, hosts: Any) -> None:
        assert pool is connections
        calls.append(("login", list(hosts)))

    def interactive(ctx: object, app: object, host: str, command: Cmd, **options: Any) -> None:
        calls.append(("interactive", (host, join(command), options)))

    def answer(pool: object, host: str, command: Cmd) -> str:
        assert pool is connections
        calls.append(("answer", (host, join(command))))
        return RUNNING.get(host, "")

    for module in (commands_app, commands_accessory, commands_ops):
        monkeypatch.setattr(module, "show_on_hosts", show)
    monkeypatch.setattr(exec_support, "host_connections", host_connections)
    monkeypatch.setattr(exec_support, "registry_login", login)
    monkeypatch.setattr(exec_support, "run_interactive_on", interactive)
    monkeypatch.setattr(exec_support, "answer_on", answer)
    monkeypatch.setattr(exec_support, "local_terminal", lambda: True)
    return calls


# What `docker ps --format {{.Names}}` answers for a role's current container, by host.
RUNNING: dict[str, str] = {"10.254.0.11": "tb-web-v7"}
AUDITED = re.compile(r"mkdir -p \.kamal && echo ('(?:[^']|'\\'')*') >> \.kamal/tb(?:-staging)?-audit\.log && (.*)",
                     re.DOTALL)  # fmt: skip
TAGS = r"\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] \[[^]]+\] "  # Kamal's time and performer


def _audited(command: str) -> tuple[str, str]:
    """The audit line a non-interactive exec appends first, and the command that follows it."""
    match = AUDITED.fullmatch(command)
    assert match, command
    (line,) = shlex.split(match[1])
    return line, match[2]


def test_command_line_is_kamals_join() -> None:
    assert exec_support.command_line(["bin/rails", " console "]) == "bin/rails console"
    assert exec_support.command_line(["ls -la", "/tmp"]) == "ls -la /tmp"
    with pytest.raises(BackstaffError, match="No command provided"):
        exec_support.command_line([])
    with pytest.raises(BackstaffError, match="cannot split the command into words"):
        exec_support.command_line(["echo 'open"])
    assert exec_support.command_line(["echo 'open"], split=False) == "echo 'open"


def test_env_pairs_as_docker_and_as_kamal() -> None:
    assert exec_support.env_pairs(["A=1", "B:2", "URL=http://x:80/a=b", "C:x=y", "E="]) == (
        ("A", "1"), ("B", "2"), ("URL", "http://x:80/a=b"), ("C", "x=y"), ("E", ""),
    )  # fmt: skip
    for wrong in ("NOVALUE", "=x", ":x"):
        with pytest.raises(click.BadParameter):
            exec_support.env_pairs([wrong])


def test_app_exec_words_env_and_hosts(project: Path, ran: list[tuple[str, Any]]) -> None:
    assert main(["app", "exec", "-r", "web", "ls", "-la", "-e", "A=1", "--env", "B:two"]) == 0
    (login, (kind, shown)) = ran
    assert login == ("login", ["10.254.0.11", "10.254.0.12"]) and kind == "show"
    assert list(shown) == ["10.254.0.11", "10.254.0.12"]
    (audited,) = shown["10.254.0.11"]
    line, command = _audited(audited)
    assert re.fullmatch(TAGS + "Executed cmd 'ls -la' on app version latest", line)
    assert command.startswith("docker run --rm --name tb-web-exec-latest-")
    assert command.endswith("--env A=1 --env B=two --log-opt max-size=10m"
                            " 10.254.0.2:5000/tb/app:latest ls -la")  # fmt: skip


def test_app_exec_reuse_runs_in_the_current_container(
    project: Path, ran: list[tuple[str, Any]]
) -> None:
    assert main(["app", "exec", "--reuse", "cat", "/www/index.html"]) == 0
    # no registry login for an existing container; the audit line's version asked first
    ((answered, (host, asked)), (kind, shown)) = ran
    assert (answered, host) == ("answer", "10.254.0.11")
    assert asked == join(verbs.current_container_name(EXAMPLE, EXAMPLE.roles[0]))
    assert kind == "show" and list(shown) == ["10.254.0.11", "10.254.0.12", "10.254.0.13"]
    audited = {h: _audited(c) for h, (c,) in shown.items()}
    current = {
        r.name: f'"$({join(verbs.current_container_id(EXAMPLE, r))})"' for r in EXAMPLE.roles
    }
    assert audited["10.254.0.11"][1].startswith(f"docker exec {current['web']} cat")
    assert audited["10.254.0.13"][1].startswith(f"docker exec {current['workers']} cat")
    assert audited["10.254.0.13"][1].endswith(" cat /www/index.html")
    # Kamal's line names the role, and the version running on the first host for every host
    for host, role in (("10.254.0.11", "web"), ("10.254.0.12", "web"), ("10.254.0.13", "workers")):
        message = f"\\[{role}\\] Executed cmd 'cat /www/index.html' on app version v7"
        assert re.fullmatch(TAGS + message, audited[host][0])


def test_app_exec_reuse_audits_the_version_given_or_the_configs(
    project: Path, ran: list[tuple[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["--version", "v3", "app", "exec", "--reuse", "-r", "workers", "pwd"]) == 0
    ((kind, shown),) = ran  # --version: nothing asked
    line, command = _audited(shown["10.254.0.13"][0])
    assert re.fullmatch(TAGS + "\\[workers\\] Executed cmd 'pwd' on app version v3", line)
    assert command == "docker exec tb-workers-v3 pwd"
    ran.clear()
    monkeypatch.setenv("VERSION", "v5")  # nothing runs on the host: the config's version
    assert main(["app", "exec", "--reuse", "-r", "workers", "pwd"]) == 0
    ((answered, (host, _)), (_, shown)) = ran
    assert (answered, host) == ("answer", "10.254.0.13")
    line, _ = _audited(shown["10.254.0.13"][0])
    assert re.fullmatch(TAGS + "\\[workers\\] Executed cmd 'pwd' on app version v5", line)


def test_app_exec_detach_and_destination_latest_tag(
    project: Path, ran: list[tuple[str, Any]]
) -> None:
    (project / "config" / "deploy.staging.yml").write_text("servers:\n  web: [10.254.0.11]\n")
    assert main(["app", "exec", "-d", "staging", "-p", "--detach", "sleep 60"]) == 0
    (_, (_, shown)) = ran
    line, command = _audited(shown["10.254.0.11"][0])
    assert re.fullmatch(TAGS + "\\[staging\\] Executed cmd 'sleep 60' on app version latest-staging",
                        line)  # fmt: skip
    assert " >> .kamal/tb-staging-audit.log && " in shown["10.254.0.11"][0]  # Kamal's file
    assert command.startswith("docker run --detach --name tb-web-staging-exec-latest-staging-")
    assert command.endswith(" 10.254.0.2:5000/tb/app:latest-staging sleep 60")


def test_app_exec_interactive_on_the_primary_host(
    project: Path, ran: list[tuple[str, Any]]
) -> None:
    assert main(["--version", "v2", "app", "exec", "-i", "sh"]) == 0
    ((kind, (host, command, options)),) = ran
    assert (kind, host, options["login"]) == ("interactive", "10.254.0.11", True)
    assert command.startswith("docker run -it --rm --name tb-web-exec-v2-")
    assert command.endswith(" 10.254.0.2:5000/tb/app:v2 sh")
    ran.clear()
    assert main(["app", "exec", "-i", "-h", "10.254.0.13", "sh"]) == 0  # the one host given
    ((_, (host, command, _)),) = ran
    assert host == "10.254.0.13" and "--name tb-workers-exec-latest-" in command


def test_options_that_do_not_go_together(project: Path, ran: list[tuple[str, Any]]) -> None:
    for args, error in (
        (["app", "exec", "--detach", "-i", "sh"], "Detach is not compatible with interactive"),
        (["app", "exec", "--detach", "--reuse", "-i", "sh"],
         "Detach is not compatible with interactive or reuse"),
        (["app", "exec", "-i"], "No command provided"),
        (["server", "exec"], "No command provided"),
    ):  # fmt: skip
        with pytest.raises(BackstaffError, match=error):
            cli.main(args=args, prog_name="backstaff", standalone_mode=False)
    assert ran == []


def test_rails_aliases_expand_to_kamals_commands(project: Path) -> None:
    commands = set(cli.commands)
    assert expand(["console"], commands) == ["app", "exec", "--interactive", "--reuse",
                                             "bin/rails console"]  # fmt: skip
    assert expand(["shell", "-h", "10.254.0.12"], commands) == [
        "app", "exec", "--interactive", "--reuse", "bash", "-h", "10.254.0.12",
    ]  # fmt: skip
    assert expand(["logs", "-r", "web"], commands) == ["app", "logs", "-f", "-r", "web"]
    assert expand(["-q", "dbc"], commands)[-1] == "bin/rails dbconsole --include-password"


def test_console_alias_runs_in_the_current_container(
    project: Path, ran: list[tuple[str, Any]]
) -> None:
    assert main(["console"]) == 0
    ((kind, (host, command, options)),) = ran
    assert (kind, host) == ("interactive", "10.254.0.11") and not options.get("login")
    current = join(verbs.current_container_id(EXAMPLE, EXAMPLE.roles[0]))
    assert command.startswith(f'docker exec -it "$({current})"')
    assert command.endswith(')" bin/rails console')
    assert options["require"][1] == "No running web container on 10.254.0.11"


def test_accessory_and_server_exec(project: Path, ran: list[tuple[str, Any]]) -> None:
    assert main(["accessory", "exec", "cache", "cat", "/etc/cache.conf"]) == 0
    assert main(["accessory", "exec", "cache", "--reuse", "-i", "sh"]) == 0
    assert main(["server", "exec", "-i", "sh"]) == 0
    assert main(["server", "exec", "docker", "exec", "kamal-proxy", "kamal-proxy", "list"]) == 0
    assert ran[0] == ("login", ["10.254.0.13"])
    line, command = _audited(ran[1][1]["10.254.0.13"][0])
    assert re.fullmatch(TAGS + "Executed cmd 'cat /etc/cache.conf' on cache accessory", line)
    assert command.startswith("docker run --rm --network kamal --env CACHE_MODE")
    assert ran[2][1][:2] == ("10.254.0.13", "docker exec -it tb-cache sh")  # -i: no audit line
    assert ran[3][1][:2] == ("10.254.0.11", "sh -c sh")
    shown = ran[4][1]
    assert list(shown) == ["10.254.0.11", "10.254.0.12", "10.254.0.13"]
    for host, (audited,) in shown.items():
        line, command = _audited(audited)
        listed = "docker exec kamal-proxy kamal-proxy list"
        assert re.fullmatch(TAGS + f"Executed cmd '{listed}' on {re.escape(host)}", line)
        assert command == f"sh -c '{listed}'"
