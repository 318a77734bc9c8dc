"""``backstaff proxy …``: kamal-proxy on the proxy hosts."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import click

from backstaff.adhoc import follow_on_host, log_options, run_steps, show_on_hosts
from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.global_options import GlobalOptionsGroup, thor_flag
from backstaff.hooks import GroupHooks, hook_env
from backstaff.planner import operations
from backstaff.planner.commands import proxy as proxy_cmd
from backstaff.planner.commands.words import SAFE, Cmd
from backstaff.planner.desired import build_desired
from backstaff.planner.model import App

pass_app = click.make_pass_decorator(AppContext)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Show the steps; change nothing.")


def _app(ctx: AppContext) -> tuple[App, list[str]]:
    app = build_desired(ctx.config, ctx.options.version or "latest")
    selected = set(ctx.selection.hosts)
    return app, [h for h in app.proxy_hosts if h in selected]


def _run(ctx: AppContext, verb: str, build: Callable[[App], tuple[Cmd, ...]], audit: str | None = None,
         dry_run: bool = False, sequential: bool = False, lock: bool = True) -> None:  # fmt: skip
    app, hosts = _app(ctx)
    steps = [operations.proxy_verb(h, verb, build(app), audit) for h in hosts]
    run_steps(ctx, app, steps, dry_run=dry_run, sequential=sequential, lock=lock)


@click.group(cls=GlobalOptionsGroup)
def proxy() -> None:
    """Manage kamal-proxy."""


@proxy.command()
@DRY_RUN
@pass_app
def boot(ctx: AppContext, dry_run: bool) -> None:
    """Start kamal-proxy, or run it if it does not exist (never replaces a running one)."""
    _run(ctx, "boot", operations.proxy_boot_commands, dry_run=dry_run)


@proxy.command()
@click.option(*thor_flag("--rolling"), default=False, help="One host at a time.")
@click.option("-y", *thor_flag("--confirmed"), default=False, help="Do not ask.")
@DRY_RUN
@pass_app
def reboot(ctx: AppContext, rolling: bool, confirmed: bool, dry_run: bool) -> None:
    """Replace kamal-proxy with one from the current settings (routes are kept)."""
    if not dry_run and not confirmed:
        click.confirm("This will cause a brief outage on each host. Are you sure?", abort=True)
    app, hosts = _app(ctx)
    steps = [operations.proxy_verb(h, "reboot", operations.proxy_reboot_commands(app),
                                   "Rebooted proxy") for h in hosts]  # fmt: skip
    # Kamal's: inside the lock, around each group (every host at once, or one by one --rolling)
    hooks = GroupHooks(ctx, app, "pre-proxy-reboot", "post-proxy-reboot",
                       hook_env(ctx, app, "proxy", "reboot", hosts),
                       [[s] for s in steps] if rolling else [steps])  # fmt: skip
    run_steps(ctx, app, steps, dry_run=dry_run, sequential=rolling, hooks=hooks)


@proxy.command()
@DRY_RUN
@pass_app
def start(ctx: AppContext, dry_run: bool) -> None:
    """Start the kamal-proxy container."""
    _run(ctx, "start", lambda a: (proxy_cmd.start(),), "Started proxy", dry_run)


@proxy.command()
@DRY_RUN
@pass_app
def stop(ctx: AppContext, dry_run: bool) -> None:
    """Stop the kamal-proxy container."""
    _run(ctx, "stop", lambda a: (proxy_cmd.stop(),), "Stopped proxy", dry_run)


@proxy.command()
@DRY_RUN
@pass_app
def restart(ctx: AppContext, dry_run: bool) -> None:
    """Stop, then start the kamal-proxy container."""
    _run(ctx, "restart", lambda a: (proxy_cmd.stop(), proxy_cmd.start()), dry_run=dry_run)


@proxy.command()
@pass_app
def details(ctx: AppContext) -> None:
    """Show the kamal-proxy container and its routes."""
    app, hosts = _app(ctx)
    show_on_hosts(ctx, app, hosts, lambda h: list(proxy_cmd.details()), "Proxy")


@proxy.command()
@log_options
@pass_app
def logs(ctx: AppContext, since: str | None, lines: int | None, grep: str | None, follow: bool,
         skip_timestamps: bool) -> None:  # fmt: skip
    """Show kamal-proxy's log lines on each proxy host (the last 100, or 10 when following,
    unless -n, --since or --grep chooses)."""
    app, hosts = _app(ctx)
    command = proxy_cmd.logs(lines, since=since, grep=grep, timestamps=not skip_timestamps,
                             follow=follow)  # fmt: skip
    if follow:
        if not hosts:
            raise BackstaffError("No proxy host selected to follow the logs of")
        follow_on_host(ctx, app, hosts[0], command)
        return
    show_on_hosts(ctx, app, hosts, lambda h: [command], "Proxy")


@proxy.command()
@click.option("--force", is_flag=True, help="Remove even if other apps are installed.")
@DRY_RUN
@pass_app
def remove(ctx: AppContext, force: bool, dry_run: bool) -> None:
    """Remove kamal-proxy, unless other apps still use it (then --force)."""
    _run(ctx, "remove", lambda a: proxy_cmd.remove_all(force), "Removed proxy container", dry_run)


@proxy.group("boot_config")
def boot_config() -> None:
    """The legacy boot files in .kamal/proxy (used when deploy.yml has no proxy.run)."""


@boot_config.command("set")
@click.option(*thor_flag("--publish"), default=True, help="Publish the proxy ports on the host.")
@click.option("--publish-host-ip", multiple=True,
              help="Host IP address to bind HTTP/HTTPS to (repeatable; all interfaces if none).")  # fmt: skip
@click.option("--http-port", type=int, default=80, show_default=True)
@click.option("--https-port", type=int, default=443, show_default=True)
@click.option("--log-max-size", default="10m", show_default=True)
@click.option("--registry", default=None, help="Registry of the proxy image.")
@click.option("--repository", default=None, help="Repository of the proxy image (basecamp).")
@click.option("--image-version", default=None, help="Version of the proxy to run.")
@click.option(
    "--metrics-port", type=int, default=None, help="Port to report prometheus metrics on."
)
@click.option(*thor_flag("--debug"), default=False, help="Run the proxy in debug mode.")
@click.option("--docker-options", multiple=True,
              help="Docker option=value for the proxy container (repeatable).")  # fmt: skip
@DRY_RUN
@pass_app
def boot_config_set(ctx: AppContext, publish: bool, publish_host_ip: tuple[str, ...],
                    http_port: int, https_port: int, log_max_size: str, registry: str | None,
                    repository: str | None, image_version: str | None, metrics_port: int | None,
                    debug: bool, docker_options: tuple[str, ...], dry_run: bool) -> None:  # fmt: skip
    """Write the boot files (removing those left at the default); the next `proxy reboot`
    runs kamal-proxy from them."""
    click.echo("The proxy boot_config command is deprecated - set the config in the deploy YAML"
               " at proxy/run instead", err=True)  # fmt: skip
    for ip in publish_host_ip:
        try:
            ipaddress.ip_address(ip.strip("[]"))
        except ValueError:
            raise BackstaffError(f"Invalid publish IP address: {ip}") from None
    words = [("--log-max-size", log_max_size), ("--registry", registry or ""),
             ("--repository", repository or ""), ("--image-version", image_version or "")]  # fmt: skip
    words += [("--docker-options", o) for o in docker_options]
    for flag, value in words:
        if value and not SAFE.fullmatch(value):
            raise BackstaffError(f"{flag}: {value!r} must be one plain word (letters, digits and"
                                 " _@%+=:,./-): the boot files are split into words again at boot")  # fmt: skip
    config = proxy_cmd.BootConfig(publish, publish_host_ip, http_port, https_port, log_max_size,
                                  registry, repository, image_version, metrics_port, debug,
                                  docker_options)  # fmt: skip
    writes = proxy_cmd.write_boot_files(proxy_cmd.boot_files(config))
    _run(ctx, "boot_config", lambda a: writes, dry_run=dry_run, lock=False)  # Kamal: no lock


@boot_config.command("get")
@pass_app
def boot_config_get(ctx: AppContext) -> None:
    """Show the boot files."""
    app, hosts = _app(ctx)
    show_on_hosts(ctx, app, hosts, lambda h: [(proxy_cmd.SHOW_BOOT_FILES,)], "Proxy")


@boot_config.command("reset")
@DRY_RUN
@pass_app
def boot_config_reset(ctx: AppContext, dry_run: bool) -> None:
    """Remove the boot files (back to the defaults)."""
    _run(ctx, "boot_config_reset", lambda a: (proxy_cmd.reset_boot_files(),), dry_run=dry_run)
