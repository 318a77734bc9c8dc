"""Every command of the real Kamal 2.11, and every option string it takes, backstaff takes too
(fixtures/kamal-cli/options.json, recorded by fixtures/record_kamal_cli.py from ``kamal tree``
and ``kamal help``): a Kamal user's command line is not refused for its form."""

from __future__ import annotations

import json

import click
import pytest

from backstaff.cli import cli, main
from tests.conftest import FIXTURES

RECORDED: dict[str, list[str]] = json.loads((FIXTURES / "kamal-cli" / "options.json").read_text())
# Kamal's ``proxy boot_config`` takes its options whatever the subcommand word; backstaff's
# boot_config is a group whose ``set`` takes them (``kamal proxy boot_config set --publish``
# is the same command line).
WHERE = {"proxy boot_config": "proxy boot_config set"}


def _command(path: str) -> click.Command | None:
    ctx = click.Context(cli)
    command: click.Command | None = cli
    for name in WHERE.get(path, path).split():
        if not isinstance(command, click.Group):
            return None
        command = command.get_command(ctx, name)  # gives it the global options' copies
    return command


def _taken(command: click.Command) -> set[str]:
    return {o for param in command.params for o in (*param.opts, *param.secondary_opts)}


def test_the_recording_is_whole() -> None:
    """The recorder read every section: Kamal's global options and a command's own flags."""
    assert len(RECORDED) >= 60
    assert {"-d", "--destination", "--no-verbose", "--skip-primary"} <= set(RECORDED["deploy"])
    assert {"--reuse", "--no-reuse", "--detach", "-e", "--env"} <= set(RECORDED["app exec"])


@pytest.mark.parametrize("path", sorted(RECORDED))
def test_backstaff_takes_the_command_and_its_options(path: str) -> None:
    command = _command(path)
    assert command is not None, f"backstaff has no `{path}`"
    missing = sorted(set(RECORDED[path]) - _taken(command))
    assert not missing, f"backstaff {path} does not take {missing}"


@pytest.mark.parametrize(
    "path,args,field,value",
    [
        ("app exec", ["-i", "--no-interactive"], "interactive", False),
        ("app exec", ["--reuse", "--skip-reuse"], "reuse", False),
        ("app exec", ["--no-detach", "--detach"], "detach", True),
        ("app stale_containers", ["-s", "--skip-stop"], "stop_them", False),
        ("accessory exec", ["--skip-interactive", "-i"], "interactive", True),
        ("server exec", ["-i", "--skip-interactive"], "interactive", False),
        ("remove", ["-y", "--no-confirmed"], "confirmed", False),
        ("proxy reboot", ["--rolling", "--skip-rolling"], "rolling", False),
        ("proxy boot_config set", ["--skip-publish"], "publish", False),
        ("proxy boot_config set", ["--no-debug", "--debug"], "debug", True),
        ("secrets fetch", ["--skip-inline"], "inline", False),
        ("init", ["--no-bundle"], "bundle", False),
    ],
)
def test_a_flag_and_its_negations_last_one_wins(
    path: str, args: list[str], field: str, value: bool
) -> None:
    command = _command(path)
    assert command is not None
    ctx = command.make_context(path, list(args), resilient_parsing=True)
    assert ctx.params[field] is value


@pytest.mark.parametrize(
    "help_args,help_flag_args",
    [
        (["help"], ["--help"]),
        (["help", "deploy"], ["deploy", "--help"]),
        (["help", "app", "exec"], ["app", "exec", "--help"]),
        (["app", "help", "logs"], ["app", "logs", "--help"]),
        (["proxy", "boot_config", "help", "set"], ["proxy", "boot_config", "set", "--help"]),
        (["app", "help"], ["app", "--help"]),
    ],
)
def test_help_as_thor_gives_it(
    help_args: list[str], help_flag_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``kamal help deploy`` and ``kamal app help logs``: the command's help, as --help."""
    assert main(help_args) == 0
    by_help = capsys.readouterr().out
    assert main(help_flag_args) == 0
    assert by_help.strip() == capsys.readouterr().out.strip()
    assert by_help.startswith(f"Usage: backstaff {' '.join(help_flag_args[:-1])}".rstrip())


@pytest.mark.parametrize("args", [["help", "foo"], ["app", "help", "bar"], ["help", "help"]])
def test_help_of_an_unknown_command_fails_as_thor(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 1
    assert capsys.readouterr().err.strip() == f'Could not find command "{args[-1]}".'


def test_tree_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tree"]) == 0
    out = capsys.readouterr().out
    for path in RECORDED:
        branch = "─ " + WHERE.get(path, path).split()[-1] + " ("
        assert branch in out, path
    assert "─ help (" not in out
