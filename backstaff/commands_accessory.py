"""``backstaff accessory …``: Kamal's accessory verbs."""

from __future__ import annotations

from collections.abc import Callable

import click

from backstaff import exec_support
from backstaff.adhoc import GREP_OPTIONS, follow_on_host, log_options, run_steps, show_on_hosts
from backstaff.applying import run_apply
from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.global_options import GlobalOptionsGroup, thor_flag
from backstaff.planner import operations
from backstaff.planner.commands import verbs
from backstaff.planner.commands.base import Cmd
from backstaff.planner.desired import build_desired
from backstaff.planner.model import Accessory, App
from backstaff.planner.steps import Step

pass_app = click.make_pass_decorator(AppContext)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Show the steps; change nothing.")
NAME = click.argument("name")


def _chosen(ctx: AppContext, name: str) -> tuple[App, list[Accessory]]:
    app = build_desired(ctx.config, ctx.options.version or "latest")
    if name == "all":
        return app, list(app.accessories)
    found = [a for a in app.accessories if a.name == name]
    if not found:
        names = ", ".join(a.name for a in app.accessories) or "none"
        raise BackstaffError(f"No accessory by the name of '{name}' (accessories: {names})")
    return app, found


def _hosts(ctx: AppContext, accessory: Accessory) -> list[str]:
    selected = set(ctx.selection.hosts) if ctx.options.hosts else None
    return [h for h in accessory.hosts if selected is None or h in selected]


def _steps(ctx: AppContext, accessories: list[Accessory],
           build: Callable[[Accessory, str], Step]) -> list[Step]:  # fmt: skip
    return [build(accessory, host) for accessory in accessories for host in _hosts(ctx, accessory)]


def _fixed(commands: list[Cmd]) -> Callable[[str], list[Cmd]]:
    """The same commands on every host."""
    return lambda host: commands


@click.group(cls=GlobalOptionsGroup)
def accessory() -> None:
    """Manage accessories (NAME, or all)."""


@accessory.command()
@NAME
@pass_app
def boot(ctx: AppContext, name: str) -> None:
    """Boot the accessory where it is not running (the plan for it, applied)."""
    app, chosen = _chosen(ctx, name)
    names = {a.name for a in chosen}
    code = run_apply(ctx, app, command="accessory", subcommand="boot", auto_approve=True,
                     only=lambda c: c.kind == "accessory" and c.name in names)  # fmt: skip
    if code:
        click.get_current_context().exit(code)


@accessory.command()
@NAME
@DRY_RUN
@pass_app
def reboot(ctx: AppContext, name: str, dry_run: bool) -> None:
    """Pull the image, then stop, remove and boot the accessory again."""
    app, chosen = _chosen(ctx, name)

    run_steps(ctx, app, reboot_steps(ctx, app, chosen), dry_run=dry_run)


def reboot_steps(ctx: AppContext, app: App, chosen: list[Accessory]) -> list[Step]:
    """Kamal's ``accessory reboot``: per accessory and host, the log in to its registry (the
    app's when it has none) and the kamal network (Kamal's prepare), then pull, stop, remove
    and boot."""
    steps: dict[str, Step] = {}  # one log in per host and registry
    for a in chosen:
        for host in _hosts(ctx, a):
            for step in (operations.accessory_registry_login(app, a, host),
                         operations.network_create(host),
                         operations.accessory_reboot(app, a, host)):  # fmt: skip
                steps.setdefault(step.id, step)
    return list(steps.values())


@accessory.command()
@NAME
@DRY_RUN
@pass_app
def start(ctx: AppContext, name: str, dry_run: bool) -> None:
    """Start the accessory container (and deploy its kamal-proxy route, with proxy:)."""
    app, chosen = _chosen(ctx, name)
    steps = _steps(ctx, chosen, lambda a, host: operations.accessory_start(app, a, host))
    run_steps(ctx, app, steps, dry_run=dry_run)


@accessory.command()
@NAME
@DRY_RUN
@pass_app
def stop(ctx: AppContext, name: str, dry_run: bool) -> None:
    """Stop the accessory container (and remove its kamal-proxy route, with proxy:)."""
    app, chosen = _chosen(ctx, name)
    steps = _steps(ctx, chosen, operations.accessory_stop)
    run_steps(ctx, app, steps, dry_run=dry_run)


@accessory.command()
@NAME
@DRY_RUN
@pass_app
def restart(ctx: AppContext, name: str, dry_run: bool) -> None:
    """Stop, then start the accessory container."""
    app, chosen = _chosen(ctx, name)
    steps = _steps(ctx, chosen, lambda a, host: operations.accessory_restart(app, a, host))
    run_steps(ctx, app, steps, dry_run=dry_run)


@accessory.command()
@NAME
@pass_app
def details(ctx: AppContext, name: str) -> None:
    """Show the accessory container."""
    app, chosen = _chosen(ctx, name)
    for a in chosen:
        show_on_hosts(ctx, app, _hosts(ctx, a), _fixed([verbs.accessory_details(a)]), "Accessory")


@accessory.command()
@NAME
@log_options
@GREP_OPTIONS
@pass_app
def logs(ctx: AppContext, name: str, since: str | None, lines: int | None, grep: str | None,
         follow: bool, skip_timestamps: bool, grep_options: str | None) -> None:  # fmt: skip
    """Show the accessory's log lines on each of its hosts (the last 100, or 10 when following,
    unless -n, --since or --grep chooses)."""
    app, chosen = _chosen(ctx, name)

    def build(a: Accessory) -> Cmd:
        return verbs.accessory_logs(a, lines, grep, since=since, grep_options=grep_options,
                                    timestamps=not skip_timestamps, follow=follow)  # fmt: skip

    if follow:
        if len(chosen) != 1:
            raise BackstaffError("Follow the logs of one accessory at a time (not all)")
        hosts = _hosts(ctx, chosen[0])
        if not hosts:
            raise BackstaffError(f"No host of accessory {chosen[0].name} selected")
        follow_on_host(ctx, app, hosts[0], build(chosen[0]))  # its first host, as in Kamal
        return
    for a in chosen:
        show_on_hosts(ctx, app, _hosts(ctx, a), _fixed([build(a)]), "Accessory")


@accessory.command("exec", context_settings={"ignore_unknown_options": True})
@NAME
@click.argument("cmd", nargs=-1, type=click.UNPROCESSED)
@click.option("-i", *thor_flag("--interactive"), default=False,
              help="Run interactively on the accessory's first host (for a console or a shell).")  # fmt: skip
@click.option(
    *thor_flag("--reuse"), default=False, help="Run in the running container instead of a new one."
)
@pass_app
def accessory_exec(ctx: AppContext, name: str, cmd: tuple[str, ...], interactive: bool,
                   reuse: bool) -> None:  # fmt: skip
    """Run CMD in a new container of the accessory (or in the running one with --reuse)."""
    command = exec_support.command_line(cmd)
    app, chosen = _chosen(ctx, name)
    build = verbs.accessory_exec if reuse else verbs.accessory_exec_new
    if interactive:
        hosts = [(a, h) for a in chosen for h in _hosts(ctx, a)]
        if len(chosen) != 1 or not hosts:
            raise BackstaffError("An interactive exec runs on one host of one accessory")
        a, host = hosts[0]
        where = "existing" if reuse else "new"
        exec_support.run_interactive_on(
            ctx, app, host, build(a, command, interactive=True, tty=exec_support.local_terminal()),
            message=f"Launching interactive command via SSH from {where} container on {host}...",
            login=not reuse,
        )  # fmt: skip
        return
    audited = exec_support.auditor(ctx, app)
    with exec_support.host_connections(ctx, app) as pool:
        for a in chosen:
            if not reuse:
                exec_support.registry_login(ctx, app, pool, _hosts(ctx, a))
            run = audited(f"Executed cmd '{command}' on {a.name} accessory", build(a, command))
            show_on_hosts(ctx, app, _hosts(ctx, a), _fixed([run]), "Accessory", check=True,
                          pool=pool)  # fmt: skip


@accessory.command()
@NAME
@click.option("-y", *thor_flag("--confirmed"), default=False, help="Do not ask.")
@DRY_RUN
@pass_app
def remove(ctx: AppContext, name: str, confirmed: bool, dry_run: bool) -> None:
    """Remove the accessory container, its image and its data directory."""
    app, chosen = _chosen(ctx, name)
    if not dry_run and not confirmed:
        click.confirm(f"This will remove all containers, images and data directories for {name}."
                      " Are you sure?", abort=True)  # fmt: skip

    steps = _steps(ctx, chosen, operations.accessory_remove_all)
    run_steps(ctx, app, steps, dry_run=dry_run)


@accessory.command()
@NAME
@click.option(*thor_flag("--rolling"), default=False, help="One host at a time.")
@click.option("-y", *thor_flag("--confirmed"), default=False, help="Do not ask.")
@DRY_RUN
@pass_app
def upgrade(ctx: AppContext, name: str, rolling: bool, confirmed: bool, dry_run: bool) -> None:
    """Kamal 1 to 2: reboot the accessory (or all) on the kamal network."""
    if not dry_run and not confirmed:
        click.confirm("This will restart all accessories", abort=True)
    app, chosen = _chosen(ctx, name)
    upgrade_accessories(ctx, app, chosen, name, rolling, dry_run)


def upgrade_accessories(ctx: AppContext, app: App, chosen: list[Accessory], name: str,
                        rolling: bool, dry_run: bool) -> None:  # fmt: skip
    """Kamal's ``accessory upgrade``: a reboot on every accessory host, or host by host."""
    selected = set(ctx.selection.hosts)
    hosts = [h for h in dict.fromkeys(h for a in app.accessories for h in a.hosts) if h in selected]
    steps = reboot_steps(ctx, app, chosen)
    for group in [[h] for h in hosts] if rolling else [hosts]:
        listed = ",".join(group)
        click.echo(f"Upgrading {name} accessories on {listed}...")
        run_steps(ctx, app, [s for s in steps if s.host in group], dry_run=dry_run)
        click.echo(f"Upgraded {name} accessories on {listed}...")
