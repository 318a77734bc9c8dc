"""A ``localhost:PORT`` registry reached from the hosts, as Kamal 2.11 reaches it: while the
images are pulled, each pulling host gets an SSH connection of its own whose remote forward
makes the host's 127.0.0.1:PORT the local registry (``kamal-docker-registry``, run by
``registry setup`` or the build); and while a remote builder builds, the builder's host gets
one too, so that it pushes there."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit

import click

from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors import ssh_config
from backstaff.executors.ssh import SshConnection, SshError
from backstaff.planner.model import App, SshSettings
from backstaff.planner.steps import Step
from backstaff.planning import connection_pool, known_hosts_path, trust_notice


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
    _announce(ctx, hosts)
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


@contextmanager
def builder_tunnel(ctx: AppContext, app: App, remote: str | None) -> Iterator[None]:
    """Kamal's ``forward_local_registry_port_for_remote_builder``: with a ``localhost:PORT``
    registry, the remote builder's 127.0.0.1:PORT reaches the local registry while the image
    is built and pushed there. Its connection is Kamal's: the user and port of the builder's
    ``ssh://`` URL (else the ssh config's, else this machine's user and 22), and ssh's own
    keys, agent and config, not deploy.yml's ``ssh`` settings (Kamal gives net-ssh none of
    them for the builder)."""
    if not app.registry.local or not remote:
        yield
        return
    url = urlsplit(remote)
    host = url.hostname or ""
    options = ssh_config.lookup(host, ssh_config.config_files(True))
    try:
        port = url.port or options.port or 22
    except ValueError:
        raise BackstaffError(f"builder/remote: no port in {remote}") from None
    settings = SshSettings(user=url.username or options.user or getpass.getuser(), port=port)
    _announce(ctx, [host])
    known_hosts = known_hosts_path(ctx)
    connection = SshConnection(
        host, settings, known_hosts=known_hosts, trust_new_hosts=not ctx.options.no_trust_new_hosts,
        on_new_key=trust_notice(known_hosts),
    )  # fmt: skip
    try:
        try:
            connection.forward_remote(local_port(app))
        except SshError as exc:
            raise BackstaffError(f"remote builder: {exc}") from None
        yield
    finally:
        connection.close()


def _announce(ctx: AppContext, hosts: list[str]) -> None:
    """Kamal's line before the tunnels go up."""
    if not ctx.options.quiet:
        click.echo(f"Setting up local registry port forwarding to {', '.join(hosts)}...", err=True)
