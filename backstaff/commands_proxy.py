"""``backstaff proxy …``: kamal-proxy on the proxy hosts."""

from __future__ import annotations

import click

from backstaff.adhoc import run_steps, show_on_hosts, step
from backstaff.applying import hook, hook_env
from backstaff.context import AppContext
from backstaff.planner.commands import host as host_cmd
from backstaff.planner.commands import proxy as proxy_cmd
from backstaff.planner.commands.base import Cmd
from backstaff.planner.desired import build_desired
from backstaff.planner.model import App

pass_app = click.make_pass_decorator(AppContext)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Show the steps; change nothing.")
BOOT_FILES = ("options", "image", "image_version", "run_command")


def _app(ctx: AppContext) -> tuple[App, list[str]]:
    app = build_desired(ctx.config, ctx.options.version or "latest")
    selected = set(ctx.selection.hosts)
    return app, [h for h in app.proxy_hosts if h in selected]


def _run(ctx: AppContext, verb: str, build: object, audit: str | None = None, dry_run: bool = False,
         sequential: bool = False) -> None:  # fmt: skip
    app, hosts = _app(ctx)
    steps = [step(h, f"proxy.{verb}", f"{verb} kamal-proxy", build(app), audit=audit)  # type: ignore[operator]
             for h in hosts]  # fmt: skip
    run_steps(ctx, app, steps, dry_run=dry_run, sequential=sequential)


@click.group()
def proxy() -> None:
    """Manage kamal-proxy."""


@proxy.command()
@DRY_RUN
@pass_app
def boot(ctx: AppContext, dry_run: bool) -> None:
    """Start kamal-proxy, or run it if it does not exist (never replaces a running one)."""
    _run(ctx, "boot", lambda a: [host_cmd.network_create(), proxy_cmd.make_apps_config_directory(),
                                 proxy_cmd.boot(a)], dry_run=dry_run)  # fmt: skip


@proxy.command()
@click.option("--rolling", is_flag=True, help="One host at a time.")
@click.option("-y", "--confirmed", is_flag=True, help="Do not ask.")
@DRY_RUN
@pass_app
def reboot(ctx: AppContext, rolling: bool, confirmed: bool, dry_run: bool) -> None:
    """Replace kamal-proxy with one from the current settings (routes are kept)."""
    if not dry_run and not confirmed:
        click.confirm("This will cause a brief outage on each host. Are you sure?", abort=True)
    app, hosts = _app(ctx)
    env = hook_env(ctx, app, "proxy", "reboot", hosts)
    if not dry_run:
        hook(ctx, app, "pre-proxy-reboot", env)
    _run(ctx, "reboot", lambda a: [c + (("||", "true") if c[2] == "stop" else ()) for c in proxy_cmd.reboot(a)],
         "Rebooted proxy", dry_run, sequential=rolling)  # fmt: skip
    if not dry_run:
        hook(ctx, app, "post-proxy-reboot", env)


@proxy.command()
@DRY_RUN
@pass_app
def start(ctx: AppContext, dry_run: bool) -> None:
    """Start the kamal-proxy container."""
    _run(
        ctx,
        "start",
        lambda a: [("docker", "container", "start", "kamal-proxy")],
        "Started proxy",
        dry_run,
    )


@proxy.command()
@DRY_RUN
@pass_app
def stop(ctx: AppContext, dry_run: bool) -> None:
    """Stop the kamal-proxy container."""
    _run(
        ctx,
        "stop",
        lambda a: [("docker", "container", "stop", "kamal-proxy")],
        "Stopped proxy",
        dry_run,
    )


@proxy.command()
@DRY_RUN
@pass_app
def restart(ctx: AppContext, dry_run: bool) -> None:
    """Stop, then start the kamal-proxy container."""
    _run(ctx, "restart", lambda a: [("docker", "container", "stop", "kamal-proxy"),
                                    ("docker", "container", "start", "kamal-proxy")], dry_run=dry_run)  # fmt: skip


@proxy.command()
@pass_app
def details(ctx: AppContext) -> None:
    """Show the kamal-proxy container and its routes."""
    app, hosts = _app(ctx)
    show_on_hosts(ctx, app, hosts, lambda h: [("docker", "ps", "--filter", "'name=^kamal-proxy$'"),
                                              ("docker", "exec", "kamal-proxy", "kamal-proxy", "list")],
                  "Proxy")  # fmt: skip


@proxy.command()
@click.option("-n", "--lines", type=int, default=100, show_default=True)
@pass_app
def logs(ctx: AppContext, lines: int) -> None:
    """Show kamal-proxy's logs."""
    app, hosts = _app(ctx)
    show_on_hosts(ctx, app, hosts,
                  lambda h: [("docker", "logs", "kamal-proxy", "--timestamps", "--tail", str(lines), "2>&1")],
                  "Proxy")  # fmt: skip


@proxy.command()
@click.option("--force", is_flag=True, help="Remove even if other apps are installed.")
@DRY_RUN
@pass_app
def remove(ctx: AppContext, force: bool, dry_run: bool) -> None:
    """Remove kamal-proxy, unless other apps still use it (then --force)."""
    guard: list[Cmd] = [] if force else [(
        "test", '"$(ls .kamal/apps 2>/dev/null | wc -l)"', "-eq", "0", "||",
        "(echo", '"Not removing the proxy, as other apps are installed, ignore this check with'
        ' backstaff proxy remove --force"', "&&", "exit", "1)",
    )]  # fmt: skip
    _run(ctx, "remove", lambda a: guard + [
        ("docker", "container", "stop", "kamal-proxy", "||", "true"),
        ("docker", "container", "prune", "--force", "--filter", "label=org.opencontainers.image.title=kamal-proxy"),
        ("docker", "image", "prune", "--all", "--force", "--filter", "label=org.opencontainers.image.title=kamal-proxy"),
        ("rm", "-rf", ".kamal/proxy"),
    ], "Removed proxy container", dry_run)  # fmt: skip


@proxy.group("boot_config")
def boot_config() -> None:
    """The legacy boot files in .kamal/proxy (used when deploy.yml has no proxy.run)."""


@boot_config.command("set")
@click.option("--publish/--no-publish", default=True, help="Publish the ports on the host.")
@click.option("--http-port", type=int, default=80, show_default=True)
@click.option("--https-port", type=int, default=443, show_default=True)
@click.option("--log-max-size", default="10m", show_default=True)
@click.option("--registry", default=None)
@click.option("--repository", default="basecamp/kamal-proxy", show_default=True)
@click.option("--image-version", default=None)
@click.option("--docker-options", multiple=True, help="Extra docker run options (repeatable).")
@DRY_RUN
@pass_app
def boot_config_set(ctx: AppContext, publish: bool, http_port: int, https_port: int, log_max_size: str,
                    registry: str | None, repository: str, image_version: str | None,
                    docker_options: tuple[str, ...], dry_run: bool) -> None:  # fmt: skip
    """Write the boot files; applied by the next `proxy reboot`."""
    options = f"--publish {http_port}:80 --publish {https_port}:443 " if publish else ""
    options += f"--log-opt max-size={log_max_size}" + "".join(f" --{o}" for o in docker_options)
    image = f"{registry}/{repository}" if registry else repository
    writes: list[Cmd] = [("mkdir", "-p", ".kamal/proxy"),
                         ("echo", f'"{options}"', ">", ".kamal/proxy/options"),
                         ("echo", f'"{image}"', ">", ".kamal/proxy/image")]  # fmt: skip
    if image_version:
        writes.append(("echo", f'"{image_version}"', ">", ".kamal/proxy/image_version"))
    _run(ctx, "boot_config", lambda a: writes, dry_run=dry_run)


@boot_config.command("get")
@pass_app
def boot_config_get(ctx: AppContext) -> None:
    """Show the boot files."""
    app, hosts = _app(ctx)
    show_on_hosts(ctx, app, hosts, lambda h: [
        ("for", "f", "in", *BOOT_FILES, ";", "do", "[", "-f", ".kamal/proxy/$f", "]", "&&",
         "echo", '"$f: $(cat .kamal/proxy/$f)"', ";", "done;", "true"),
    ], "Proxy")  # fmt: skip


@boot_config.command("reset")
@DRY_RUN
@pass_app
def boot_config_reset(ctx: AppContext, dry_run: bool) -> None:
    """Remove the boot files (back to the defaults)."""
    _run(ctx, "boot_config_reset",
         lambda a: [("rm", "-f", *(f".kamal/proxy/{f}" for f in BOOT_FILES))], dry_run=dry_run)  # fmt: skip
