"""registry, prune, server, audit and remove: Kamal's housekeeping verbs."""

from __future__ import annotations

from dataclasses import replace

import click

from backstaff import exec_support
from backstaff.adhoc import run_steps, show_on_hosts
from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.planner import operations
from backstaff.planner.commands import verbs
from backstaff.planner.desired import build_desired
from backstaff.planner.model import App

pass_app = click.make_pass_decorator(AppContext)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Show the steps; change nothing.")


def _app(ctx: AppContext) -> App:
    return build_desired(ctx.config, ctx.options.version or "latest")


@click.group()
def registry() -> None:
    """Log the hosts in to (or out of) the registry."""


@registry.command()
@DRY_RUN
@pass_app
def login(ctx: AppContext, dry_run: bool) -> None:
    """Log every selected host in to the registry (the password goes on stdin)."""
    app = _app(ctx)
    if app.registry.local:
        raise BackstaffError("a local registry (localhost:PORT) needs no login")
    steps = [operations.registry_login(app, h) for h in ctx.selection.hosts]
    run_steps(ctx, app, steps, dry_run=dry_run, lock=False)


@registry.command()
@DRY_RUN
@pass_app
def logout(ctx: AppContext, dry_run: bool) -> None:
    """Log every selected host out of the registry."""
    app = _app(ctx)
    steps = [operations.registry_logout(app, h) for h in ctx.selection.hosts]
    run_steps(ctx, app, steps, dry_run=dry_run, lock=False)


registry.add_command(login, "setup")
registry.add_command(logout, "remove")


@click.group()
def prune() -> None:
    """Remove old containers and images (keeping retain_containers for rollbacks)."""


def _prune(ctx: AppContext, what: str, retain: int | None, dry_run: bool) -> None:
    app = _app(ctx)
    if retain is not None:
        if retain < 1:
            raise BackstaffError("retain must be at least 1")
        app = replace(app, retain_containers=retain)
    steps = [operations.prune_what(app, host, what) for host in ctx.selection.hosts]
    run_steps(ctx, app, steps, dry_run=dry_run)


@prune.command("all")
@DRY_RUN
@pass_app
def prune_all(ctx: AppContext, dry_run: bool) -> None:
    """Prune stopped containers and unused images."""
    _prune(ctx, "all", None, dry_run)


@prune.command("containers")
@click.option("--retain", type=int, help="Stopped containers to keep (default retain_containers).")
@DRY_RUN
@pass_app
def prune_containers(ctx: AppContext, retain: int | None, dry_run: bool) -> None:
    """Prune stopped containers beyond the newest ones kept."""
    _prune(ctx, "containers", retain, dry_run)


@prune.command("images")
@DRY_RUN
@pass_app
def prune_images(ctx: AppContext, dry_run: bool) -> None:
    """Prune images no container uses (the latest tag is kept)."""
    _prune(ctx, "images", None, dry_run)


@click.group()
def server() -> None:
    """The servers themselves."""


@server.command()
@DRY_RUN
@pass_app
def bootstrap(ctx: AppContext, dry_run: bool) -> None:
    """Install docker where it is missing (needs root and curl or wget)."""
    app = _app(ctx)
    steps = [operations.docker_bootstrap(h) for h in ctx.selection.hosts]
    run_steps(ctx, app, steps, dry_run=dry_run, lock=False)


@server.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("cmd", nargs=-1, type=click.UNPROCESSED)
@click.option("-i", "--interactive", is_flag=True,
              help="Run interactively on the primary host (for a shell).")  # fmt: skip
@pass_app
def server_exec(ctx: AppContext, cmd: tuple[str, ...], interactive: bool) -> None:
    """Run CMD on the selected hosts and show the output."""
    command = exec_support.command_line(cmd, split=False)
    app = _app(ctx)
    if interactive:
        host = ctx.selection.hosts[0]
        exec_support.run_interactive_on(ctx, app, host, verbs.host_shell(command),
                                        message=f"Running '{command}' on {host} interactively...")  # fmt: skip
        return
    show_on_hosts(ctx, app, ctx.selection.hosts, lambda h: [verbs.host_shell(command)], "App")


@click.command()
@click.option("-n", "--lines", type=int, default=50, show_default=True)
@pass_app
def audit(ctx: AppContext, lines: int) -> None:
    """Show the end of the audit log on every host."""
    app = _app(ctx)
    show_on_hosts(
        ctx,
        app,
        ctx.selection.hosts,
        lambda h: [verbs.audit_tail(app, lines)],
        "App",
    )


@click.command()
@click.option("-y", "--confirmed", is_flag=True, help="Do not ask.")
@DRY_RUN
@pass_app
def remove(ctx: AppContext, confirmed: bool, dry_run: bool) -> None:
    """Remove the app, kamal-proxy (if no other app uses it), the accessories and the logins."""
    if not dry_run and not confirmed:
        click.confirm("This will remove all containers and images. Are you sure?", abort=True)
    app = _app(ctx)
    steps = [operations.remove_app(app, host) for host in ctx.selection.hosts]
    run_steps(ctx, app, steps, dry_run=dry_run)
