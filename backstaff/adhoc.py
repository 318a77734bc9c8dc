"""Kamal's imperative verbs on backstaff's engine: read-only commands print each host's
output; mutating ones become steps (shown with --dry-run) run under the deploy lock."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import click

from backstaff.console import ConsoleReporter
from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.apply import apply_steps
from backstaff.executors.ssh import SshError
from backstaff.planner import operations
from backstaff.planner.commands.base import Cmd, join
from backstaff.planner.model import App
from backstaff.planner.render import mask
from backstaff.planner.steps import Step, Upload
from backstaff.planning import connection_pool
from backstaff.runtime import make_runtime


def show_on_hosts(
    ctx: AppContext, app: App, hosts: Iterable[str], build: Callable[[str], list[Cmd]], title: str
) -> None:
    """Run read-only commands on each host and print their output (Kamal's "App Host: x")."""
    pool = connection_pool(ctx, app)
    secrets = ctx.resolved_secret_values()
    try:
        for host in hosts:
            click.echo(f"{title} Host: {host}")
            for command in build(host):
                try:
                    result = pool.get(host).run(join(command), timeout=300)
                except SshError as exc:
                    click.secho(f"  ERROR: {exc}", fg="red", err=True)
                    break
                text = (result.stdout + result.stderr).rstrip()
                if text:
                    click.echo(mask(text, secrets))
            click.echo("")
    finally:
        pool.close()


def step(host: str, name: str, description: str, actions: Iterable[Cmd | Upload],
         audit: str | None = None) -> Step:  # fmt: skip
    return Step(
        f"{name}[{host}]", host, name.split(".")[0], description, 5, tuple(actions), audit=audit
    )


def run_steps(
    ctx: AppContext, app: App, steps: list[Step], *, dry_run: bool, lock: bool = True,
    sequential: bool = False,
) -> None:  # fmt: skip
    """Show the steps; unless --dry-run, run them (hosts in parallel) inside the lock."""
    if not steps:
        click.echo("Nothing to do.")
        return
    chain = list(steps)
    depends: dict[str, tuple[str, ...]] = {}
    previous: dict[str, str] = {}
    for item in steps:
        key = "all" if sequential else item.host
        depends[item.id] = (previous[key],) if key in previous else ()
        previous[key] = item.id
    if lock and app.primary_host:
        acquire, release = operations.lock_acquire(app), operations.lock_release(app)
        for item in steps:
            depends[item.id] = depends[item.id] or (acquire.id,)
        depends[acquire.id] = ()
        depends[release.id] = tuple(s.id for s in steps)
        chain = [acquire, *steps, release]
    if dry_run or ctx.options.verbose:
        click.echo("Steps:" if not dry_run else "Steps (dry run, nothing is changed):")
        for index, item in enumerate(chain, start=1):
            click.echo(f"  {index}. {item.id}: {item.description}")
            for line in item.rendered():
                click.echo(f"       {mask(line, ctx.resolved_secret_values())}")
    if dry_run:
        return
    pool = connection_pool(ctx, app)
    try:
        runtime = make_runtime(ctx, app, pool, "Automatic deploy lock")
        results = apply_steps(
            tuple(chain), depends, runtime, ConsoleReporter(False, ctx.options.quiet)
        )
    finally:
        pool.close()
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise BackstaffError("; ".join(f"{r.step.id}: {r.error}" for r in failed))
