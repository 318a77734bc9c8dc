"""Thor's ``help`` on every group and Kamal's ``tree``: ``kamal help deploy``, ``kamal app help
logs`` and ``kamal tree`` are habits a Kamal user brings; here they print click's help."""

from __future__ import annotations

import click


def help_command(group: click.Group) -> click.Command:
    """``GROUP help [COMMAND...]``: the help of the group, or of the command it names."""

    @click.command("help", help="Describe the commands, or one command.")
    @click.argument("names", nargs=-1)
    @click.pass_context
    def help_(ctx: click.Context, names: tuple[str, ...]) -> None:
        command: click.Command = group
        command_ctx = ctx.parent or ctx
        for name in names:
            found = (
                command.get_command(command_ctx, name) if isinstance(command, click.Group) else None
            )
            if found is None or found.name == "help":
                click.echo(f'Could not find command "{name}".', err=True)
                ctx.exit(1)
            command_ctx = click.Context(found, info_name=found.name, parent=command_ctx)
            command = found
        click.echo(command.get_help(command_ctx))

    return help_


@click.command("tree", help="Print a tree of all available commands.")
@click.pass_context
def tree(ctx: click.Context) -> None:
    root = ctx.find_root()
    assert isinstance(root.command, click.Group)
    click.echo(root.info_name or "backstaff")
    _branch(root.command, root, "  ")


def _branch(group: click.Group, ctx: click.Context, indent: str) -> None:
    names = [n for n in group.list_commands(ctx) if n != "help"]
    for index, name in enumerate(names):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        last = index == len(names) - 1
        click.echo(f"{indent}{'└─' if last else '├─'} {name} ({command.get_short_help_str(80)})")
        if isinstance(command, click.Group):
            below = click.Context(command, info_name=name, parent=ctx)
            _branch(command, below, indent + ("   " if last else "│  "))
