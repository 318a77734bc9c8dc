"""The ``logs`` commands' options as Kamal 2.11's, and the host ``-f`` follows (no host is
contacted: the follow and show functions are replaced)."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import pytest

from backstaff import commands_accessory, commands_app, commands_proxy
from backstaff.cli import main
from backstaff.planner.commands.base import Cmd, join
from tests.conftest import FIXTURES

# Kamal 2.11's options (lib/kamal/cli/app.rb, accessory.rb, proxy.rb).
KAMAL = {
    "app": {"-s", "--since", "-n", "--lines", "-g", "--grep", "--grep-options", "-f", "--follow",
            "-T", "--skip-timestamps", "--container-id"},
    "accessory": {"-s", "--since", "-n", "--lines", "-g", "--grep", "--grep-options", "-f",
                  "--follow", "-T", "--skip-timestamps"},
    "proxy": {"-s", "--since", "-n", "--lines", "-g", "--grep", "-f", "--follow", "-T",
              "--skip-timestamps"},
}  # fmt: skip
COMMANDS = {
    "app": commands_app.logs,
    "accessory": commands_accessory.logs,
    "proxy": commands_proxy.logs,
}


@pytest.mark.parametrize("group", sorted(KAMAL))
def test_options_as_kamal(group: str) -> None:
    command: click.Command = COMMANDS[group]
    names = {name for p in command.params if isinstance(p, click.Option) for name in p.opts}
    globals_ = {"-c", "--config-file", "-d", "--destination", "-h", "--hosts", "-r", "--roles",
                "-p", "--primary", "--version", "-v", "--verbose", "-q", "--quiet", "-H",
                "--skip-hooks", "--known-hosts", "--no-trust-new-hosts", "--help"}  # fmt: skip
    assert names - globals_ == KAMAL[group]


@pytest.fixture
def calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    shutil.copytree(FIXTURES / "example", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VERSION", raising=False)
    found: list[tuple[str, str]] = []

    def follow(ctx: object, app: object, host: str, command: Cmd) -> None:
        found.append((host, join(command)))

    def show(ctx: object, app: object, hosts: list[str], build, title: str, **kw: object) -> None:  # type: ignore[no-untyped-def]
        found.extend((host, join(command)) for host in hosts for command in build(host))

    for module in (commands_app, commands_accessory, commands_proxy):
        monkeypatch.setattr(module, "follow_on_host", follow)
        monkeypatch.setattr(module, "show_on_hosts", show)
    return found


@pytest.mark.parametrize(
    ("args", "host", "role"),
    [
        ((), "10.254.0.11", "web"),  # the primary host, its primary role
        (("-h", "10.254.0.13"), "10.254.0.13", "workers"),
        (("-h", "10.254.0.12,10.254.0.13"), "10.254.0.12", "web"),
        (("-r", "workers"), "10.254.0.13", "workers"),
        (("-p",), "10.254.0.11", "web"),
    ],
)
def test_app_follows_on_the_primary_or_first_given_host(
    calls: list[tuple[str, str]], args: tuple[str, ...], host: str, role: str
) -> None:
    assert main(["app", "logs", "-f", *args]) == 0
    assert len(calls) == 1 and calls[0][0] == host
    assert f"label=role={role}" in calls[0][1] and "--follow" in calls[0][1]


def test_without_follow_every_host(calls: list[tuple[str, str]]) -> None:
    assert main(["app", "logs", "-g", "x", "--grep-options", "-i", "-T"]) == 0
    assert [host for host, _ in calls] == ["10.254.0.11", "10.254.0.12", "10.254.0.13"]
    assert all(c.endswith("| xargs docker logs 2>&1 | grep x -i") for _, c in calls)


def test_accessory_and_proxy_follow(calls: list[tuple[str, str]]) -> None:
    assert main(["accessory", "logs", "cache", "-f", "-g", "y", "--grep-options=-v"]) == 0
    assert main(["proxy", "logs", "-f", "-T", "-h", "10.254.0.12"]) == 0
    assert calls == [
        ("10.254.0.13", "docker logs tb-cache --timestamps --tail 10 --follow 2>&1 | grep y -v"),
        ("10.254.0.12", "docker logs kamal-proxy --tail 10 --follow 2>&1"),
    ]


def test_bad_grep_options_is_a_message(
    calls: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["app", "logs", "-g", "x", "--grep-options", "'open"]) == 1
    err = capsys.readouterr().err
    assert "--grep-options" in err and "Traceback" not in err
