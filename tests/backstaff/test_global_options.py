"""Kamal's global options work before and after the command, at every depth of the command tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from backstaff.cli import cli, main
from backstaff.context import AppContext, Options
from backstaff.global_options import (
    GLOBAL_OPTIONS,
    GlobalOptionsGroup,
    option_strings,
    take_global_options,
)
from tests.conftest import FIXTURES

# One given value per option, and the Options field it must land in.
GIVEN: list[tuple[list[str], str, object]] = [
    (["-c", "config/other.yml"], "config_file", Path("config/other.yml")),
    (["--config-file=config/other.yml"], "config_file", Path("config/other.yml")),
    (["-d", "staging"], "destination", "staging"),
    (["--destination", "staging"], "destination", "staging"),
    (["-h", "10.0.0.*"], "hosts", "10.0.0.*"),
    (["--hosts", "a,b"], "hosts", "a,b"),
    (["-r", "web"], "roles", "web"),
    (["--roles=web,job"], "roles", "web,job"),
    (["-p"], "primary", True),
    (["--primary"], "primary", True),
    (["--no-primary"], "primary", False),
    (["--skip-primary"], "primary", False),
    (["--version", "v9"], "version", "v9"),
    (["-v"], "verbose", True),
    (["--verbose"], "verbose", True),
    (["--no-verbose"], "verbose", False),
    (["--skip-verbose"], "verbose", False),
    (["-q"], "quiet", True),
    (["--quiet"], "quiet", True),
    (["--no-quiet"], "quiet", False),
    (["--skip-quiet"], "quiet", False),
    (["-H"], "skip_hooks", True),
    (["--skip-hooks"], "skip_hooks", True),
    (["--known-hosts", "/tmp/kh"], "known_hosts", "/tmp/kh"),
    (["--no-trust-new-hosts"], "no_trust_new_hosts", True),
]


def _paths(group: click.Group, prefix: list[str]) -> Iterator[list[str]]:
    for name, command in sorted(group.commands.items()):
        yield [*prefix, name]
        if isinstance(command, click.Group):
            yield from _paths(command, [*prefix, name])


COMMAND_PATHS = list(_paths(cli, []))


def _parse(args: list[str]) -> Options:
    """Parse ``args`` the way click does when it runs them, without running any command."""
    ctx = cli.make_context("backstaff", list(args))
    ctx.obj = AppContext(Options(**ctx.params))
    command: click.Command = cli
    rest = _remaining(ctx)
    while isinstance(command, click.Group) and rest:
        _, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None
        # resilient: a missing required argument (accessory NAME) is not what is tested here
        ctx = sub.make_context(sub.name, rest, parent=ctx, resilient_parsing=True)
        command = sub
        rest = _remaining(ctx)
    return ctx.find_object(AppContext).options  # type: ignore[union-attr]


def _remaining(ctx: click.Context) -> list[str]:
    """The tokens a group leaves for its subcommand (click keeps the first one apart)."""
    return [*getattr(ctx, "_protected_args", []), *ctx.args]


def _every_command() -> Iterator[click.Command]:
    for path in COMMAND_PATHS:
        command: click.Command = cli
        for name in path:
            assert isinstance(command, click.Group)
            command = command.commands[name]
        yield command


def test_every_group_gives_its_commands_the_global_options() -> None:
    """The copies are made as a group resolves a command: a group of another class would leave
    its commands without them."""
    groups = [c for c in [cli, *_every_command()] if isinstance(c, click.Group)]
    assert len(groups) >= 10
    assert [g.name for g in groups if not isinstance(g, GlobalOptionsGroup)] == []


def test_no_command_shadows_a_global_option_and_copies_are_made_once() -> None:
    for command in _every_command():
        take_global_options(command)  # raises on a clash
        take_global_options(command)
        names = [p.name for p in command.params]
        assert len(names) == len(set(names)), command.name


def test_the_copies_are_made_for_the_commands_a_run_uses() -> None:
    """Not at import (over 900 options, 15-20 ms of every start): only on resolution."""
    code = (
        "import click\n"
        "from backstaff.cli import cli\n"
        "from backstaff.global_options import _GlobalCopy\n"
        "def copies(c):\n"
        "    n = sum(isinstance(p, _GlobalCopy) for p in c.params)\n"
        "    return n + sum(copies(s) for s in getattr(c, 'commands', {}).values())\n"
        "before = copies(cli)\n"
        "ctx = cli.make_context('backstaff', ['proxy', 'boot_config', 'get'])\n"
        "proxy = cli.get_command(ctx, 'proxy')\n"
        "proxy.get_command(ctx, 'boot_config').get_command(ctx, 'get')\n"
        "print(before, copies(cli))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", str(3 * len(GLOBAL_OPTIONS))]


def test_every_global_option_is_in_the_table() -> None:
    declared = {o for decls, _ in GLOBAL_OPTIONS for o in option_strings(decls)}
    tested = {arg.split("=")[0] for args, _, _ in GIVEN for arg in args[:1]}
    assert declared <= tested


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_each_option_after_the_command(path: list[str]) -> None:
    """Nested groups included: after the group (``app -r web logs``) and after the leaf."""
    for given, field, value in GIVEN:
        options = _parse([*path, *given])
        assert getattr(options, field) == value, f"backstaff {' '.join(path)} {' '.join(given)}"
        if len(path) > 1:
            options = _parse([path[0], *given, *path[1:]])
            assert getattr(options, field) == value, f"{path[0]} {' '.join(given)} {path[1:]}"


@pytest.mark.parametrize("given,field,value", GIVEN, ids=lambda v: str(v))
def test_each_option_before_the_command(given: list[str], field: str, value: object) -> None:
    assert getattr(_parse([*given, "app", "logs"]), field) == value


def test_after_overrides_before() -> None:
    options = _parse(["-d", "production", "deploy", "-d", "staging"])
    assert options.destination == "staging"
    assert _parse(["deploy"]).destination is None
    assert _parse(["deploy"]).config_file == Path("config/deploy.yml")


@pytest.mark.parametrize("flag", ["primary", "verbose", "quiet"])
def test_the_last_of_a_flag_and_its_negations_wins(flag: str) -> None:
    """Thor's ``--no-X`` and ``--skip-X`` clear a flag, given before or after the command."""
    for negation in (f"--no-{flag}", f"--skip-{flag}"):
        assert getattr(_parse([f"--{flag}", "deploy", negation]), flag) is False
        assert getattr(_parse(["app", f"--{flag}", "logs", negation]), flag) is False
        assert getattr(_parse(["deploy", f"--{flag}", negation]), flag) is False
        assert getattr(_parse(["deploy", negation, f"--{flag}"]), flag) is True
        assert getattr(_parse([negation, "deploy", f"--{flag}"]), flag) is True
        assert getattr(_parse([f"--{flag}", "deploy"]), flag) is True


def test_help_lists_each_global_option_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("-d, --destination", "-h, --hosts", "--version TEXT", "-H, --skip-hooks"):
        assert out.count(flag) == 1
    assert main(["app", "logs", "--help"]) == 0
    assert "--destination" not in capsys.readouterr().out  # listed once, at the top


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURES / "example", tmp_path, dirs_exist_ok=True)
    staging = (tmp_path / "config" / "deploy.yml").read_text().replace("10.254.0.1", "10.254.9.1")
    (tmp_path / "config" / "deploy.staging.yml").write_text("env:\n  clear:\n    TB_MODE: stage\n")
    (tmp_path / "config" / "other.yml").write_text(staging)
    (tmp_path / ".kamal" / "secrets.staging").write_text("SECRET_TOKEN=staged\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VERSION", raising=False)
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        ["-d", "staging", "--version", "v9", "config"],
        ["config", "-d", "staging", "--version", "v9"],
        ["config", "--destination=staging", "--version=v9"],
    ],
)
def test_config_reads_them_anywhere(
    project: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "TB_MODE: stage" in out and "absolute_image: 10.254.0.2:5000/tb/app:v9" in out


def test_config_file_after_the_command(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "-c", "config/other.yml", "--version", "v1"]) == 0
    assert "10.254.9.11" in capsys.readouterr().out


def test_nested_command_takes_them(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["secrets", "print", "-d", "staging"]) == 0
    assert "SECRET_TOKEN=staged" in capsys.readouterr().out
    assert main(["build", "push", "--dry-run", "--version", "v9"]) == 0
    assert "-t 10.254.0.2:5000/tb/app:v9" in capsys.readouterr().out


def test_verbose_after_the_command_shows_the_traceback(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "config" / "deploy.yml").write_text("service: [")
    assert main(["validate"]) == 1
    assert "Traceback" not in capsys.readouterr().err
    assert main(["validate", "-v"]) == 1
    assert "Traceback" in capsys.readouterr().err
