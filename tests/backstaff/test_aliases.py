"""Aliases from deploy.yml expand to their command line, wherever the global options stand."""

from __future__ import annotations

from pathlib import Path

import pytest

from backstaff.aliases import expand
from backstaff.cli import main as cli_main
from backstaff.schemas import ConfigErrors

COMMANDS = {"app", "deploy", "details", "plan"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "deploy.yml").write_text(
        "service: app\nimage: a/app\nregistry: {username: u, password: p}\nbuilder: {arch: amd64}\n"
        "servers: [1.1.1.1]\n"
        "aliases:\n  uname: app exec -p -q -r web 'uname -a'\n  shipit: plan --detailed-exitcode\n"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_alias_with_global_options(project: Path) -> None:
    assert expand(["uname"], COMMANDS) == ["app", "exec", "-p", "-q", "-r", "web", "uname -a"]


def test_config_file_after_the_alias(project: Path) -> None:
    (project / "config" / "other.yml").write_text(
        (project / "config" / "deploy.yml").read_text().replace("uname:", "whoami:")
    )
    assert expand(["whoami", "-c", "config/other.yml"], COMMANDS) == [
        "app", "exec", "-p", "-q", "-r", "web", "uname -a", "-c", "config/other.yml",
    ]  # fmt: skip
    assert expand(["whoami"], COMMANDS) == ["whoami"]


def test_leading_globals_and_extra_args_are_kept(project: Path) -> None:
    assert expand(["-v", "shipit", "--format", "json"], COMMANDS) == [
        "-v", "plan", "--detailed-exitcode", "--format", "json",
    ]  # fmt: skip


def test_builtins_and_unknown_names_are_left_alone(project: Path) -> None:
    assert expand(["plan"], COMMANDS) == ["plan"]
    assert expand(["nope"], COMMANDS) == ["nope"]
    assert expand(["-c", "missing.yml", "uname"], COMMANDS) == ["-c", "missing.yml", "uname"]


def test_a_prefix_of_a_command_is_the_command_not_an_alias(project: Path) -> None:
    """Thor dispatches a prefix of one command (``dep``) or of several (``de``) to the
    commands, before it looks for an alias: Kamal 2.11 runs ``config`` for ``con`` even with
    an alias ``con``."""
    text = (project / "config" / "deploy.yml").read_text()
    (project / "config" / "deploy.yml").write_text(text + "  dep: app exec ls\n  de: plan\n")
    assert expand(["dep"], COMMANDS) == ["dep"]
    assert expand(["de"], COMMANDS) == ["de"]
    assert expand(["uname"], COMMANDS)[0] == "app"


def test_thor_forms_of_the_global_options_before_an_alias(project: Path) -> None:
    (project / "config" / "other.yml").write_text(
        (project / "config" / "deploy.yml").read_text().replace("uname:", "whoami:")
    )
    expanded = ["app", "exec", "-p", "-q", "-r", "web", "uname -a"]
    assert expand(["-c=config/other.yml", "whoami"], COMMANDS) == ["-c=config/other.yml", *expanded]
    assert expand(["--config_file=config/other.yml", "whoami"], COMMANDS)[1:] == expanded


def test_the_alias_is_split_as_kamal_splits_it(project: Path) -> None:
    """Ruby's Shellwords, not shlex: ``\\$`` in double quotes is ``$``, a ``#`` is a word."""
    text = (project / "config" / "deploy.yml").read_text()
    (project / "config" / "deploy.yml").write_text(
        text + """  home: 'app exec "echo \\$HOME" # here'\n"""
    )
    assert expand(["home"], COMMANDS) == ["app", "exec", "echo $HOME", "#", "here"]


def test_an_alias_with_a_quote_left_open_is_a_config_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (project / "config" / "deploy.yml").read_text()
    (project / "config" / "deploy.yml").write_text(text + "  open: app exec \"echo 'x\n")
    with pytest.raises(ConfigErrors) as raised:
        expand(["open"], COMMANDS)
    assert str(raised.value) == 'aliases/open: Unmatched quote: "app exec \\"echo \'x"'
    assert cli_main(["open"]) == 1
    assert capsys.readouterr().err == (
        '  ERROR: aliases/open: Unmatched quote: "app exec \\"echo \'x"\n'
    )
