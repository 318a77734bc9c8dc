"""``plan``, ``drift`` and ``details``: read the hosts, compare, report."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import click

from backstaff.context import AppContext
from backstaff.errors import BackstaffError, ExitStatus
from backstaff.planner.desired import build_desired
from backstaff.planner.live import LiveState
from backstaff.planner.model import App
from backstaff.planner.plan import Recorded
from backstaff.planner.recording import shareable
from backstaff.planner.render import mask, render
from backstaff.planner.version import RUNNING
from backstaff.planning import build_plan, gather_hosts, read_live, running_version
from backstaff.recordings import (
    load_recording,
    recorded,
    recorded_live,
    write_recording,
)
from backstaff.saved_plans import load_saved

pass_app = click.make_pass_decorator(AppContext)
FORMATS = click.Choice(["text", "json", "markdown"])


def _exit(code: int) -> None:
    if code:
        click.get_current_context().exit(code)


@click.command()
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0: no changes, 1: error, 2: changes.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the plan (JSON, with the live-state fingerprint) for `apply`.",
)
@click.option("--include-hosts", help="Also read these hosts (e.g. removed from the config).")
@click.option(
    "--live",
    "live_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Plan from this recording (`backstaff refresh --out`); connect to nothing.",
)
@pass_app
def plan(ctx: AppContext, fmt: str, detailed_exitcode: bool, out: Path | None,
         include_hosts: str | None, live_file: Path | None) -> None:  # fmt: skip
    """Show what would change on the hosts, without changing anything.

    With ``--version running``: the config at the version running now (what ``drift``
    compares), to review a change of deploy.yml alone. With ``--live FILE``: from the state
    ``refresh`` recorded, with no connection (applying still reads the hosts)."""
    hosts = gather_hosts(ctx, include_hosts)
    read, source = _reader(ctx, live_file)
    if ctx.options.version == RUNNING:
        app, live = _at_running_version(ctx, hosts, read)
    else:
        app = ctx.app
        live = read(app, hosts)
    result = dataclasses.replace(build_plan(ctx, app, live), recorded=source)
    secrets = ctx.resolved_secret_values()
    if out is not None:
        # exactly what `apply PLAN` compares with the plan it makes then
        out.write_text(render(result, "json", secrets=secrets), encoding="utf-8")
    click.echo(render(result, fmt, verbose=ctx.options.verbose, secrets=secrets), nl=False)
    if result.errors:
        _exit(ExitStatus.ERROR)
    if detailed_exitcode and result.has_changes:
        _exit(ExitStatus.CHANGES)


Reader = Callable[[App, list[str]], LiveState]


def _reader(ctx: AppContext, live_file: Path | None) -> tuple[Reader, Recorded | None]:
    """How the plan gets the hosts' state: over SSH, or from a recording (then no
    connection, no pre-connect hook), and where it came from."""
    if live_file is None:
        return (lambda app, hosts: read_live(ctx, app, hosts)), None
    service = str(ctx.config.data["service"])
    recording = load_recording(live_file, service, ctx.config.destination)
    source = recorded(live_file, recording)
    return (lambda _, hosts: recorded_live(live_file, recording, hosts)), source


def _at_running_version(
    ctx: AppContext,
    hosts: list[str],
    read: Reader | None = None,
) -> tuple[App, LiveState]:
    """The config at the version running now (the primary role's current container), and the
    hosts as read (once: the read does not depend on the version)."""
    probe = build_desired(ctx.config, "current")
    live = read(probe, hosts) if read else read_live(ctx, probe, hosts)
    if live.hosts and all(h.error for h in live.hosts):
        raise BackstaffError("; ".join(str(h.error) for h in live.hosts))
    return build_desired(ctx.config, running_version(probe, live)), live


@click.command()
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@pass_app
def drift(ctx: AppContext, fmt: str) -> None:
    """Compare the hosts with the config at the version running now; exit 2 on drift."""
    hosts = gather_hosts(ctx)
    if ctx.options.version in (None, RUNNING):
        app, live = _at_running_version(ctx, hosts)
    else:
        app = build_desired(ctx.config, ctx.options.version)
        live = read_live(ctx, app, hosts)
        if live.hosts and all(h.error for h in live.hosts):
            raise BackstaffError("; ".join(str(h.error) for h in live.hosts))
    version = app.version
    result = build_plan(ctx, app, live)
    secrets = ctx.resolved_secret_values()
    if fmt == "text":
        drifted = result.changes
        lines = [f"Drift check: {result.service} version {version}"]
        lines += [f"! {host}: {message}" for host, message in result.errors]
        if not result.complete:
            lines.append(f"! {result.incomplete_note}")
        if drifted:
            lines.append(f"{len(drifted)} resource(s) drifted:")
            lines += [f"  {c.action.symbol} {c.address}: {'; '.join(c.reasons)}" for c in drifted]
        elif result.complete:
            lines.append("No drift: the hosts match the configuration.")
        else:
            lines.append("No drift on the hosts that could be read.")
        click.echo(mask("\n".join(lines) + "\n", secrets), nl=False)
    else:
        click.echo(render(result, fmt, secrets=secrets), nl=False)
    if result.errors:
        _exit(ExitStatus.ERROR)
    if result.has_changes:
        _exit(ExitStatus.CHANGES)


@click.command()
@pass_app
def details(ctx: AppContext) -> None:
    """Show the containers and proxy routes on every host (from one read per host)."""
    from tabulate import tabulate  # where used: 10 ms a command without tables saves

    probe = build_desired(ctx.config, "current")
    live = read_live(ctx, probe, gather_hosts(ctx))
    services = {probe.service, "kamal-proxy"} | {a.service_name for a in probe.accessories}
    for state in live.hosts:
        click.echo(f"Host {state.host}")
        if state.error:
            click.echo(f"  ! {state.error}\n")
            continue
        rows = [
            (c.name, c.image, c.state, c.short_id)
            for c in state.containers
            if c.label("service") in services or c.name == "kamal-proxy"
        ]
        table = tabulate(rows, headers=("Container", "Image", "State", "ID"), disable_numparse=True)
        click.echo("\n".join(f"  {line}" for line in table.splitlines()) or "  (no containers)")
        if state.routes:
            routes = [(r.service, ",".join(r.hosts) or "*", ",".join(r.paths), r.target, r.state)
                      for r in state.routes]  # fmt: skip
            table = tabulate(routes, headers=("Route", "Host", "Path", "Target", "State"))
            click.echo("\n" + "\n".join(f"  {line}" for line in table.splitlines()))
        if state.lock:
            click.echo(f"  Deploy lock: {state.lock.holder}")
        click.echo("")


@click.command()
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@pass_app
def show(ctx: AppContext, plan_file: Path, fmt: str) -> None:
    """Show a saved plan (`plan --out`) offline: no config, no SSH (-v: every command)."""
    saved = load_saved(plan_file)  # written masked: no secret to mask again
    click.echo(render(saved.plan, fmt, verbose=ctx.options.verbose), nl=False)


@click.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Write the recording here (JSON; env values as digests, no secret).",
)
@click.option("--include-hosts", help="Also read these hosts (e.g. removed from the config).")
@pass_app
def refresh(ctx: AppContext, out: Path, include_hosts: str | None) -> None:
    """Read every host as `plan` does and record the live state, for `plan --live`.

    Exit 1 when a host could not be read (the recording says which, and why)."""
    probe = build_desired(ctx.config, "current")  # what is gathered does not depend on it
    live = read_live(ctx, probe, gather_hosts(ctx, include_hosts))
    recorded_at = write_recording(
        out, str(ctx.config.data["service"]), ctx.config.destination, shareable(live, probe)
    )
    unread = [h for h in live.hosts if h.error]
    for state in unread:
        click.echo(f"! {state.host}: {state.error}", err=True)
    if not ctx.options.quiet:
        click.echo(f"Recorded {len(live.hosts) - len(unread)} of {len(live.hosts)} host(s)"
                   f" at {recorded_at} in {out}")  # fmt: skip
    if unread:
        _exit(ExitStatus.ERROR)
