"""``backstaff app …``: Kamal's app verbs on backstaff's engine."""

from __future__ import annotations

import secrets

import click

from backstaff import exec_support
from backstaff.adhoc import GREP_OPTIONS, follow_on_host, log_options, run_steps, show_on_hosts
from backstaff.applying import run_apply
from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.gather import ConnectionPool
from backstaff.global_options import GlobalOptionsGroup, thor_flag
from backstaff.planner import operations
from backstaff.planner.commands import verbs
from backstaff.planner.commands.base import Cmd
from backstaff.planner.desired import build_desired
from backstaff.planner.diff import current_container, version_of
from backstaff.planner.model import App, Pairs, Role
from backstaff.planner.steps import Step
from backstaff.planning import read_live
from backstaff.schemas.host_strings import hostname

pass_app = click.make_pass_decorator(AppContext)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Show the steps; change nothing.")


def _app(ctx: AppContext) -> App:
    return build_desired(ctx.config, ctx.options.version or "latest")


def _pairs(ctx: AppContext, app: App, proxied: bool = False) -> list[tuple[Role, str]]:
    """(role, host) in the selection, primary role first."""
    hosts = set(ctx.selection.hosts)
    return [
        (role, host)
        for role in app.roles
        if role.name in ctx.selection.roles and (role.proxy or not proxied)
        for host in role.hosts
        if host in hosts
    ]


@click.group(cls=GlobalOptionsGroup)
def app() -> None:
    """Manage the app containers."""


@app.command()
@pass_app
def boot(ctx: AppContext) -> None:
    """Boot the version on the app hosts (a deploy without proxy boot or pull)."""
    code = run_apply(ctx, ctx.app, command="app", subcommand="boot", auto_approve=True)
    if code:
        click.get_current_context().exit(code)


@app.command()
@DRY_RUN
@pass_app
def start(ctx: AppContext, dry_run: bool) -> None:
    """Start the most recent app container and point the proxy at it."""
    a = _app(ctx)
    steps = [operations.app_start(a, role, host) for role, host in _pairs(ctx, a)]
    run_steps(ctx, a, steps, dry_run=dry_run, parallel=a.boot.parallel_roles)


@app.command()
@DRY_RUN
@pass_app
def stop(ctx: AppContext, dry_run: bool) -> None:
    """Take the app out of the proxy and stop its current container."""
    a = _app(ctx)
    steps = [operations.app_stop(a, role, host) for role, host in _pairs(ctx, a)]
    run_steps(ctx, a, steps, dry_run=dry_run, parallel=a.boot.parallel_roles)


@app.command()
@pass_app
def details(ctx: AppContext) -> None:
    """Show the running app containers."""
    a = _app(ctx)
    pairs = _pairs(ctx, a)
    hosts = list(dict.fromkeys(h for _, h in pairs))
    show_on_hosts(
        ctx, a, hosts, lambda h: [verbs.app_details(a, r) for r, x in pairs if x == h], "App"
    )


@app.command()
@pass_app
def containers(ctx: AppContext) -> None:
    """Show every app container, stopped ones too (rollback candidates)."""
    a = _app(ctx)
    show_on_hosts(ctx, a, _hosts(ctx, a), lambda h: [verbs.app_containers(a)], "App")


@app.command()
@pass_app
def images(ctx: AppContext) -> None:
    """Show the app images on the hosts."""
    a = _app(ctx)
    show_on_hosts(ctx, a, _hosts(ctx, a), lambda h: [verbs.app_images(a)], "App")


def _hosts(ctx: AppContext, a: App) -> list[str]:
    return list(dict.fromkeys(h for _, h in _pairs(ctx, a)))


@app.command("version")
@pass_app
def app_version(ctx: AppContext) -> None:
    """Show the version running on each host."""
    a = _app(ctx)
    live = read_live(ctx, a, _hosts(ctx, a))
    for role, host in _pairs(ctx, a):
        container = current_container(a, role, live.host(host))
        click.echo(
            f"App Host: {hostname(host)} ({role.name})\n{version_of(a, role, container) if container else '-'}\n"
        )


@app.command()
@log_options
@GREP_OPTIONS
@click.option("--container-id", help="The docker container ID to show the logs of.")
@pass_app
def logs(ctx: AppContext, since: str | None, lines: int | None, grep: str | None, follow: bool,
         skip_timestamps: bool, grep_options: str | None, container_id: str | None) -> None:  # fmt: skip
    """Show the log lines of the current container on each host (the last 100, or 10 when
    following, unless -n, --since or --grep chooses)."""
    a = _app(ctx)
    pairs = _pairs(ctx, a)

    def build(role: Role) -> Cmd:
        return verbs.app_logs(a, role, lines, grep, since=since, grep_options=grep_options,
                              timestamps=not skip_timestamps, follow=follow, container_id=container_id)  # fmt: skip

    if follow:
        if not pairs:
            raise BackstaffError("No app host selected to follow the logs of")
        role, host = pairs[0]  # the primary role first, its primary host first
        follow_on_host(ctx, a, host, build(role))
        return
    show_on_hosts(ctx, a, _hosts(ctx, a), lambda h: [build(r) for r, x in pairs if x == h], "App",
                  failed="Nothing found")  # fmt: skip


@app.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("cmd", nargs=-1, type=click.UNPROCESSED)
@click.option("-i", *thor_flag("--interactive"), default=False,
              help="Run interactively on the primary host (for a console or a shell).")  # fmt: skip
@click.option(
    *thor_flag("--reuse"), default=False, help="Run in the current container instead of a new one."
)
@click.option("-e", "--env", multiple=True, metavar="KEY=VALUE",
              help="Set an env variable for the command (repeatable; KEY:VALUE too).")  # fmt: skip
@click.option(*thor_flag("--detach"), default=False, help="Run in a new container left running.")
@pass_app
def app_exec(ctx: AppContext, cmd: tuple[str, ...], interactive: bool, reuse: bool,
             env: tuple[str, ...], detach: bool) -> None:  # fmt: skip
    """Run CMD in a new container of the version (or in the current one with --reuse)."""
    if detach and (interactive or reuse):
        wrong = " or ".join(n for n, on in (("interactive", interactive), ("reuse", reuse)) if on)
        raise BackstaffError(f"Detach is not compatible with {wrong}")
    command, pairs_env = exec_support.command_line(cmd), exec_support.env_pairs(env)
    version = ctx.options.version
    a = build_desired(ctx.config, version or ("latest" if reuse else _latest_tag(ctx)))
    pairs = _pairs(ctx, a)
    if interactive:
        if not pairs:
            raise BackstaffError("No app host selected")
        role, host = pairs[0]
        tty = exec_support.local_terminal()
        if reuse:
            exec_support.run_interactive_on(
                ctx, a, host,
                verbs.app_exec_reuse(a, role, command, env=pairs_env, interactive=True, tty=tty,
                                     version=version),
                message=f"Launching interactive command via SSH from existing container on {host}...",
                require=None if version else (verbs.current_container_id(a, role),
                                              f"No running {role.name} container on {host}"),
            )  # fmt: skip
        else:
            exec_support.run_interactive_on(
                ctx, a, host,
                verbs.app_exec(a, role, host, command, suffix=secrets.token_hex(3), env=pairs_env,
                               interactive=True, tty=tty),
                message=f"Launching interactive command with version {a.version} via SSH from new"
                f" container on {host}...",
                login=True,
            )  # fmt: skip
        return
    with exec_support.host_connections(ctx, a) as pool:
        if not reuse:
            exec_support.registry_login(ctx, a, pool, _hosts(ctx, a))
        version_run = _exec_version(ctx, a, reuse, pairs, pool)
        _exec_on_hosts(ctx, a, pairs, pool, command, version_run, reuse=reuse, env=pairs_env,
                       detach=detach)  # fmt: skip


def _exec_on_hosts(
    ctx: AppContext, a: App, pairs: list[tuple[Role, str]], pool: ConnectionPool, command: str,
    version_run: str, *, reuse: bool, env: Pairs, detach: bool,
) -> None:  # fmt: skip
    """A non-interactive exec's command on every selected host, after Kamal's audit line."""
    version = ctx.options.version
    audited = exec_support.auditor(ctx, a)
    message = f"Executed cmd '{command}' on app version {version_run}"

    def run(role: Role, host: str) -> Cmd:
        if reuse:
            return verbs.app_exec_reuse(a, role, command, env=env, version=version)
        return verbs.app_exec(a, role, host, command, suffix=secrets.token_hex(3), env=env,
                              detach=detach)  # fmt: skip

    def build(host: str) -> list[Cmd]:
        # Kamal's line names the role of a command run in the role's running container
        return [audited(message, run(r, host), r.name if reuse else None)
                for r, x in pairs if x == host]  # fmt: skip

    show_on_hosts(ctx, a, _hosts(ctx, a), build, "App", check=True, pool=pool)


def _exec_version(
    ctx: AppContext, a: App, reuse: bool, pairs: list[tuple[Role, str]], pool: ConnectionPool
) -> str:
    """The version Kamal's audit line names: ``--version``; else, for a new container, the
    latest tag it runs; for ``--reuse``, the version running on the first selected host (its
    role's current container, asked there first, as Kamal asks), else the config's version."""
    if ctx.options.version or not reuse:
        return a.version
    if pairs:
        role, host = pairs[0]
        name = exec_support.answer_on(pool, host, verbs.current_container_name(a, role))
        if name:
            return name.removeprefix(f"{role.container_prefix}-")
    return ctx.version


def _latest_tag(ctx: AppContext) -> str:
    """Kamal's ``latest_tag``: the image a new exec container runs without --version."""
    return "-".join(("latest", *([ctx.options.destination] if ctx.options.destination else [])))


@app.command()
@DRY_RUN
@pass_app
def remove(ctx: AppContext, dry_run: bool) -> None:
    """Stop and remove the app containers, images and directories on the hosts."""
    a = _app(ctx)
    pairs = _pairs(ctx, a)
    steps = [operations.app_remove_all(a, host, tuple(r for r, h in pairs if h == host))
             for host in _hosts(ctx, a)]  # fmt: skip
    run_steps(ctx, a, steps, dry_run=dry_run)


@app.command("stale_containers")
@click.option("-s", *thor_flag("--stop"), "stop_them", default=False, help="Stop them.")
@DRY_RUN
@pass_app
def stale_containers(ctx: AppContext, stop_them: bool, dry_run: bool) -> None:
    """List (or stop) running containers of a role other than its current one."""
    a = _app(ctx)
    live = read_live(ctx, a, _hosts(ctx, a))
    steps: list[Step] = []
    for role, host in _pairs(ctx, a):
        state = live.host(host)
        current = current_container(a, role, state)
        for container in state.containers:
            stale = (container.running and container.label("role") == role.name
                     and container.label("service") == a.service and current and container.id != current.id)  # fmt: skip
            if stale:
                click.echo(f"Stale container for role {role.name} on {host}: {container.name}")
                steps.append(operations.app_stop_stale(a, role, host, container.name))
    if stop_them:
        run_steps(ctx, a, steps, dry_run=dry_run)


@app.command()
@click.option("--drain-timeout", type=click.IntRange(min=0),
              help="Seconds in-flight requests may take (default: drain_timeout of the config).")  # fmt: skip
@click.option("--message", help="Shown to visitors while in maintenance.")
@DRY_RUN
@pass_app
def maintenance(ctx: AppContext, drain_timeout: int | None, message: str | None,
                dry_run: bool) -> None:  # fmt: skip
    """Put the app in maintenance mode: kamal-proxy answers 503 with the message."""
    a = _app(ctx)
    steps = [operations.app_maintenance(a, r, h, message, drain_timeout)
             for r, h in _pairs(ctx, a, proxied=True)]  # fmt: skip
    run_steps(ctx, a, steps, dry_run=dry_run)


@app.command()
@DRY_RUN
@pass_app
def live(ctx: AppContext, dry_run: bool) -> None:
    """Take the app out of maintenance mode."""
    a = _app(ctx)
    steps = [operations.app_live(a, r, h) for r, h in _pairs(ctx, a, proxied=True)]
    run_steps(ctx, a, steps, dry_run=dry_run)
