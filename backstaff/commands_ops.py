"""registry, prune, server, audit and remove: Kamal's housekeeping verbs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import click

from backstaff import exec_support, local_registry
from backstaff.adhoc import run_steps, show_on_hosts
from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.global_options import GlobalOptionsGroup, thor_flag
from backstaff.hooks import GroupHooks, hook_env
from backstaff.planner import operations
from backstaff.planner.commands import host as host_cmd
from backstaff.planner.commands import verbs
from backstaff.planner.commands.base import Cmd
from backstaff.planner.commands.words import render
from backstaff.planner.desired import build_desired
from backstaff.planner.model import App
from backstaff.schemas.host_strings import hostname

pass_app = click.make_pass_decorator(AppContext)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Show the steps; change nothing.")


def _app(ctx: AppContext) -> App:
    return build_desired(ctx.config, ctx.options.version or "latest")


@click.group(cls=GlobalOptionsGroup)
def registry() -> None:
    """Log in to (or out of) the registry, here and on the hosts."""


SKIP_LOCAL = click.option("-L", "--skip-local", is_flag=True, help="Skip the local login.")
SKIP_REMOTE = click.option("-R", "--skip-remote", is_flag=True, help="Skip the hosts' login.")


@registry.command()
@SKIP_LOCAL
@SKIP_REMOTE
@DRY_RUN
@pass_app
def setup(ctx: AppContext, skip_local: bool, skip_remote: bool, dry_run: bool) -> None:
    """Run the local registry (localhost:PORT), or log in to the registry here and on every
    selected host (the password on stdin)."""
    app = _app(ctx)
    if app.registry.local:
        if not skip_local:
            _local(ctx, host_cmd.local_registry_setup(app.registry.server or ""), dry_run)
        return
    if not skip_local:
        _local(ctx, host_cmd.login(app.registry), dry_run,
               lambda: local_registry.login_locally(ctx, app.registry))  # fmt: skip
    if not skip_remote:
        steps = [operations.registry_login(app, h) for h in ctx.selection.hosts]
        run_steps(ctx, app, steps, dry_run=dry_run, lock=False)


@registry.command("remove")
@SKIP_LOCAL
@SKIP_REMOTE
@DRY_RUN
@pass_app
def registry_remove(ctx: AppContext, skip_local: bool, skip_remote: bool, dry_run: bool) -> None:
    """Remove the local registry (localhost:PORT), or log out of the registry here and on
    every selected host."""
    app = _app(ctx)
    if app.registry.local:
        if not skip_local:
            command = host_cmd.local_registry_remove()
            _local(ctx, command, dry_run,
                   lambda: local_registry.run_container_command(ctx, command, tolerate=True))  # fmt: skip
        return
    if not skip_local:
        _local(ctx, host_cmd.logout(app.registry), dry_run,
               lambda: local_registry.logout_locally(ctx, app.registry))  # fmt: skip
    if not skip_remote:
        steps = [operations.registry_logout(app, h) for h in ctx.selection.hosts]
        run_steps(ctx, app, steps, dry_run=dry_run, lock=False)


def _local(ctx: AppContext, command: Cmd, dry_run: bool,
           run: Callable[[], None] | None = None) -> None:  # fmt: skip
    """One command run on this machine (shown first with --dry-run or -v)."""
    if dry_run or ctx.options.verbose:
        click.echo(f"  locally: {render(command)}")
    if not dry_run:
        (run or (lambda: local_registry.run_container_command(ctx, command)))()


@registry.command()
@SKIP_LOCAL
@SKIP_REMOTE
@DRY_RUN
@click.pass_context
def login(click_ctx: click.Context, **options: bool) -> None:
    """Log in to the registry here and on every selected host (the password on stdin)."""
    if _app(click_ctx.ensure_object(AppContext)).registry.local:
        raise BackstaffError("Cannot use login command with a local registry."
                             " Use `backstaff registry setup` instead.")  # fmt: skip
    click_ctx.invoke(setup, **options)


@registry.command()
@SKIP_LOCAL
@SKIP_REMOTE
@DRY_RUN
@click.pass_context
def logout(click_ctx: click.Context, **options: bool) -> None:
    """Log out of the registry here and on every selected host."""
    if _app(click_ctx.ensure_object(AppContext)).registry.local:
        raise BackstaffError("Cannot use logout command with a local registry."
                             " Use `backstaff registry remove` instead.")  # fmt: skip
    click_ctx.invoke(registry_remove, **options)


@click.group(cls=GlobalOptionsGroup)
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


@click.group(cls=GlobalOptionsGroup)
def server() -> None:
    """The servers themselves."""


@server.command()
@DRY_RUN
@pass_app
def bootstrap(ctx: AppContext, dry_run: bool) -> None:
    """Install docker where it is missing (root, or sudo for usermod; curl or wget), add the
    SSH user to the docker group, then run the docker-setup hook (inside the lock, as Kamal)."""
    app = _app(ctx)
    hosts = ctx.selection.hosts
    steps = [operations.docker_bootstrap(h) for h in hosts]
    # KAMAL_SUBCOMMAND: none, as the real Kamal 2.11 gives this hook
    hooks = GroupHooks(ctx, app, None, "docker-setup",
                       hook_env(ctx, app, "server", None, hosts), [steps])  # fmt: skip
    run_steps(ctx, app, steps, dry_run=dry_run, hooks=hooks)


@server.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("cmd", nargs=-1, type=click.UNPROCESSED)
@click.option("-i", *thor_flag("--interactive"), default=False,
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
    audited = exec_support.auditor(ctx, app)

    def build(host: str) -> list[Cmd]:
        return [audited(f"Executed cmd '{command}' on {hostname(host)}", verbs.host_shell(command))]

    show_on_hosts(ctx, app, ctx.selection.hosts, build, "App", check=True)


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
@click.option("-y", *thor_flag("--confirmed"), default=False, help="Do not ask.")
@DRY_RUN
@pass_app
def remove(ctx: AppContext, confirmed: bool, dry_run: bool) -> None:
    """Remove the app, kamal-proxy (if no other app uses it), the accessories and the logins."""
    if not dry_run and not confirmed:
        click.confirm("This will remove all containers and images. Are you sure?", abort=True)
    app = _app(ctx)
    steps = [operations.remove_app(app, host) for host in ctx.selection.hosts]
    run_steps(ctx, app, steps, dry_run=dry_run)
