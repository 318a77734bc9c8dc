"""``backstaff build …`` and the build half of ``deploy``: Kamal 2.11's build (a clean clone of
HEAD unless ``builder.context``, then ``docker buildx build`` or ``pack build``), and the pull
on the hosts."""

from __future__ import annotations

import re
import subprocess
import tempfile

import click

from backstaff.adhoc import run_steps
from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.git import CloneError, prepare_clone, uncommitted_changes
from backstaff.executors.local import LocalCommandFailed, available, run_local
from backstaff.global_options import GlobalOptionsGroup
from backstaff.hooks import hook, hook_env, invoked, pre_connect
from backstaff.planner import operations
from backstaff.planner.commands import build as build_cmd
from backstaff.planner.commands.base import join
from backstaff.planner.commands.host import (
    REGISTRY_PASSWORD,
    local_registry_setup,
    login,
    login_stdin_secrets,
)
from backstaff.planner.commands.words import Cmd
from backstaff.planner.model import App
from backstaff.registry_tunnel import builder_tunnel

pass_app = click.make_pass_decorator(AppContext)
OUTPUT = click.option("--output", default="registry", metavar="EXPORT_TYPE", show_default=True,
                      help="Exported type for the build result (any type 'buildx --output' takes).")  # fmt: skip
NO_CACHE = click.option(
    "--no-cache", is_flag=True, help="Build without using Docker's build cache."
)
SHELL_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def _docker_arch() -> str:
    """The local docker's architecture, as Kamal's Utils.docker_arch reads it."""
    try:
        done = subprocess.run(["docker", "info", "--format", "{{.Architecture}}"],
                              capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return ""
    arch = done.stdout.strip()
    return "arm64" if "aarch64" in arch else "amd64" if "x86_64" in arch else arch


def resolve_builder(ctx: AppContext, app: App) -> build_cmd.Builder:
    """The builder with ``ssh``'s ``$VAR``s expanded from the local environment (Kamal's shell
    expands them; every other value is passed as data). The docker arch is asked only when a
    remote builder makes it matter."""
    config = dict(ctx.config.data)
    builder = dict(config.get("builder") or {})
    if isinstance(builder.get("ssh"), str):
        env = ctx.config.env  # Kamal's ENV: what deploy.yml's Dotenv.load added too
        builder["ssh"] = SHELL_VAR.sub(lambda m: env.get(m[1] or m[2], ""), builder["ssh"])
    config["builder"] = builder
    return build_cmd.resolve(app, config, _docker_arch() if builder.get("remote") else "")


def _plan(
    b: build_cmd.Builder, output: str, no_cache: bool, dirty: bool, buildx: bool
) -> tuple[Cmd, ...]:
    """The build commands: Kamal's buildx build, or without buildx the docker build + push that
    makes the same image (driver docker only), else Kamal's error."""
    if buildx or b.kind == "pack":
        return (build_cmd.push(b, output, no_cache=no_cache, dirty=dirty),)
    fallback = build_cmd.fallback_push(b, output, no_cache=no_cache, dirty=dirty)
    if fallback is None:
        raise BackstaffError(
            "Docker buildx plugin is not installed locally (without it backstaff builds only"
            " with builder.driver: docker, one arch, no cache, secrets, ssh, provenance or sbom)"
        )
    return fallback


def _say(ctx: AppContext, line: str, err: bool = False) -> None:
    if not ctx.options.quiet:
        click.echo(line, err=err)


def build_and_push(ctx: AppContext, app: App, dry_run: bool = False, *, output: str = "registry",
                   no_cache: bool = False) -> None:  # fmt: skip
    """Kamal's ``build push``: pre-connect, docker check, local login, pre-build, the clean
    clone of HEAD (or ``builder.context`` with a warning about uncommitted changes), the
    builder (created when missing), then the build in the build directory."""
    b = resolve_builder(ctx, app)
    buildx = available(("docker", "buildx", "version"))
    if dry_run:
        if b.git_clone and _in_git(ctx):
            click.echo(f"  would clone HEAD into {_clone_dir(ctx, app)} and build there")
        try:
            commands = _plan(b, output, no_cache, False, buildx)
        except BackstaffError as missing:
            click.echo(f"  ({missing}: this would fail)")
            commands = (build_cmd.push(b, output, no_cache=no_cache),)
        for command in commands:
            click.echo(f"  would run: {join(command)}")
        return
    pre_connect(ctx, app)  # Kamal runs it before the build (a remote builder, pre-build)
    if not available(("docker", "--version")):
        raise BackstaffError("Docker is not installed locally")
    commands = _plan(b, output, no_cache, False, buildx)
    if b.kind == "pack" and not available(("pack", "--version")):
        raise BackstaffError("pack is not installed locally (builder.pack builds with it)")
    try:
        if b.login_locally and app.registry.local:  # Kamal starts the local registry
            command = local_registry_setup(app.registry.server or "")
            _say(ctx, f"  $ {join(command)}")
            run_local(command, cwd=str(ctx.cwd))
        elif b.login_locally:
            plain = str((ctx.config.data.get("registry") or {}).get("password"))
            stdin = "".join(
                (plain if name == REGISTRY_PASSWORD else ctx.secrets[name]) + "\n"
                for name in login_stdin_secrets(app.registry)
            )
            run_local(login(app.registry), cwd=str(ctx.cwd), stdin=stdin)
        verb, subverb = invoked()
        hook(ctx, app, "pre-build",
             hook_env(ctx, app, verb, subverb, ctx.selection.hosts, lock=False))  # fmt: skip
        build_dir = _prepare_context(ctx, b)
        if not (ctx.cwd / b.dockerfile).exists():
            raise BackstaffError(f"Missing {b.dockerfile}")
        env = _build_env(ctx, b)
        with builder_tunnel(ctx, app, b.remote):  # a local registry, reached from the builder
            if buildx:
                _ensure_builder(ctx, b, env)
            for command in commands:
                _say(ctx, f"  $ {join(command)}")
                run_local(command, cwd=build_dir, env=env, echo=ctx.options.verbose)
    except LocalCommandFailed as exc:
        raise BackstaffError(str(exc)) from None


def _build_env(ctx: AppContext, b: build_cmd.Builder) -> dict[str, str]:
    """The build's environment: Kamal's ENV (what deploy.yml's ``Dotenv.load`` added, and
    KAMAL_DESTINATION the -d given or unset), the build secrets' values (named on the command
    line, never given there) and Kamal's push_env."""
    env = {**ctx.config.env, **b.push_env}
    for name in b.config.get("secrets") or []:
        env[str(name)] = ctx.secrets[str(name)]
    return env


def _clone_dir(ctx: AppContext, app: App) -> str:
    return build_cmd.clone_directory(tempfile.gettempdir(), app.service, str(ctx.cwd.resolve()))


def _in_git(ctx: AppContext) -> bool:
    """Kamal's Git.used? (``git rev-parse`` succeeds)."""
    done = subprocess.run(["git", "rev-parse"], cwd=ctx.cwd, capture_output=True, check=False)
    return done.returncode == 0


def _prepare_context(ctx: AppContext, b: build_cmd.Builder) -> str:
    """The directory the build runs in. Uncommitted changes never ship under a commit's
    version: with a git repository and no ``builder.context``, a clean clone of HEAD."""
    changes = uncommitted_changes(ctx.cwd)
    if b.git_clone and _in_git(ctx):
        if changes:
            _say(
                ctx,
                f"Building from a local git clone, so ignoring these uncommitted changes:\n {changes}",
                err=True,
            )
        try:
            return prepare_clone(ctx.cwd, b.app.service, tempfile.gettempdir(),
                                 lambda line: _say(ctx, line, err=True))  # fmt: skip
        except CloneError as exc:
            raise BackstaffError(f"Error preparing clone: {exc}") from None
    if changes:
        _say(ctx, f"Building with uncommitted changes:\n {changes}", err=True)
    return str(ctx.cwd)


def _ensure_builder(ctx: AppContext, b: build_cmd.Builder, env: dict[str, str]) -> None:
    """Kamal's inspect, then remove and create when the builder is missing or incompatible."""
    inspect = build_cmd.inspect_builder(b)
    if inspect is None:
        return
    try:
        run_local(inspect, cwd=str(ctx.cwd), env=env)
    except LocalCommandFailed as exc:
        if not build_cmd.MISSING_BUILDER.search(str(exc)):
            raise
        _say(ctx, "Missing compatible builder, so creating a new one first", err=True)
        remove_cmd, create_cmd = build_cmd.remove(b), build_cmd.create(b)
        if remove_cmd is not None:
            try:
                run_local(remove_cmd, cwd=str(ctx.cwd), env=env)
            except LocalCommandFailed:
                pass  # nothing to remove
        if create_cmd is not None:
            _say(ctx, f"  $ {join(create_cmd)}")
            run_local(create_cmd, cwd=str(ctx.cwd), env=env)


@click.group(cls=GlobalOptionsGroup)
def build() -> None:
    """Build the app image locally and deliver it to the hosts."""


@build.command()
@OUTPUT
@NO_CACHE
@click.option("--dry-run", is_flag=True, help="Show the commands; build nothing.")
@pass_app
def push(ctx: AppContext, output: str, no_cache: bool, dry_run: bool) -> None:
    """Build the image for the version and push it to the registry."""
    build_and_push(ctx, ctx.app, dry_run, output=output, no_cache=no_cache)
    if not dry_run and output == "registry":
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


def _local(ctx: AppContext, command: Cmd | None) -> None:
    if command is None:
        return  # the docker driver has no builder to create or remove
    try:
        _say(ctx, f"  $ {join(command)}")
        run_local(command, cwd=str(ctx.cwd), echo=True)
    except LocalCommandFailed as exc:
        raise BackstaffError(str(exc)) from None


@build.command()
@pass_app
def details(ctx: AppContext) -> None:
    """Show the build setup."""
    b = resolve_builder(ctx, ctx.app)
    click.echo(f"Builder: {b.kind}")
    _local(ctx, build_cmd.info(b))


@build.command()
@pass_app
def create(ctx: AppContext) -> None:
    """Create the build setup (the buildx builder, and a docker context for a remote one)."""
    _local(ctx, build_cmd.create(resolve_builder(ctx, ctx.app)))


@build.command()
@pass_app
def remove(ctx: AppContext) -> None:
    """Remove the build setup."""
    _local(ctx, build_cmd.remove(resolve_builder(ctx, ctx.app)))


@build.command()
@click.option("--output", default="docker", metavar="EXPORT_TYPE", show_default=True,
              help="Exported type for the build result (any type 'buildx --output' takes).")  # fmt: skip
@NO_CACHE
@pass_app
def dev(ctx: AppContext, output: str, no_cache: bool) -> None:
    """Build the working directory, tagged <version>-dirty, into the local image store."""
    b = resolve_builder(ctx, ctx.app)
    if not available(("docker", "--version")):
        raise BackstaffError("Docker is not installed locally")
    env = _build_env(ctx, b)
    for command in _plan(b, output, no_cache, True, available(("docker", "buildx", "version"))):
        _say(ctx, f"  $ {join(command)}")
        try:
            run_local(command, cwd=str(ctx.cwd), env=env, echo=True)
        except LocalCommandFailed as exc:
            raise BackstaffError(str(exc)) from None
