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
from backstaff.help_commands import help_command
from backstaff.thor_args import GLOBAL_COPY, thor_command, thor_words

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def thor_flag(long: str) -> tuple[str, str]:
    """The declarations of a boolean option as Thor (Kamal's CLI) takes it: ``--X`` sets it,
    ``--no-X`` and ``--skip-X`` clear it (the last one given wins)."""
    name = long.removeprefix("--")
    return f"--{name}/--no-{name}", f" /--skip-{name}"


# (declarations, settings) per option, in the order help lists them.
GLOBAL_OPTIONS: list[tuple[tuple[str, ...], dict[str, Any]]] = [
    (("-c", "--config-file"), {
        "default": "config/deploy.yml", "show_default": True,
        "type": click.Path(path_type=Path), "help": "Path to the config file."}),
    (("-d", "--destination"), {"help": "Destination: also reads config/deploy.<DEST>.yml."}),
    (("-h", "--hosts"), {"help": "Run on these hosts only (comma separated, * wildcards)."}),
    (("-r", "--roles"), {"help": "Run for these roles only (comma separated, * wildcards)."}),
    (("-p", *thor_flag("--primary")), {"is_flag": True, "help": "Run on the primary host only."}),
    (("--version", "version"), {
        "help": "Version to deploy (default: $VERSION, then git HEAD)."}),
    (("-v", *thor_flag("--verbose")), {
        "is_flag": True, "help": "Show the commands run, and tracebacks."}),
    (("-q", *thor_flag("--quiet")), {"is_flag": True, "help": "Print only errors."}),
    (("-H", "--skip-hooks"), {"is_flag": True, "help": "Do not run hooks."}),
    (("--known-hosts",), {
        "type": click.Path(), "envvar": "BACKSTAFF_KNOWN_HOSTS",
        "help": "known_hosts file for host keys (default ~/.ssh/known_hosts)."}),
    (("--no-trust-new-hosts",), {
        "is_flag": True,
        "help": "Refuse hosts whose key is not in known_hosts (default: record it on first use)."}),
]  # fmt: skip


def option_strings(declarations: tuple[str, ...]) -> list[str]:
    """Every option string the declarations make (``--x/--no-x`` is two), not the name."""
    return [part.strip() for d in declarations for part in d.split("/") if part.strip()[:1] == "-"]


FLAGS = frozenset(
    o for decls, s in GLOBAL_OPTIONS if s.get("is_flag") for o in option_strings(decls)
)
WITH_VALUE = frozenset(
    o for decls, s in GLOBAL_OPTIONS if not s.get("is_flag") for o in option_strings(decls)
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
    backstaff_only: frozenset[str] = frozenset()  # commands Kamal does not have (the root's)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name`` names as Thor dispatches it (a unique prefix, dashes for
        underscores: ``thor_args.thor_command``), with the global options."""
        names = self.list_commands(ctx)
        kamal_names = [name for name in names if name not in self.backstaff_only]
        name = thor_command(names, cmd_name, kamal_names) or cmd_name
        command = super().get_command(ctx, name)
        if command is None and name == "help":  # Thor's help, on every group
            command = help_command(self)
        if command is not None:
            take_global_options(command)
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """No command word (nothing, or only options: ``--version`` without its value, ``-v``)
        prints the group's commands and exits 0, as Thor does."""
        if (
            not self._names_a_command(args)
            and "--help" not in args
            and self.no_args_is_help
            and not ctx.resilient_parsing
        ):
            self._commands_and_exit(ctx)
        return super().parse_args(ctx, thor_words(self, args))

    def _names_a_command(self, args: list[str]) -> bool:
        """Whether a word of ``args`` stands where a command goes (known or not): one that is
        neither an option nor the value of the option before it (a ``--`` with nothing after
        it names none)."""
        takes_value = {
            opt
            for param in self.params
            if isinstance(param, click.Option) and not param.is_flag and not param.count
            for opt in param.opts
        }
        value_next = False
        for index, arg in enumerate(args):
            if value_next:
                value_next = False
            elif arg == "--":
                return index + 1 < len(args)
            elif not arg.startswith("-") or arg == "-":
                return True
            else:
                value_next = arg in takes_value
        return False

    @staticmethod
    def _commands_and_exit(ctx: click.Context) -> None:
        click.echo(ctx.get_help(), color=ctx.color)  # as Thor: the commands, exit 0
        ctx.exit()

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """The command by its own name (``dep`` is ``deploy``), its words as Thor reads them;
        an unknown one fails with Thor's message (exit status 1)."""
        try:
            name, command, rest = super().resolve_command(ctx, args)
        except click.UsageError as exc:
            if not exc.message.startswith("No such command"):
                raise
            click.echo(f'Could not find command "{args[0]}".', err=True)
            ctx.exit(1)
        if command is None:
            return name, command, rest
        if not isinstance(command, GlobalOptionsGroup):  # a group reads them in parse_args
            rest = thor_words(command, rest)
        return command.name, command, rest


class _GlobalCopy(click.Option):
    """A hidden copy of a global option on a subcommand."""


def take_global_options(command: click.Command) -> None:
    """Give ``command`` a hidden copy of each global option, once (one command object may sit
    in two groups)."""
    if any(isinstance(param, _GlobalCopy) for param in command.params):
        return
    taken = {name for param in command.params for name in (*param.opts, *param.secondary_opts)}
    for declarations, settings in GLOBAL_OPTIONS:
        clash = taken.intersection(option_strings(declarations))
        if clash:
            raise RuntimeError(f"{command.name}: {sorted(clash)} shadows a global option")
        copy = {k: v for k, v in settings.items() if k != "envvar"}
        copy["default"] = None  # not given here; a flag's --no-X gives False
        declared = [d for d in declarations if not d.isidentifier()]
        name = GLOBAL_COPY + _field(declarations)  # never the name of a command's own argument
        command.params.append(
            _GlobalCopy([*declared, name], **copy, hidden=True, expose_value=False, callback=_store)
        )


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A global option given after the command overrides the same option given before it."""
    if value is None:  # the copies default to None: not given here
        return value
    app = ctx.find_object(AppContext)
    if app is not None and param.name:
        field = param.name.removeprefix(GLOBAL_COPY)
        setattr(app.options, field, Path(value) if field == "config_file" else value)
    return value


def _field(declarations: tuple[str, ...]) -> str:
    """The Options field an option sets: its explicit name, else its long flag."""
    names = [d for d in declarations if d.isidentifier()]
    if names:
        return names[0]
    long = next(o for o in option_strings(declarations) if o.startswith("--"))
    return long[2:].replace("-", "_")
