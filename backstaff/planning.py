"""Wiring for plan, drift and details: gather over SSH, resolve what the planner needs, plan."""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import click

from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.gather import ConnectionPool, gather
from backstaff.hooks import pre_connect
from backstaff.planner.changes import Change
from backstaff.planner.diff import current_container, version_of
from backstaff.planner.envfiles import env_file_digests, secret_digests
from backstaff.planner.filters import split_list
from backstaff.planner.live import LiveState
from backstaff.planner.model import App
from backstaff.planner.plan import Plan, config_digest, make_plan
from backstaff.planner.steps import AccessoryTemplate, LocalFile, Step, Upload
from backstaff.schemas import ConfigErrors


def known_hosts_path(ctx: AppContext) -> Path:
    path = (
        ctx.options.known_hosts or os.environ.get("BACKSTAFF_KNOWN_HOSTS") or "~/.ssh/known_hosts"
    )
    return Path(path).expanduser()


def connection_pool(ctx: AppContext, app: App) -> ConnectionPool:
    """Every connection to the hosts comes from here: the pre-connect hook runs first, once."""
    pre_connect(ctx, app)
    key_data = tuple(
        ctx.secrets[entry] if entry in ctx.secrets else entry for entry in app.ssh.key_data
    )
    known_hosts = known_hosts_path(ctx)
    return ConnectionPool(
        app.ssh,
        known_hosts=known_hosts,
        trust_new_hosts=not ctx.options.no_trust_new_hosts,
        key_data=key_data,
        on_new_key=trust_notice(known_hosts),
    )


def trust_notice(known_hosts: Path) -> Callable[[str, str], None]:
    """What a connection says when it records a new host's key (trust on first use)."""

    def trusted(host: str, key: str) -> None:
        click.echo(f"Trusting {host} on first use: recorded its {key} in {known_hosts}"
                   " (--no-trust-new-hosts refuses unknown hosts)", err=True)  # fmt: skip

    return trusted


def gather_hosts(ctx: AppContext, include: str | None = None) -> list[str]:
    return list(dict.fromkeys(list(ctx.selection.hosts) + split_list(include)))


def load_graph_library_meanwhile() -> None:
    """Start loading networkx (about 0.1 s of imports, first needed to order the plan's
    steps) in a thread, for a command about to read the hosts and then apply: that is mostly
    waiting on the network, so the import costs no time of its own. A command that only
    reads (``plan``, ``app details``) loads it only for a plan with steps to order: a drift
    check's plan has none."""
    threading.Thread(target=importlib.import_module, args=("networkx",),
                     name="import networkx").start()  # fmt: skip


def read_live(ctx: AppContext, app: App, hosts: list[str]) -> LiveState:
    pool = connection_pool(ctx, app)
    try:
        return gather(app, hosts, pool)
    finally:
        pool.close()


def envfile_digests_or_note(
    ctx: AppContext, app: App
) -> tuple[dict[tuple[str, str], str], tuple[str, ...]]:
    try:
        return env_file_digests(app, lambda key: ctx.secrets[key]), ()
    except ConfigErrors as exc:
        return {}, (f"env files not compared: {exc}",)


def _keep(ctx: AppContext) -> Callable[[Change], bool] | None:
    """-h/-r/-p narrow the plan to the selected hosts (and, for app changes, roles)."""
    if not (ctx.options.hosts or ctx.options.roles or ctx.options.primary):
        return None
    hosts, roles = set(ctx.selection.hosts), set(ctx.selection.roles)
    return lambda c: c.host in hosts and (c.kind not in ("app", "route") or c.name in roles)


def build_plan(
    ctx: AppContext,
    app: App,
    live: LiveState,
    only: Callable[[Change], bool] | None = None,
    *,
    pull: bool = True,
    prune: bool = True,
) -> Plan:
    """``only`` narrows the plan further (e.g. ``accessory boot db``: that accessory's changes);
    ``pull``/``prune`` as in ``planner.graph.build_graph``."""
    digests, notes = envfile_digests_or_note(ctx, app)
    digest = config_digest(ctx.config.data, ctx.config.destination)
    selected = _keep(ctx)
    keep = selected
    if only is not None:
        keep = (lambda c: only(c) and selected(c)) if selected else only
    secrets = _secret_digests(ctx, app) if digests else {}
    plan = make_plan(app, live, digest, digests, notes, keep=keep, pull=pull, prune=prune,
                     secrets=secrets)  # fmt: skip
    missing = missing_project_files(plan.steps, ctx.cwd)
    return replace(plan, notes=plan.notes + tuple(missing)) if missing else plan


def missing_project_files(steps: tuple[Step, ...], cwd: Path) -> list[str]:
    """The accessory ``files:`` a plan uploads that the project does not have: found before the
    lock is taken, not after the other steps ran (Kamal raises ``Missing file`` at the upload)."""
    return [
        f"{step.id}: missing file {item.source.path} (accessories' files: are read from {cwd})"
        for step in steps
        for item in step.commands
        if isinstance(item, Upload)
        and isinstance(item.source, LocalFile | AccessoryTemplate)
        and not (cwd / item.source.path).is_file()
    ]


def _secret_digests(ctx: AppContext, app: App) -> dict[str, str]:
    """Which secret changed (digests only); empty when the secrets cannot all be read."""
    try:
        return secret_digests(app, lambda key: ctx.secrets[key])
    except ConfigErrors:
        return {}


def running_version(app: App, live: LiveState) -> str:
    """The version running now: the primary role's current container on its first host."""
    for role in app.roles:
        for host in role.hosts:
            container = current_container(app, role, live.host(host))
            if container is not None:
                return version_of(app, role, container)
    raise BackstaffError("no app container is running on any host: nothing to compare (use plan)")
