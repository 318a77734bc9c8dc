"""``aliases:`` from deploy.yml: ``backstaff console`` runs the command line it stands for.

Kamal accepts global options anywhere; click wants them before the command, so the global
options found in an alias are moved to the front."""

from __future__ import annotations

import shlex
from pathlib import Path

from backstaff.executors.config_files import load
from backstaff.schemas import ConfigErrors

VALUE_OPTIONS = {"-c", "--config-file", "-d", "--destination", "-h", "--hosts", "-r", "--roles",
                 "--version", "--known-hosts"}  # fmt: skip
FLAG_OPTIONS = {"-p", "--primary", "-v", "--verbose", "-q", "--quiet", "-H", "--skip-hooks",
                "--no-trust-new-hosts"}  # fmt: skip


def _split_globals(tokens: list[str]) -> tuple[list[str], list[str], int | None]:
    """Leading global options, the rest, and the index of the first positional token."""
    globals_: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        name = token.split("=", 1)[0]
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
    if position is None or not rest or rest[0] in commands or rest[0].startswith("-"):
        return argv
    config_file = _option(leading, "-c", "--config-file") or "config/deploy.yml"
    try:
        aliases = (
            load(Path(config_file), _option(leading, "-d", "--destination")).data.get("aliases")
            or {}
        )
    except ConfigErrors:
        return argv
    if rest[0] not in aliases:
        return argv
    alias_globals: list[str] = []
    alias_rest: list[str] = []
    tokens = shlex.split(str(aliases[rest[0]]))
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.split("=", 1)[0] in VALUE_OPTIONS and "=" not in token:
            alias_globals += tokens[index : index + 2]
            index += 2
            continue
        (alias_globals if token in FLAG_OPTIONS or token.split("=", 1)[0] in VALUE_OPTIONS
         else alias_rest).append(token)  # fmt: skip
        index += 1
    return leading + alias_globals + alias_rest + rest[1:]


def _option(tokens: list[str], short: str, long: str) -> str | None:
    for index, token in enumerate(tokens):
        if token in (short, long) and index + 1 < len(tokens):
            return tokens[index + 1]
        if token.startswith(long + "="):
            return token.split("=", 1)[1]
    return None
