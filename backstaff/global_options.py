"""Kamal's global options, taken before or after the command at any depth.

Kamal (Thor class options) reads ``-d staging`` in ``kamal deploy -d staging`` as readily as in
``kamal -d staging deploy``, and its docs use the second form throughout. The root group
declares each option once (so ``--help`` lists it once); every subcommand and nested group
gets a hidden copy whose value, when given, lands in the same :class:`Options`. The copies are
made when a group resolves the command, for the commands a run uses: made up front for every
command (over 900 options) they cost 15-20 ms of each start.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from backstaff.context import AppContext

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

# (declarations, settings) per option, in the order help lists them.
GLOBAL_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("-c", "--config-file"), {
        "default": "config/deploy.yml", "show_default": True,
        "type": click.Path(path_type=Path), "help": "Path to the config file."}),
    (("-d", "--destination"), {"help": "Destination: also reads config/deploy.<DEST>.yml."}),
    (("-h", "--hosts"), {"help": "Run on these hosts only (comma separated, * wildcards)."}),
    (("-r", "--roles"), {"help": "Run for these roles only (comma separated, * wildcards)."}),
    (("-p", "--primary"), {"is_flag": True, "help": "Run on the primary host only."}),
    (("--version", "version"), {
        "help": "Version to deploy (default: $VERSION, then git HEAD)."}),
    (("-v", "--verbose"), {"is_flag": True, "help": "Show the commands run, and tracebacks."}),
    (("-q", "--quiet"), {"is_flag": True, "help": "Print only errors."}),
    (("-H", "--skip-hooks"), {"is_flag": True, "help": "Do not run hooks."}),
    (("--known-hosts",), {
        "type": click.Path(), "envvar": "BACKSTAFF_KNOWN_HOSTS",
        "help": "known_hosts file for host keys (default ~/.ssh/known_hosts)."}),
    (("--no-trust-new-hosts",), {
        "is_flag": True,
        "help": "Refuse hosts whose key is not in known_hosts (default: record it on first use)."}),
]  # fmt: skip

FLAGS = frozenset(
    d for decls, s in GLOBAL_OPTIONS if s.get("is_flag") for d in decls if d[0] == "-"
)
WITH_VALUE = frozenset(
    d for decls, s in GLOBAL_OPTIONS if not s.get("is_flag") for d in decls if d[0] == "-"
)


def root_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Declare the global options on the root group, where help lists them."""
    for declarations, settings in reversed(GLOBAL_OPTIONS):
        function = click.option(*declarations, **settings)(function)
    return function


class GlobalOptionsGroup(click.Group):
    """A group of backstaff's tree (every one is: ``cls=GlobalOptionsGroup``, and nested
    groups by ``group_class``): the command it resolves takes the global options too."""

    group_class = type  # ``@group.group()`` makes one of this class

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            take_global_options(command)
        return command


class _GlobalCopy(click.Option):
    """A hidden copy of a global option on a subcommand."""


def take_global_options(command: click.Command) -> None:
    """Give ``command`` a hidden copy of each global option, once (one command object may sit
    in two groups)."""
    if any(isinstance(param, _GlobalCopy) for param in command.params):
        return
    taken = {name for param in command.params for name in param.opts}
    for declarations, settings in GLOBAL_OPTIONS:
        flags = [d for d in declarations if d.startswith("-")]
        clash = taken.intersection(flags)
        if clash:
            raise RuntimeError(f"{command.name}: {sorted(clash)} shadows a global option")
        copy = {k: v for k, v in settings.items() if k not in ("default", "envvar")}
        name = "global_" + _field(declarations)  # never the name of a command's own argument
        command.params.append(
            _GlobalCopy([*flags, name], **copy, hidden=True, expose_value=False, callback=_store)
        )


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A global option given after the command overrides the same option given before it."""
    if value is None or value is False:  # the copies have no defaults: not given here
        return value
    app = ctx.find_object(AppContext)
    if app is not None and param.name:
        field = param.name.removeprefix("global_")
        setattr(app.options, field, Path(value) if field == "config_file" else value)
    return value


def _field(declarations: tuple[str, ...]) -> str:
    """The Options field an option sets: its explicit name, else its long flag."""
    names = [d for d in declarations if not d.startswith("-")]
    if names:
        return names[0]
    long = next(d for d in declarations if d.startswith("--"))
    return long[2:].replace("-", "_")
