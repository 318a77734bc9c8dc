"""registry, prune, server, audit and remove: Kamal's housekeeping verbs."""

from __future__ import annotations

from dataclasses import replace

import click

from backstaff.adhoc import run_steps, show_on_hosts, step
from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.planner.commands import accessory as accessory_cmd
from backstaff.planner.commands import host as host_cmd
from backstaff.planner.commands import verbs
from backstaff.planner.commands.base import Cmd
from backstaff.planner.desired import build_desired
from backstaff.planner.graph import DOCKER_INSTALL
from backstaff.planner.model import App
from backstaff.planner.steps import Step

pass_app = click.make_pass_decorator(AppContext)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Show the steps; change nothing.")


def _app(ctx: AppContext) -> App:
    return build_desired(ctx.config, ctx.options.version or "latest")


def _login_step(app: App, host: str) -> Step:
    registry = app.registry
    username = registry.username or f"<secret:{registry.username_secret}>"
    return Step(f"registry.login[{host}]", host, "login", f"log in to {registry.server or 'Docker Hub'}", 3,
                (host_cmd.login(registry, username),),
                stdin_secret=registry.password_secret or "<registry.password>")  # fmt: skip


@click.group()
def registry() -> None:
    """Log the hosts in to (or out of) the registry."""


@registry.command()
@DRY_RUN
@pass_app
def login(ctx: AppContext, dry_run: bool) -> None:
    """Log every selected host in to the registry (the password goes on stdin)."""
    app = _app(ctx)
    if app.registry.local:
        raise BackstaffError("a local registry (localhost:PORT) needs no login")
    run_steps(
        ctx, app, [_login_step(app, h) for h in ctx.selection.hosts], dry_run=dry_run, lock=False
    )


@registry.command()
@DRY_RUN
@pass_app
def logout(ctx: AppContext, dry_run: bool) -> None:
    """Log every selected host out of the registry."""
    app = _app(ctx)
    server = (app.registry.server,) if app.registry.server else ()
    steps = [
        step(h, "registry.logout", "log out", [("docker", "logout", *server)])
        for h in ctx.selection.hosts
    ]
    run_steps(ctx, app, steps, dry_run=dry_run, lock=False)


registry.add_command(login, "setup")
registry.add_command(logout, "remove")


@click.group()
def prune() -> None:
    """Remove old containers and images (keeping retain_containers for rollbacks)."""


def _prune(ctx: AppContext, what: str, retain: int | None, dry_run: bool) -> None:
    app = _app(ctx)
    if retain is not None:
        if retain < 1:
            raise BackstaffError("retain must be at least 1")
        app = replace(app, retain_containers=retain)
    steps = []
    for host in ctx.selection.hosts:
        actions: list[Cmd] = []
        if what in ("all", "containers"):
            actions.append(host_cmd.prune_containers(app))
        if what in ("all", "images"):
            actions += list(host_cmd.prune_images(app))
        steps.append(step(host, f"prune.{what}", f"prune {what}", actions, audit=f"Pruned {what}"))
    run_steps(ctx, app, steps, dry_run=dry_run)


@prune.command("all")
@DRY_RUN
@pass_app
def prune_all(ctx: AppContext, dry_run: bool) -> None:
    """Prune stopped containers and unused images."""
    _prune(ctx, "all", None, dry_run)


@prune.command("containers")
@click.option("--retain", type=int, help="Stopped containers to keep (default retain_containers).")
@DRY_RUN
@pass_app
def prune_containers(ctx: AppContext, retain: int | None, dry_run: bool) -> None:
    """Prune stopped containers beyond the newest ones kept."""
    _prune(ctx, "containers", retain, dry_run)


@prune.command("images")
@DRY_RUN
@pass_app
def prune_images(ctx: AppContext, dry_run: bool) -> None:
    """Prune images no container uses (the latest tag is kept)."""
    _prune(ctx, "images", None, dry_run)


@click.group()
def server() -> None:
    """The servers themselves."""


@server.command()
@DRY_RUN
@pass_app
def bootstrap(ctx: AppContext, dry_run: bool) -> None:
    """Install docker where it is missing (needs root and curl or wget)."""
    app = _app(ctx)
    steps = [step(h, "server.bootstrap", "install docker if missing",
                  [("docker", "-v", "||", "(", *DOCKER_INSTALL, ")")]) for h in ctx.selection.hosts]  # fmt: skip
    run_steps(ctx, app, steps, dry_run=dry_run, lock=False)


@server.command("exec")
@click.argument("command")
@pass_app
def server_exec(ctx: AppContext, command: str) -> None:
    """Run COMMAND on the selected hosts and show the output."""
    app = _app(ctx)
    show_on_hosts(ctx, app, ctx.selection.hosts, lambda h: [(command,)], "App")


@click.command()
@click.option("-n", "--lines", type=int, default=50, show_default=True)
@pass_app
def audit(ctx: AppContext, lines: int) -> None:
    """Show the end of the audit log on every host."""
    app = _app(ctx)
    show_on_hosts(
        ctx,
        app,
        ctx.selection.hosts,
        lambda h: [verbs.audit_tail(app, lines) + ("2>/dev/null",)],
        "App",
    )


@click.command()
@click.option("-y", "--confirmed", is_flag=True, help="Do not ask.")
@DRY_RUN
@pass_app
def remove(ctx: AppContext, confirmed: bool, dry_run: bool) -> None:
    """Remove the app, kamal-proxy (if no other app uses it), the accessories and the logins."""
    if not dry_run and not confirmed:
        click.confirm("This will remove all containers and images. Are you sure?", abort=True)
    app = _app(ctx)
    steps: list[Step] = []
    for host in ctx.selection.hosts:
        actions: list[Cmd] = []
        for role in app.roles:
            if host in role.hosts:
                if role.proxy:
                    actions.append(("docker", "exec", "kamal-proxy", "kamal-proxy", "remove",
                                    role.container_prefix, "||", "true"))  # fmt: skip
                actions += [
                    verbs.app_stop(app, role) + ("||", "true"),
                    verbs.app_remove_containers(app, role),
                ]
        if any(host in r.hosts for r in app.roles):
            actions += [verbs.app_remove_images(app), *verbs.remove_app_directories(app)]
        if host in app.proxy_hosts:
            actions.append(("sh", "-c", "'if [ \"$(ls .kamal/apps 2>/dev/null | wc -l)\" -eq 0 ]; then"
                            " docker container stop kamal-proxy; docker container prune --force --filter"
                            " label=org.opencontainers.image.title=kamal-proxy; rm -rf .kamal/proxy;"
                            " else echo \"Not removing the proxy, as other apps are installed\"; fi'"))  # fmt: skip
        for accessory in app.accessories:
            if host in accessory.hosts:
                actions += [accessory_cmd.stop(accessory.service_name) + ("||", "true"),
                            accessory_cmd.remove_container(accessory.service_name),
                            ("docker", "image", "rm", "--force", accessory.image),
                            ("rm", "-rf", accessory.service_name)]  # fmt: skip
        if not app.registry.local:
            actions.append(
                ("docker", "logout", *((app.registry.server,) if app.registry.server else ()))
            )
        steps.append(
            step(host, "remove", "remove everything of the app", actions, audit="Removed app")
        )
    run_steps(ctx, app, steps, dry_run=dry_run)
