"""``apply`` and Kamal's deploy verbs (deploy, setup, redeploy, rollback) and the lock."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from backstaff.applying import run_apply
from backstaff.commands_build import build_and_push
from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.gather import ConnectionPool
from backstaff.executors.ssh import SshConnection
from backstaff.global_options import GlobalOptionsGroup
from backstaff.planner.changes import Action, Change
from backstaff.planner.commands import host as host_cmd
from backstaff.planner.commands.base import join
from backstaff.planner.commands.words import render
from backstaff.planner.desired import build_desired
from backstaff.planner.diff import current_container
from backstaff.planner.live import LiveState
from backstaff.planner.model import App
from backstaff.planning import connection_pool
from backstaff.runtime import lock_details
from backstaff.saved_plans import load_saved

pass_app = click.make_pass_decorator(AppContext)
AUTO_APPROVE = click.option("-y", "--auto-approve", is_flag=True, help="Apply without asking.")
JSON_EVENTS = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                           help="json: one JSON event per line (for CI).")  # fmt: skip
DRY_RUN = click.option(
    "--dry-run", is_flag=True, help="Show the plan (-v: every command); change nothing."
)
SKIP_PUSH = click.option("-P", "--skip-push", is_flag=True,
                         help="Use the image already in the registry (no build).")  # fmt: skip


def _finish(code: int) -> None:
    if code:
        click.get_current_context().exit(code)


NO_CACHE = click.option(
    "--no-cache", is_flag=True, help="Build without using Docker's build cache."
)


def _build_unless(skip_push: bool, ctx: AppContext, dry_run: bool = False,
                  no_cache: bool = False) -> None:  # fmt: skip
    """Kamal builds and pushes before taking the lock, unless -P/--skip-push."""
    if not skip_push and not dry_run:
        build_and_push(ctx, ctx.app, no_cache=no_cache)


@click.command()
@click.argument("plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@AUTO_APPROVE
@JSON_EVENTS
@pass_app
def apply(ctx: AppContext, plan_file: Path | None, auto_approve: bool, fmt: str) -> None:
    """Plan, show the plan, ask, then apply it; or apply a saved PLAN_FILE if still current."""
    saved = load_saved(plan_file) if plan_file else None
    app = build_desired(ctx.config, saved.plan.version) if saved else ctx.app
    _finish(run_apply(ctx, app, command="apply", auto_approve=auto_approve, saved=saved,
                      json_events=fmt == "json"))  # fmt: skip


def app_only(change: Change) -> bool:
    """What Kamal's redeploy and rollback touch: the app's containers and their routes (no
    proxy, accessories, network, removed roles or stale containers)."""
    return change.kind in ("app", "route") and change.action is not Action.DELETE


def _deploy_verb(name: str, doc: str, only: Callable[[Change], bool] | None = None,
                 prune: bool = True) -> click.Command:  # fmt: skip
    """deploy, redeploy and setup: build (unless -P), then apply the plan for the version.
    The plan itself decides what each needs (setup's includes network, proxy, accessories);
    redeploy's is narrowed to the app (``only``) and prunes nothing, as Kamal's."""

    @click.command(name, help=doc)
    @SKIP_PUSH
    @NO_CACHE
    @JSON_EVENTS
    @DRY_RUN
    @pass_app
    def verb(ctx: AppContext, skip_push: bool, no_cache: bool, fmt: str, dry_run: bool) -> None:
        _build_unless(skip_push, ctx, dry_run, no_cache)
        _finish(run_apply(ctx, ctx.app, command=name, auto_approve=True, json_events=fmt == "json",
                          dry_run=dry_run, only=only, prune=prune))  # fmt: skip

    return verb


deploy = _deploy_verb(
    "deploy", "Deploy the version: the plan for it, applied at once (as `kamal deploy`)."
)
redeploy = _deploy_verb(
    "redeploy",
    "Deploy the app only: pull, boot, tag; no proxy, accessories or prune (as `kamal redeploy`).",
    only=lambda c: app_only(c) or c.kind == "registry",
    prune=False,
)
setup = _deploy_verb(
    "setup", "Set up fresh hosts and deploy: network, login, proxy, accessories, app."
)


@click.command()
@click.argument("version")
@JSON_EVENTS
@DRY_RUN
@pass_app
def rollback(ctx: AppContext, version: str, fmt: str, dry_run: bool) -> None:
    """Go back to VERSION, whose containers must still be on the hosts (as `kamal rollback`):
    booted from the image already there (nothing pulled, nothing pruned)."""
    app = build_desired(ctx.config, version)
    selected_hosts, selected_roles = set(ctx.selection.hosts), set(ctx.selection.roles)

    def available(live: LiveState) -> None:
        """The version's container on every selected host of every selected role."""
        for role in app.roles:
            if role.name not in selected_roles:
                continue
            for host in role.hosts:
                if host not in selected_hosts:
                    continue
                state = live.host(host)
                if state.error:
                    raise BackstaffError(f"{host}: {state.error}")
                if state.container(role.container_name(version)) is None and not (
                    (current := current_container(app, role, state))
                    and current.name == role.container_name(version)
                ):
                    raise BackstaffError(
                        f"The app version '{version}' is not available as a container on {host}"
                        " (use `backstaff app containers` for available versions)"
                    )

    # one read of the hosts for the check and the plan, on the connections it applies with
    _finish(run_apply(ctx, app, command="rollback", auto_approve=True, json_events=fmt == "json",
                      dry_run=dry_run, only=app_only, pull=False, prune=False,
                      check=available))  # fmt: skip


@click.group(cls=GlobalOptionsGroup)
def lock() -> None:
    """The deploy lock on the primary host (Kamal's, compatible with `kamal lock`)."""


def _primary(ctx: AppContext) -> tuple[App, ConnectionPool, SshConnection]:
    app = build_desired(ctx.config, ctx.options.version or "-")
    if app.primary_host is None:
        raise BackstaffError("no primary host")
    pool = connection_pool(ctx, app)
    return app, pool, pool.get(app.primary_host)


@lock.command("status")
@pass_app
def lock_status(ctx: AppContext) -> None:
    """Show who holds the lock, if anyone."""
    app, pool, ssh = _primary(ctx)
    try:
        result = ssh.run(render(host_cmd.lock_details(app)))
    finally:
        pool.close()
    click.echo(result.stdout.rstrip() if result.ok else "There is no deploy lock")


@lock.command("acquire")
@click.option("-m", "--message", required=True, help="Why the lock is taken.")
@DRY_RUN
@pass_app
def lock_acquire(ctx: AppContext, message: str, dry_run: bool) -> None:
    """Take the deploy lock."""
    if dry_run:
        app = build_desired(ctx.config, "-")
        click.echo(
            f"Would take the deploy lock on {app.primary_host}: {join(host_cmd.lock_acquire(app))}"
        )
        return
    app, pool, ssh = _primary(ctx)
    version = ctx.options.version or "-"
    try:
        ssh.run("mkdir -p .kamal")
        details = lock_details(ctx, version, message)
        result = ssh.run(render(host_cmd.lock_acquire(app), lambda name: details))
        if not result.ok:
            held = ssh.run(render(host_cmd.lock_details(app))).stdout.strip()
            raise BackstaffError(f"Deploy lock already in place!\n{held}")
    finally:
        pool.close()
    click.echo(f"Acquired the deploy lock on {app.primary_host}")


@lock.command("release")
@DRY_RUN
@pass_app
def lock_release(ctx: AppContext, dry_run: bool) -> None:
    """Release the deploy lock."""
    if dry_run:
        app = build_desired(ctx.config, "-")
        click.echo(
            f"Would release the deploy lock on {app.primary_host}: {join(host_cmd.lock_release(app))}"
        )
        return
    app, pool, ssh = _primary(ctx)
    try:
        result = ssh.run(join(host_cmd.lock_release(app)))
    finally:
        pool.close()
    click.echo("Released the deploy lock" if result.ok else "There is no deploy lock")
