"""``backstaff app …``: Kamal's app verbs on backstaff's engine."""

from __future__ import annotations

import click

from backstaff.adhoc import run_steps, show_on_hosts
from backstaff.applying import run_apply
from backstaff.context import AppContext
from backstaff.planner import operations
from backstaff.planner.commands import verbs
from backstaff.planner.commands.base import Cmd
from backstaff.planner.desired import build_desired
from backstaff.planner.diff import current_container, version_of
from backstaff.planner.model import App, Role
from backstaff.planner.steps import Step
from backstaff.planning import read_live

pass_app = click.make_pass_decorator(AppContext)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Show the steps; change nothing.")


def _app(ctx: AppContext) -> App:
    return build_desired(ctx.config, ctx.options.version or "latest")


def _pairs(ctx: AppContext, app: App, proxied: bool = False) -> list[tuple[Role, str]]:
    """(role, host) in the selection, primary role first."""
    hosts = set(ctx.selection.hosts)
    return [
        (role, host)
        for role in app.roles
        if role.name in ctx.selection.roles and (role.proxy or not proxied)
        for host in role.hosts
        if host in hosts
    ]


@click.group()
def app() -> None:
    """Manage the app containers."""


@app.command()
@pass_app
def boot(ctx: AppContext) -> None:
    """Boot the version on the app hosts (a deploy without proxy boot or pull)."""
    code = run_apply(ctx, ctx.app, command="app", subcommand="boot", auto_approve=True)
    if code:
        click.get_current_context().exit(code)


@app.command()
@DRY_RUN
@pass_app
def start(ctx: AppContext, dry_run: bool) -> None:
    """Start the most recent app container and point the proxy at it."""
    a = _app(ctx)
    steps = [operations.app_start(a, role, host) for role, host in _pairs(ctx, a)]
    run_steps(ctx, a, steps, dry_run=dry_run)


@app.command()
@DRY_RUN
@pass_app
def stop(ctx: AppContext, dry_run: bool) -> None:
    """Take the app out of the proxy and stop its current container."""
    a = _app(ctx)
    steps = [operations.app_stop(a, role, host) for role, host in _pairs(ctx, a)]
    run_steps(ctx, a, steps, dry_run=dry_run)


@app.command()
@pass_app
def details(ctx: AppContext) -> None:
    """Show the running app containers."""
    a = _app(ctx)
    pairs = _pairs(ctx, a)
    hosts = list(dict.fromkeys(h for _, h in pairs))
    show_on_hosts(
        ctx, a, hosts, lambda h: [verbs.app_details(a, r) for r, x in pairs if x == h], "App"
    )


@app.command()
@pass_app
def containers(ctx: AppContext) -> None:
    """Show every app container, stopped ones too (rollback candidates)."""
    a = _app(ctx)
    show_on_hosts(ctx, a, _hosts(ctx, a), lambda h: [verbs.app_containers(a)], "App")


@app.command()
@pass_app
def images(ctx: AppContext) -> None:
    """Show the app images on the hosts."""
    a = _app(ctx)
    show_on_hosts(ctx, a, _hosts(ctx, a), lambda h: [verbs.app_images(a)], "App")


def _hosts(ctx: AppContext, a: App) -> list[str]:
    return list(dict.fromkeys(h for _, h in _pairs(ctx, a)))


@app.command("version")
@pass_app
def app_version(ctx: AppContext) -> None:
    """Show the version running on each host."""
    a = _app(ctx)
    live = read_live(ctx, a, _hosts(ctx, a))
    for role, host in _pairs(ctx, a):
        container = current_container(a, role, live.host(host))
        click.echo(
            f"App Host: {host} ({role.name})\n{version_of(a, role, container) if container else '-'}\n"
        )


@app.command()
@click.option("-n", "--lines", type=int, default=100, show_default=True)
@click.option("--grep", help="Only lines matching this.")
@pass_app
def logs(ctx: AppContext, lines: int, grep: str | None) -> None:
    """Show the current container's logs."""
    a = _app(ctx)
    pairs = _pairs(ctx, a)
    show_on_hosts(ctx, a, _hosts(ctx, a),
                  lambda h: [verbs.app_logs(a, r, None if grep else lines, grep) for r, x in pairs if x == h],
                  "App")  # fmt: skip


@app.command("exec")
@click.argument("command")
@click.option("--reuse", is_flag=True, help="Run in the current container instead of a new one.")
@pass_app
def app_exec(ctx: AppContext, command: str, reuse: bool) -> None:
    """Run COMMAND in a new container of the version (or in the current one with --reuse)."""
    a = build_desired(ctx.config, ctx.options.version or "latest")
    pairs = _pairs(ctx, a)

    def build(host: str) -> list[Cmd]:
        return [verbs.app_exec_reuse(a, r, command) if reuse else verbs.app_exec(a, r, host, command)
                for r, x in pairs if x == host]  # fmt: skip

    show_on_hosts(ctx, a, _hosts(ctx, a), build, "App")


@app.command()
@DRY_RUN
@pass_app
def remove(ctx: AppContext, dry_run: bool) -> None:
    """Stop and remove the app containers, images and directories on the hosts."""
    a = _app(ctx)
    pairs = _pairs(ctx, a)
    steps = [operations.app_remove_all(a, host, tuple(r for r, h in pairs if h == host))
             for host in _hosts(ctx, a)]  # fmt: skip
    run_steps(ctx, a, steps, dry_run=dry_run)


@app.command("stale_containers")
@click.option("--stop", "stop_them", is_flag=True, help="Stop them.")
@DRY_RUN
@pass_app
def stale_containers(ctx: AppContext, stop_them: bool, dry_run: bool) -> None:
    """List (or stop) running containers of a role other than its current one."""
    a = _app(ctx)
    live = read_live(ctx, a, _hosts(ctx, a))
    steps: list[Step] = []
    for role, host in _pairs(ctx, a):
        state = live.host(host)
        current = current_container(a, role, state)
        for container in state.containers:
            stale = (container.running and container.label("role") == role.name
                     and container.label("service") == a.service and current and container.id != current.id)  # fmt: skip
            if stale:
                click.echo(f"Stale container for role {role.name} on {host}: {container.name}")
                steps.append(operations.app_stop_stale(a, role, host, container.name))
    if stop_them:
        run_steps(ctx, a, steps, dry_run=dry_run)


@app.command()
@click.option("--message", help="Shown to visitors while in maintenance.")
@DRY_RUN
@pass_app
def maintenance(ctx: AppContext, message: str | None, dry_run: bool) -> None:
    """Put the app in maintenance mode: kamal-proxy answers 503 with the message."""
    a = _app(ctx)
    steps = [operations.app_maintenance(a, r, h, message) for r, h in _pairs(ctx, a, proxied=True)]
    run_steps(ctx, a, steps, dry_run=dry_run)


@app.command()
@DRY_RUN
@pass_app
def live(ctx: AppContext, dry_run: bool) -> None:
    """Take the app out of maintenance mode."""
    a = _app(ctx)
    steps = [operations.app_live(a, r, h) for r, h in _pairs(ctx, a, proxied=True)]
    run_steps(ctx, a, steps, dry_run=dry_run)
