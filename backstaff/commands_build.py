"""``backstaff build …`` and the build half of ``deploy``: build and push locally, pull on hosts."""

from __future__ import annotations

import os

import click

from backstaff.adhoc import run_steps
from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.local import LocalCommandFailed, available, run_local
from backstaff.hooks import hook, hook_env, invoked, pre_connect
from backstaff.planner import operations
from backstaff.planner.commands import build as build_cmd
from backstaff.planner.commands.base import join
from backstaff.planner.commands.host import REGISTRY_PASSWORD, login, login_stdin_secrets
from backstaff.planner.model import App

pass_app = click.make_pass_decorator(AppContext)


def _builder(ctx: AppContext) -> dict[str, object]:
    return dict(ctx.config.data.get("builder") or {})


def build_and_push(ctx: AppContext, app: App, dry_run: bool = False) -> None:
    """Log in locally (unless the registry is local), then build and push the version."""
    if dry_run:
        buildx = available(("docker", "buildx", "version"))
        for command in build_cmd.push(app, _builder(ctx), buildx):
            click.echo(f"  would run: {join(command)}")
        return
    if not available(("docker", "--version")):
        raise BackstaffError("docker is not installed locally: it is needed to build images")
    pre_connect(ctx, app)  # Kamal runs it before the build (a remote builder, pre-build)
    builder = _builder(ctx)
    verb, subverb = invoked()
    hook(ctx, app, "pre-build",
         hook_env(ctx, app, verb, subverb, ctx.selection.hosts, lock=False))  # fmt: skip
    env = {**os.environ}
    for name in builder.get("secrets") or []:  # type: ignore[attr-defined]
        env[str(name)] = ctx.secrets[str(name)]
    try:
        if not app.registry.local:
            plain = str((ctx.config.data.get("registry") or {}).get("password"))
            stdin = "".join(
                (plain if name == REGISTRY_PASSWORD else ctx.secrets[name]) + "\n"
                for name in login_stdin_secrets(app.registry)
            )
            run_local(login(app.registry), cwd=str(ctx.cwd), stdin=stdin)
        buildx = available(("docker", "buildx", "version"))
        for command in build_cmd.push(app, builder, buildx):
            if not ctx.options.quiet:
                click.echo(f"  $ {join(command)}")
            run_local(command, cwd=str(ctx.cwd), env=env, echo=ctx.options.verbose)
    except LocalCommandFailed as exc:
        raise BackstaffError(str(exc)) from None


@click.group()
def build() -> None:
    """Build the app image locally and deliver it to the hosts."""


@build.command()
@click.option("--dry-run", is_flag=True, help="Show the commands; build nothing.")
@pass_app
def push(ctx: AppContext, dry_run: bool) -> None:
    """Build the image for the version and push it to the registry."""
    build_and_push(ctx, ctx.app, dry_run)
    if not dry_run:
        click.echo(f"Pushed {ctx.app.image}")


@build.command()
@click.option("--dry-run", is_flag=True)
@pass_app
def pull(ctx: AppContext, dry_run: bool) -> None:
    """Pull the version's image on the app hosts (checking its service label)."""
    app = ctx.app
    hosts = [h for h in ctx.selection.hosts if any(h in r.hosts for r in app.roles)]
    run_steps(ctx, app, [operations.image_pull(app, h) for h in hosts],
              dry_run=dry_run, lock=False)  # fmt: skip


@build.command()
@pass_app
def deliver(ctx: AppContext) -> None:
    """Build and push, then pull on the app hosts."""
    build_and_push(ctx, ctx.app)
    click.get_current_context().invoke(pull, dry_run=False)


@build.command()
@pass_app
def details(ctx: AppContext) -> None:
    """Show the local builder."""
    builder = _builder(ctx)
    buildx = available(("docker", "buildx", "version"))
    click.echo(
        f"Builder: {build_cmd.builder_name(builder) if build_cmd.uses_buildx(builder, buildx) else 'docker build'}"
    )
    click.echo(
        run_local(("docker", "buildx", "ls") if buildx else ("docker", "version"), cwd=str(ctx.cwd))
    )


@build.command()
@pass_app
def create(ctx: AppContext) -> None:
    """Create the buildx builder."""
    run_local(build_cmd.create(_builder(ctx)), cwd=str(ctx.cwd))


@build.command()
@pass_app
def remove(ctx: AppContext) -> None:
    """Remove the buildx builder."""
    run_local(build_cmd.remove(_builder(ctx)), cwd=str(ctx.cwd))


@build.command()
@pass_app
def dev(ctx: AppContext) -> None:
    """Build the image locally, tagged <image>:dirty, without pushing."""
    app = ctx.app
    command = ("docker", "build", *build_cmd.build_options(app, _builder(ctx), [f"{app.repository}:dirty"]),
               str(_builder(ctx).get("context") or "."))  # fmt: skip
    run_local(command, cwd=str(ctx.cwd), echo=True)
