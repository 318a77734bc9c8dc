"""Every command of the real Kamal 2.11, and every option string it takes, backstaff takes too
(fixtures/kamal-cli/options.json, recorded by fixtures/record_kamal_cli.py from ``kamal tree``
and ``kamal help``): a Kamal user's command line is not refused for its form."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import click
import pytest

from backstaff.cli import cli, main
from backstaff.thor_args import thor_words
from tests.backstaff.test_global_options import _parse
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


def _names_at(prefix: tuple[str, ...]) -> set[str]:
    """Kamal's command names under ``prefix`` (the recording's paths), and Thor's help."""
    return {p.split()[len(prefix)] for p in RECORDED if tuple(p.split()[: len(prefix)]) == prefix
            and len(p.split()) > len(prefix)} | {"help"}  # fmt: skip


def _shortest_unique_prefix(name: str, *name_sets: set[str]) -> str | None:
    for length in range(1, len(name)):
        word = name[:length]
        if all(sum(n.startswith(word) for n in names) == 1 for names in name_sets):
            return word
    return None


def _resolved(words: list[str]) -> str:
    """The path of the command ``words`` run (``dep`` → ``deploy``), as click resolves it."""
    ctx = cli.make_context("backstaff", list(words), resilient_parsing=True)
    command: click.Command = cli
    rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
    path = []
    while isinstance(command, click.Group) and rest:
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        path.append(name)
        ctx = sub.make_context(name, rest, parent=ctx, resilient_parsing=True)
        command, rest = sub, [*getattr(ctx, "_protected_args", []), *ctx.args]
    return " ".join(path)


@pytest.mark.parametrize("path", sorted(RECORDED))
def test_a_command_by_a_prefix_that_names_it_alone(path: str) -> None:
    """Thor runs a command by any prefix naming one command at its level (``kamal dep``,
    ``kamal app cont``): each of Kamal's commands by its shortest prefix that is unique among
    Kamal's names, whatever backstaff adds (``ap`` is app, although backstaff has apply)."""
    *group, name = path.split()
    word = _shortest_unique_prefix(name, _names_at(tuple(group))) or name
    assert _resolved([*group, word]) == WHERE.get(path, path).removesuffix(" set")


def test_backstaff_only_names_the_commands_kamal_does_not_have() -> None:
    """The root's commands less Kamal's (and Thor's tree): what a prefix reaches last."""
    kamal = _names_at(()) | {"tree"}
    assert cli.backstaff_only == set(cli.list_commands(click.Context(cli))) - kamal


@pytest.mark.parametrize(
    "word,path",
    [("ap", "app"), ("v", "version"), ("pl", "plan"), ("dr", "drift"), ("val", "validate")],
)
def test_a_prefix_reads_kamals_commands_first(word: str, path: str) -> None:
    assert _resolved([word]) == path


@pytest.mark.parametrize(
    "words,path",
    [(["app", "stale-containers"], "app stale_containers"),
     (["proxy", "boot-config", "get"], "proxy boot_config get"),
     (["lock", "stat"], "lock status"), (["conf"], "config")],
)  # fmt: skip
def test_dashes_for_underscores_and_prefixes(words: list[str], path: str) -> None:
    assert _resolved(words) == path


@pytest.mark.parametrize(
    "words,matches",
    [(["de"], "deploy, details"), (["app", "s"], "stale_containers, start, stop"),
     (["help", "de"], "deploy, details"), (["re"], "redeploy, registry, remove")],
)  # fmt: skip
def test_an_ambiguous_prefix_fails_with_thors_message(
    words: list[str], matches: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kamal's message, naming Kamal's commands (``re`` is not also refresh's)."""
    assert main(words) == 1
    err = capsys.readouterr().err
    assert f"Ambiguous command {words[-1]} matches [{matches}]" in err


@pytest.mark.parametrize(
    "args,field,value",
    [
        (["-d=staging", "app", "logs"], "destination", "staging"),
        (["app", "logs", "-d=staging"], "destination", "staging"),
        (["deploy", "-c=config/x.yml"], "config_file", Path("config/x.yml")),
        (["deploy", "-h=10.0.0.1,10.0.0.2"], "hosts", "10.0.0.1,10.0.0.2"),
        (["deploy", "--config_file=config/x.yml"], "config_file", Path("config/x.yml")),
        (["deploy", "--skip_hooks"], "skip_hooks", True),
        (["deploy", "-H=true"], "skip_hooks", True),
        (["deploy", "-H=false"], "skip_hooks", False),
        (["-q", "deploy", "-q=false"], "quiet", False),
        (["-v", "deploy", "--verbose=false"], "verbose", False),
        (["deploy", "--no_verbose", "--verbose=true"], "verbose", True),
        (["-p", "app", "--no_primary", "logs"], "primary", False),
        (["deploy", "-q", "true"], "quiet", True),  # a boolean option's value, as Thor reads it
        (["-q", "deploy", "-q", "f"], "quiet", False),
        (["-v", "FALSE", "deploy"], "verbose", False),
        (["deploy", "--no-verbose", "T"], "verbose", True),  # Thor's: the value decides
    ],
)
def test_thor_forms_of_the_global_options(args: list[str], field: str, value: object) -> None:
    assert getattr(_parse(args), field) == value


@pytest.mark.parametrize(
    "args,field,value",
    [
        (["--grep", "-d=x"], "grep", "-d=x"),  # the value of the option before it
        (["-n=20"], "lines", 20),
        (["--since=1h", "-f=true"], "follow", True),
        (["-T=false", "-g=a=b"], "grep", "a=b"),
    ],
)
def test_thor_forms_of_a_commands_options(args: list[str], field: str, value: object) -> None:
    command = _command("app logs")
    assert command is not None
    ctx = command.make_context("logs", thor_words(command, list(args)), resilient_parsing=True)
    assert ctx.params[field] == value


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--reuse", "true"], ([], True)),  # Kamal: "No command provided"
        (["--reuse", "-r", "web", "true"], ([], True)),  # the global options read first
        (["--reuse", "-r=web", "-p", "t", "ls"], (["ls"], True)),  # -p's value, not --reuse's
        (["--reuse", "-p", "f", "ls"], (["ls"], True)),
        (["--reuse", "false", "ls"], (["ls"], False)),
        (["--no-reuse", "true", "ls"], (["ls"], True)),
        (["--reuse", "ls", "true"], (["ls", "true"], True)),
        (["ls", "--", "--reuse", "true"], (["ls", "--reuse", "true"], False)),
        (["true"], (["true"], False)),
    ],
)
def test_a_flag_takes_a_true_or_false_word_for_its_value_as_thor_does(
    args: list[str], expected: tuple[list[str], bool]
) -> None:
    """Thor takes ``true``/``t``/``TRUE``/``T`` (``false``...) after a boolean option for its
    value: ``kamal app exec --reuse true`` (checked with Kamal 2.11) has no command."""
    command = _command("app exec")
    assert command is not None
    ctx = command.make_context("exec", thor_words(command, list(args)), resilient_parsing=True)
    assert (list(ctx.params["cmd"]), ctx.params["reuse"]) == expected


def test_nothing_after_the_double_dash_is_read() -> None:
    command = _command("app exec")
    assert command is not None
    assert thor_words(command, ["-i=true", "--", "-i=true", "--reuse=false"]) == [
        "-i", "--", "-i=true", "--reuse=false",
    ]  # fmt: skip


@pytest.mark.parametrize("words", [[], ["app"], ["proxy", "boot_config"]])
def test_a_group_alone_lists_its_commands_and_succeeds(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``kamal app`` prints the app commands and exits 0 (click 8.2 on its own: exit 2)."""
    assert main(words) == 0
    out = capsys.readouterr().out
    assert out.startswith(" ".join(["Usage: backstaff", *words])) and "Commands:" in out


@pytest.mark.parametrize(
    "words,group",
    [(["--version"], []), (["-v"], []), (["-d", "staging"], []), (["-d", "de"], []),
     (["-q", "app"], ["app"]), (["app", "-v"], ["app"]), (["-d=staging"], []),
     (["--"], []), (["app", "--"], ["app"])],
)  # fmt: skip
def test_options_without_a_command_list_the_commands_as_thor_does(
    words: list[str], group: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """``kamal --version`` and ``kamal -v`` print Kamal's commands and exit 0 (checked with the
    real kamal); click alone asked for the option's value or said "Missing command"."""
    assert main(words) == 0
    out = capsys.readouterr().out
    assert out.startswith(" ".join(["Usage: backstaff", *group])) and "Commands:" in out


@pytest.mark.parametrize("words", [["nope"], ["-d", "staging", "nope"], ["-v", "app", "nope"]])
def test_an_unknown_command_fails_with_thors_message(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """As the real kamal: ``Could not find command "nope".`` on stderr, exit status 1, at any
    level and after options."""
    assert main(words) == 1
    assert capsys.readouterr().err == 'Could not find command "nope".\n'


def test_options_before_the_first_command_word_run_it_where_thor_prints_its_help(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real Kamal 2.11, given an option before the command (``kamal -v config``), runs its
    ``help`` for that command instead: the usage, exit 0, nothing done. backstaff runs the
    command, as it runs its own (``backstaff --version v1 plan``): docs/kamal-differences.md."""
    example = FIXTURES / "example"
    kamal = subprocess.run(["kamal", "-v", "config"], cwd=example, capture_output=True, text=True,
                           timeout=120, env={**os.environ, "VERSION": "v1"})  # fmt: skip
    assert kamal.returncode == 0
    assert kamal.stdout.startswith("Usage:\n  kamal config\n") and "service" not in kamal.stdout
    monkeypatch.chdir(example)
    assert main(["-v", "config"]) == 0
    assert "service: tb" in capsys.readouterr().out
