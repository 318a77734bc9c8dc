"""``backstaff upgrade``: Kamal 2.11's upgrade from Kamal 1 (Traefik) to kamal-proxy.

Per host group (every selected host, or one by one with --rolling), as Kamal's ``proxy
upgrade``: the pre-proxy-reboot hook, then on each host the registry login, Traefik's and
any kamal-proxy's containers and images removed; then kamal-proxy booted, the app booted at
``latest`` (the image Kamal 1 tagged; ``--version`` chooses another) on the kamal network and
routed through kamal-proxy, old containers and images pruned; the post-proxy-reboot hook.
Then, as Kamal's ``accessory upgrade all``, every accessory rebooted on the kamal network.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from backstaff.adhoc import run_steps
from backstaff.applying import run_apply
from backstaff.commands_accessory import upgrade_accessories
from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.global_options import thor_flag
from backstaff.hooks import hook_env, step_hook
from backstaff.planner import operations
from backstaff.planner.changes import Action, Change
from backstaff.planner.desired import build_desired
from backstaff.planner.model import App

pass_app = click.make_pass_decorator(AppContext)
UPGRADED_KINDS = ("network", "registry", "proxy", "app", "route")  # proxy boot, app boot


@contextmanager
def only_hosts(ctx: AppContext, hosts: list[str]) -> Iterator[None]:
    """Kamal's ``with_specific_hosts``: the selection narrowed to ``hosts`` for a while."""
    saved = ctx.options.hosts
    ctx.options.hosts = ",".join(hosts)
    ctx.__dict__.pop("selection", None)
    try:
        yield
    finally:
        ctx.options.hosts = saved
        ctx.__dict__.pop("selection", None)


def _booted(change: Change) -> bool:
    return change.kind in UPGRADED_KINDS and change.action is not Action.DELETE


def upgrade_proxy(ctx: AppContext, app: App, hosts: list[str], dry_run: bool) -> None:
    """Kamal's ``proxy upgrade`` on one group of hosts."""
    listed = ",".join(hosts)
    click.echo(f"Upgrading proxy on {listed}...")
    env = hook_env(ctx, app, "upgrade", None, hosts)
    if not dry_run:
        step_hook(ctx, app, "pre-proxy-reboot", env)
    steps = [s for h in hosts for s in (operations.registry_login(app, h),
                                        operations.proxy_upgrade(h))]  # fmt: skip
    run_steps(ctx, app, steps, dry_run=dry_run)
    with only_hosts(ctx, hosts):
        code = run_apply(ctx, app, command="upgrade", auto_approve=True, dry_run=dry_run,
                         only=_booted, pull=False, deploy_hooks=False)  # fmt: skip
    if code:
        raise BackstaffError(f"Upgrading the proxy on {listed} failed")
    if not dry_run:
        step_hook(ctx, app, "post-proxy-reboot", env)
    click.echo(f"Upgraded proxy on {listed}")


@click.command()
@click.option("-y", *thor_flag("--confirmed"), default=False, help="Do not ask.")
@click.option(*thor_flag("--rolling"), default=False, help="Upgrade one host at a time.")
@click.option("--dry-run", is_flag=True, help="Show the steps; change nothing.")
@pass_app
def upgrade(ctx: AppContext, confirmed: bool, rolling: bool, dry_run: bool) -> None:
    """Upgrade from Kamal 1.x: replace Traefik with kamal-proxy, boot the app at `latest`
    behind it and reboot every accessory on the kamal network."""
    if not dry_run and not confirmed:
        click.confirm("This will replace Traefik with kamal-proxy and restart all accessories",
                      abort=True)  # fmt: skip
    app = build_desired(ctx.config, ctx.options.version or "latest")
    app_hosts = {h for role in app.roles for h in role.hosts}
    accessory_hosts = {h for a in app.accessories for h in a.hosts}
    accessories = list(app.accessories)
    if rolling:
        for host in ctx.selection.hosts:
            click.echo(f"Upgrading {host}...")
            with only_hosts(ctx, [host]):
                if host in app_hosts:
                    upgrade_proxy(ctx, app, [host], dry_run)
                if host in accessory_hosts:
                    upgrade_accessories(ctx, app, accessories, "all", False, dry_run)
            click.echo(f"Upgraded {host}")
        return
    click.echo("Upgrading all hosts...")
    upgrade_proxy(ctx, app, list(ctx.selection.hosts), dry_run)
    upgrade_accessories(ctx, app, accessories, "all", False, dry_run)
    click.echo("Upgraded all hosts")
