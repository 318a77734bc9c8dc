"""``aliases:`` from deploy.yml: ``backstaff console`` runs the command line it stands for.

Global options are taken anywhere (backstaff/global_options.py), so the alias's words simply
replace its name; the config that defines the aliases is found from ``-c``/``-d`` wherever
they stand. The words are the ones Kamal makes of the alias, with Ruby's ``Shellwords``."""

from __future__ import annotations

from pathlib import Path

from backstaff.executors.config_files import load
from backstaff.global_options import FLAGS as FLAG_OPTIONS
from backstaff.global_options import WITH_VALUE as VALUE_OPTIONS
from backstaff.schemas import ConfigErrors
from backstaff.schemas.shell_words import ruby_shellwords
from backstaff.thor_args import is_command_word, option_name


def _split_globals(tokens: list[str]) -> tuple[list[str], list[str], int | None]:
    """Leading global options, the rest, and the index of the first positional token."""
    globals_: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        name = option_name(token.split("=", 1)[0])
        if name in VALUE_OPTIONS:
            width = 1 if "=" in token else 2
            globals_ += tokens[index : index + width]
            index += width
        elif token in FLAG_OPTIONS:
            globals_.append(token)
            index += 1
        else:
            return globals_, tokens[index:], index
    return globals_, [], None


def expand(argv: list[str], commands: set[str]) -> list[str]:
    leading, rest, position = _split_globals(argv)
    if position is None or not rest or rest[0].startswith("-"):
        return argv
    if is_command_word(commands, rest[0]):  # a command, or a prefix of one
        return argv
    options = argv[: argv.index("--")] if "--" in argv else argv
    config_file = _option(options, "-c", "--config-file") or "config/deploy.yml"
    try:
        aliases = (
            load(Path(config_file), _option(options, "-d", "--destination")).data.get("aliases")
            or {}
        )
    except ConfigErrors:
        return argv
    if rest[0] not in aliases:
        return argv
    try:
        words = ruby_shellwords(str(aliases[rest[0]]))
    except ValueError as exc:
        raise ConfigErrors.one(str(exc), f"aliases/{rest[0]}") from None
    return leading + words + rest[1:]


def _option(tokens: list[str], short: str, long: str) -> str | None:
    found = None  # the last one wins, as click does
    for index, token in enumerate(tokens):
        name = option_name(token.split("=", 1)[0])
        if token in (short, long) and index + 1 < len(tokens):
            found = tokens[index + 1]
        elif name in (short, long) and "=" in token:  # --destination=x, and Thor's -d=x
            found = token.split("=", 1)[1]
    return found
