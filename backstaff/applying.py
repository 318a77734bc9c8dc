"""Apply and Kamal's deploy verbs: plan, show, confirm, walk the steps, summarize."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import replace

import click

from backstaff.console import ConsoleReporter
from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.apply import apply_steps
from backstaff.executors.deploy_lock import DeployLock, stops_interrupt
from backstaff.executors.gather import ConnectionPool, gather
from backstaff.hooks import GroupHooks, hook, hook_env, step_hook
from backstaff.planner.changes import Change
from backstaff.planner.graph import boot_groups
from backstaff.planner.live import LiveState
from backstaff.planner.model import App
from backstaff.planner.plan import Plan, SavedPlan
from backstaff.planner.recording import shareable
from backstaff.planner.render import render
from backstaff.planner.steps import Step
from backstaff.planning import (
    build_plan,
    connection_pool,
    gather_hosts,
    load_graph_library_meanwhile,
    missing_project_files,
)
from backstaff.registry_tunnel import registry_tunnels
from backstaff.runtime import make_runtime, now, unreadable_secrets
from backstaff.saved_plans import check_saved


@contextmanager
def _given_back(lock: DeployLock | None) -> Iterator[None]:
    """The deploy lock given back on the way out, unless the walk gave it back."""
    try:
        yield
    finally:
        error = lock.give_back() if lock is not None else None
        if error:
            click.secho(f"  ERROR: the deploy lock could not be released: {error}. Run `backstaff"
                        " lock release` once it is safe.", fg="red", err=True)  # fmt: skip


def current_plan(
    ctx: AppContext,
    app: App,
    pool: ConnectionPool,
    only: Callable[[Change], bool] | None = None,
    *,
    pull: bool = True,
    prune: bool = True,
    check: Callable[[LiveState], None] | None = None,
    as_recorded: bool = False,
    lock: DeployLock | None = None,
) -> Plan:
    """The plan from one read of the hosts; ``check`` looks at that read first (rollback: the
    version's containers are there), so a verb reads the hosts once, on the connections it
    applies with. ``as_recorded``: its fingerprint is of the state as a recording holds it,
    to match a saved plan made with ``plan --live`` (the plan itself sees everything).
    ``lock`` is taken once the hosts are connected, before they are read."""
    load_graph_library_meanwhile()
    live = gather(app, gather_hosts(ctx), pool, lock.take if lock else None)
    if lock is not None:
        live = lock.read_as_free(live)
    if check is not None:
        check(live)
    plan = build_plan(ctx, app, live, only, pull=pull, prune=prune)
    if as_recorded:
        plan = replace(plan, live_fingerprint=shareable(live, app).fingerprint())
    return plan


def run_apply(
    ctx: AppContext,
    app: App,
    *,
    command: str,
    subcommand: str | None = None,
    auto_approve: bool,
    saved: SavedPlan | None = None,
    json_events: bool = False,
    message: str = "Automatic deploy lock",
    only: Callable[[Change], bool] | None = None,
    dry_run: bool = False,
    pull: bool = True,
    prune: bool = True,
    check: Callable[[LiveState], None] | None = None,
    deploy_hooks: bool = True,
) -> int:
    """Plan, show, confirm, then walk the steps. Returns the exit status. ``only``, ``pull``
    and ``prune`` narrow the plan to what a Kamal verb does (redeploy, rollback); ``check``
    refuses on what the hosts hold (see ``current_plan``); ``deploy_hooks=False``: no
    pre-deploy/post-deploy (``upgrade``'s app boot, which Kamal runs without them)."""
    pool = connection_pool(ctx, app)  # runs pre-connect first
    runtime = make_runtime(ctx, app, pool, message)
    # Taken before the read, as Kamal does: the plan stays true until it is applied.
    lock = DeployLock(app, runtime) if not dry_run and app.primary_host is not None else None
    with closing(pool), _given_back(lock), stops_interrupt():
        started = time.monotonic()
        recorded = saved is not None and saved.plan.recorded is not None
        plan = current_plan(ctx, app, pool, only, pull=pull, prune=prune, check=check,
                            as_recorded=recorded, lock=lock)  # fmt: skip
        if saved is not None:
            # equal in every field: the fresh plan is what runs, never the file's steps
            check_saved(saved, plan, ctx.resolved_secret_values())
        secrets = ctx.resolved_secret_values()
        if not json_events:
            click.echo(render(plan, "text", verbose=ctx.options.verbose, secrets=secrets), nl=False)
        if plan.errors:
            raise BackstaffError("cannot apply: " + "; ".join(f"{h}: {m}" for h, m in plan.errors))
        missing = missing_project_files(plan.steps, ctx.cwd)
        if missing:
            raise BackstaffError("cannot apply: " + "; ".join(missing))
        if plan.lock:
            raise BackstaffError(
                "Deploy lock found (" + plan.lock.splitlines()[0] + "). Run `backstaff lock status`"
                " for details and `backstaff lock release` once it is safe."
            )
        if not plan.has_changes:
            if not json_events:
                click.echo("Nothing to do.")
            return 0
        if lock is not None and not lock.held and any(s.id == lock.acquire.id for s in plan.steps):
            raise BackstaffError(f"cannot apply: the deploy lock could not be taken: {lock.error}")
        unreadable = unreadable_secrets(plan.steps, runtime)
        if unreadable:
            raise BackstaffError("cannot apply: " + "; ".join(unreadable))
        if dry_run:
            return 0
        if not auto_approve:
            if not sys.stdin.isatty():
                raise BackstaffError("no terminal to confirm on: pass -y/--auto-approve to apply")
            if not click.confirm("Apply these changes?", default=False):
                raise click.exceptions.Abort()
        env = hook_env(ctx, app, command, subcommand, ctx.selection.hosts)  # inside the lock

        boots = [s for s in plan.steps if s.kind in ("app", "app_stop")]
        groups = boot_groups(app, {s.host for s in boots})
        by_group = [[s for s in boots if s.host in g] for g in groups]
        boot_hooks = GroupHooks(ctx, app, "pre-app-boot", "post-app-boot", env, by_group)

        installs = {s.id for s in plan.steps if s.kind == "docker"}
        installed: set[str] = set()
        guard = threading.Lock()

        def docker_setup() -> None:
            step_hook(ctx, app, "docker-setup", {**env, "KAMAL_RECORDED_AT": now()})

        def after(step: Step) -> None:
            if step.id.startswith("lock.acquire"):
                if command == "setup" and not installs:  # Kamal's setup: server bootstrap first
                    docker_setup()
                if deploy_hooks:
                    step_hook(ctx, app, "pre-deploy", {**env, "KAMAL_RECORDED_AT": now()})
            if step.kind == "docker":
                pool.get(step.host).close()  # a new session: the docker group counts (Kamal HUPs)
                if command == "setup":
                    with guard:
                        installed.add(step.id)
                        last = installed == installs
                    if last:  # once, after docker is on every host
                        docker_setup()
                else:
                    step_hook(ctx, app, "docker-setup", {**env, "KAMAL_HOSTS": step.host})
            boot_hooks.after(step)

        steps = lock.walked(plan.steps) if lock is not None else plan.steps
        with registry_tunnels(ctx, app, plan.steps):  # a localhost:PORT registry's pulls
            results = apply_steps(steps, dict(plan.depends_on), runtime,
                                  ConsoleReporter(json_events, ctx.options.quiet),
                                  parallelism=app.ssh.max_concurrent_starts, after_step=after,
                                  before_step=boot_hooks.before)  # fmt: skip
        if lock is not None:
            lock.walked_through(results)
        failed = [r for r in results if r.status == "failed"]
        interrupted = any(r.status == "interrupted" for r in results)
        if not json_events and not ctx.options.quiet:
            from tabulate import tabulate  # where used: 10 ms a command without tables saves

            rows = [(r.step.id, r.status, f"{r.seconds:.1f}s" if r.status != "not run" else "")
                    for r in results]  # fmt: skip
            click.echo("\n" + tabulate(rows, headers=("Step", "Result", "Time")))
        runtime_seconds = round(time.monotonic() - started)
        if interrupted:
            click.secho("  Interrupted: running steps were finished, nothing new was started"
                        " and the lock was released. Run `backstaff plan` to see what is"
                        " left.", fg="red", err=True)  # fmt: skip
            return 130
        if failed:
            for result in failed:
                click.secho(f"  ERROR: {result.step.id}: {result.error}", fg="red", err=True)
            not_run = sum(1 for r in results if r.status == "not run")
            said = f"{len(failed)} step(s) failed, {not_run} not run"
            click.secho(f"  Apply failed: {said}. Run `backstaff plan` to see what is left.",
                        fg="red", err=True)  # fmt: skip
            return 1
        if not json_events:
            click.echo(f"Finished all in {runtime_seconds} seconds")
        if deploy_hooks:
            hook(ctx, app, "post-deploy", {**env, "KAMAL_RECORDED_AT": now(),
                                           "KAMAL_LOCK": "false",
                                           "KAMAL_RUNTIME": str(runtime_seconds)})  # fmt: skip
        return 0
