"""A ``localhost:PORT`` registry reached from the hosts, as Kamal 2.11 reaches it: while the
images are pulled, each pulling host gets an SSH connection of its own whose remote forward
makes the host's 127.0.0.1:PORT the local registry (``kamal-docker-registry``, run by
``registry setup`` or the build)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import click

from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.ssh import SshConnection, SshError
from backstaff.planner.model import App
from backstaff.planner.steps import Step
from backstaff.planning import connection_pool


def local_port(app: App) -> int:
    """The port of ``registry.server: localhost:PORT`` (validated: schemas/registry.py)."""
    return int(str(app.registry.server).rsplit(":", 1)[1])


@contextmanager
def registry_tunnels(
    ctx: AppContext, app: App, steps: tuple[Step, ...] | list[Step]
) -> Iterator[None]:
    """The tunnels up for the hosts of the image pulls in ``steps`` (none without a local
    registry or a pull), down again afterwards, whatever happened."""
    hosts = sorted({s.host for s in steps if s.kind == "pull"})
    if not app.registry.local or not hosts:
        yield
        return
    port = local_port(app)
    if not ctx.options.quiet:
        click.echo(f"Setting up local registry port forwarding to {', '.join(hosts)}...", err=True)
    pool = connection_pool(ctx, app)  # connections of their own, as Kamal's PortForwarding
    try:
        with ThreadPoolExecutor(max_workers=min(len(hosts), app.ssh.max_concurrent_starts)) as run:
            failures = [f for f in run.map(lambda h: _forward(pool.get, h, port), hosts) if f]
        if failures:
            raise BackstaffError("; ".join(failures))
        yield
    finally:
        pool.close()


def _forward(get: Callable[[str], SshConnection], host: str, port: int) -> str | None:
    try:
        get(host).forward_remote(port)
    except SshError as exc:
        return str(exc)
    return None
