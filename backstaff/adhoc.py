"""Kamal's imperative verbs on backstaff's engine: read-only commands print each host's
output; mutating ones become steps (shown with --dry-run) run under the deploy lock."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import click

from backstaff.console import ConsoleReporter
from backstaff.context import AppContext
from backstaff.errors import BackstaffError, ExitStatus
from backstaff.executors.apply import apply_steps
from backstaff.executors.gather import ConnectionPool
from backstaff.executors.ssh import Result, SshError
from backstaff.hooks import GroupHooks
from backstaff.planner import operations
from backstaff.planner.commands.base import Cmd, join
from backstaff.planner.model import App
from backstaff.planner.render import mask
from backstaff.planner.steps import Step
from backstaff.planning import connection_pool
from backstaff.registry_tunnel import registry_tunnels
from backstaff.runtime import make_runtime
from backstaff.schemas.host_strings import hostname

LOG_OPTIONS = (
    click.option("-s", "--since", help="Show lines since a timestamp (e.g. 2013-01-02T13:23:37Z)"
                 " or relative (e.g. 42m for 42 minutes)."),
    click.option("-n", "--lines", type=int, help="Number of lines to show from each host."),
    click.option("-g", "--grep", help="Show lines with a grep match only (use this to fetch"
                 " specific requests by id)."),
    click.option("-f", "--follow", is_flag=True,
                 help="Follow the log on the primary host (or the first host given with -h)."),
    click.option("-T", "--skip-timestamps", is_flag=True,
                 help="Skip appending timestamps to logging output."),
)  # fmt: skip
GREP_OPTIONS = click.option("--grep-options", help="Additional options supplied to grep.")


def log_options(command: Callable[..., None]) -> Callable[..., None]:
    """Kamal's options of every ``logs`` command: -s/--since, -n/--lines, -g/--grep,
    -f/--follow, -T/--skip-timestamps."""
    for option in reversed(LOG_OPTIONS):
        command = option(command)
    return command


def show_on_hosts(
    ctx: AppContext, app: App, hosts: Iterable[str], build: Callable[[str], list[Cmd]], title: str,
    failed: str | None = None, check: bool = False, pool: ConnectionPool | None = None,
) -> None:  # fmt: skip
    """Run commands on each host and print their output (Kamal's "App Host: x"); ``failed``,
    when given, is printed instead of the output of a command that fails. A host that cannot
    be reached is named and the others still shown, then the exit status is 1 (Kamal's too).
    With ``check`` (the exec verbs), so is a command that exits non-zero: Kamal's ``capture``
    raises on it, and a script running ``app exec`` must see its command fail.

    The hosts run at once, as Kamal's ``on(hosts)``; their output is printed host by host, in
    the order given. ``pool``: the caller's connections (an exec's registry login made them),
    else a pool of its own, closed at the end."""
    own = pool is None
    connections = connection_pool(ctx, app) if pool is None else pool

    def run(host: str) -> list[Result | SshError]:
        done: list[Result | SshError] = []
        for command in build(host):
            try:
                done.append(connections.get(host).run(join(command), timeout=300))
            except SshError as exc:
                done.append(exc)
                break
        return done

    secrets = ctx.resolved_secret_values()
    unreached, failures = False, []
    try:
        for host, results in connections.each_host(hosts, run):
            click.echo(f"{title} Host: {hostname(host)}")  # as SSHKit's host prints itself
            for result in results:
                if isinstance(result, SshError):
                    click.secho(f"  ERROR: {result}", fg="red", err=True)
                    unreached = True
                    continue
                text = (result.stdout + result.stderr).rstrip()
                if failed is not None and not result.ok:
                    text = failed
                if text:
                    click.echo(mask(text, secrets))
                if check and not result.ok:
                    failures.append(f"{host}: the command exited {result.exit_status}")
            click.echo("")
    finally:
        if own:
            connections.close()
    for failure in failures:
        click.secho(f"  ERROR: {failure}", fg="red", err=True)
    if unreached or failures:
        click.get_current_context().exit(ExitStatus.ERROR)


def follow_on_host(ctx: AppContext, app: App, host: str, command: Cmd) -> None:
    """Kamal's ``logs --follow``: print the output of ``command`` on one host as it arrives
    (secrets masked, line by line) until it ends or Ctrl-C, which ends it on the host too
    (executors/ssh.py ``stream``). Exits with the command's status, 130 when interrupted."""
    click.echo(f"Following logs on {host}...", err=True)
    secrets = ctx.resolved_secret_values()
    if ctx.options.verbose:
        click.echo(mask(join(command), secrets), err=True)
    pending = b""

    def show(line: bytes) -> None:
        text = line.decode("utf-8", "replace").removesuffix("\r")  # the terminal's line end
        click.echo(mask(text, secrets))

    def on_output(data: bytes) -> None:
        nonlocal pending
        *lines, pending = (pending + data).split(b"\n")
        for line in lines:
            show(line)

    pool = connection_pool(ctx, app)
    try:
        status = pool.get(host).stream(join(command), on_output)
    except KeyboardInterrupt:
        status = ExitStatus.INTERRUPTED
    finally:
        if pending:
            show(pending)
        pool.close()
    if status:
        click.get_current_context().exit(status)


def step_order(
    steps: list[Step], *, sequential: bool = False, parallel: bool = False
) -> dict[str, tuple[str, ...]]:
    """What each step waits for: the one before it on its host (Kamal's host-first
    ``on_roles``), before it anywhere (``sequential``), or nothing (``parallel``: each role of
    a host on its own, as ``boot.parallel_roles``)."""
    depends: dict[str, tuple[str, ...]] = {}
    previous: dict[str, str] = {}
    for item in steps:
        key = "all" if sequential else item.id if parallel else item.host
        depends[item.id] = (previous[key],) if key in previous else ()
        previous[key] = item.id
    return depends


def run_steps(
    ctx: AppContext, app: App, steps: list[Step], *, dry_run: bool, lock: bool = True,
    sequential: bool = False, hooks: GroupHooks | None = None, parallel: bool = False,
) -> None:  # fmt: skip
    """Show the steps; unless --dry-run, run them (hosts in parallel) inside the lock;
    ``hooks`` around groups of them (proxy reboot's)."""
    if not steps:
        click.echo("Nothing to do.")
        return
    chain = list(steps)
    depends = step_order(steps, sequential=sequential, parallel=parallel)
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
        with registry_tunnels(ctx, app, chain):
            results = apply_steps(
                tuple(chain), depends, runtime, ConsoleReporter(False, ctx.options.quiet),
                before_step=hooks.before if hooks else None,
                after_step=hooks.after if hooks else None,
            )  # fmt: skip
    finally:
        pool.close()
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise BackstaffError("; ".join(f"{r.step.id}: {r.error}" for r in failed))
