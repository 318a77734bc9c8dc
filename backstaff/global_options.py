"""Kamal's global options, taken before or after the command at any depth.

Kamal (Thor class options) reads ``-d staging`` in ``kamal deploy -d staging`` as readily as in
``kamal -d staging deploy``, and its docs use the second form throughout. The root group
declares each option once (so ``--help`` lists it once); every subcommand and nested group
gets a hidden copy whose value, when given, lands in the same :class:`Options`.
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


def spread(group: click.Group, done: set[int] | None = None) -> None:
    """Give every subcommand of ``group``, at every depth, a hidden copy of each option."""
    done = set() if done is None else done
    for command in group.commands.values():
        if id(command) in done:  # one command object may sit in two groups
            continue
        done.add(id(command))
        taken = {name for param in command.params for name in param.opts}
        for declarations, settings in GLOBAL_OPTIONS:
            flags = [d for d in declarations if d.startswith("-")]
            clash = taken.intersection(flags)
            if clash:
                raise RuntimeError(f"{command.name}: {sorted(clash)} shadows a global option")
            copy = {k: v for k, v in settings.items() if k not in ("default", "envvar")}
            name = "global_" + _field(declarations)  # never the name of a command's own argument
            command.params.append(
                click.Option(
                    [*flags, name],
                    **copy,
                    hidden=True,
                    expose_value=False,
                    callback=_store,
                )
            )
        if isinstance(command, click.Group):
            spread(command, done)


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
