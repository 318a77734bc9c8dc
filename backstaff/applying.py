"""Wiring for apply and Kamal's deploy verbs: the run-time pieces a plan leaves open
(secrets, uploads, lock details, audit lines, hooks), confirmation, progress and summary."""

from __future__ import annotations

import base64
import getpass
import json
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import click
from tabulate import tabulate

from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.apply import HookError, Runtime, StepResult, apply_steps
from backstaff.executors.gather import ConnectionPool, gather
from backstaff.executors.git import git_config_value
from backstaff.executors.hooks import HookFailed, run_hook
from backstaff.executors.ssh import SshError
from backstaff.planner.changes import Change
from backstaff.planner.commands import host as host_cmd
from backstaff.planner.commands import words
from backstaff.planner.commands.app import env_file_content
from backstaff.planner.commands.host import REGISTRY_PASSWORD, audit_append
from backstaff.planner.model import App
from backstaff.planner.plan import (
    Plan,
    PlanFormatError,
    SavedPlan,
    first_difference,
    plan_from_dict,
)
from backstaff.planner.render import mask, render
from backstaff.planner.steps import LocalFile, Step, Upload
from backstaff.planner.version import abbreviated
from backstaff.planning import build_plan, connection_pool, gather_hosts


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def performer(ctx: AppContext) -> str:
    return git_config_value(ctx.cwd, "user.email") or getpass.getuser()


def lock_details(ctx: AppContext, version: str, message: str) -> str:
    """Kamal's lock file: three lines, Base64 wrapped at 60 with literal \\n for ``echo``."""
    user = git_config_value(ctx.cwd, "user.name") or "Unknown"
    text = f"Locked by: {user} at {now()}\nVersion: {version}\nMessage: {message}"
    encoded = base64.b64encode(text.encode()).decode()
    return "".join(f"{line}\\n" for line in textwrap.wrap(encoded, 60))


def audit_command(ctx: AppContext, app: App) -> object:
    who = performer(ctx)
    destination = f" [{app.destination}]" if app.destination else ""

    def command(message: str) -> str:
        line = f"[{now()}] [{who}]{destination} {message}"
        return words.render(audit_append(app, line))

    return command


def make_runtime(ctx: AppContext, app: App, pool: ConnectionPool, message: str) -> Runtime:
    roles = {r.name: r for r in app.roles}
    accessories = {a.name: a for a in app.accessories}

    def secret(name: str) -> str:
        if name == REGISTRY_PASSWORD:
            return str((ctx.config.data.get("registry") or {}).get("password") or "")
        return ctx.secrets[name]

    def render_upload(upload: Upload, host: str) -> bytes:
        source = upload.source
        if isinstance(source, LocalFile):
            return (ctx.cwd / source.path).read_bytes()
        name = source.name
        env = app.env_for(roles[name], host) if source.owner == "role" else accessories[name].env
        return env_file_content(tuple((var, ctx.secrets[key]) for var, key in env.secrets)).encode()

    return Runtime(
        pool=pool,
        render_upload=render_upload,
        secret=secret,
        lock_details=lock_details(ctx, app.version, message),
        audit_command=audit_command(ctx, app),  # type: ignore[arg-type]
        mask=lambda text: mask(text, ctx.resolved_secret_values()),
    )


class ConsoleReporter:
    """Live progress: one line when a step starts and one when it ends (or JSON events)."""

    def __init__(self, json_events: bool, quiet: bool) -> None:
        self.json_events, self.quiet, self.start = json_events, quiet, time.monotonic()

    def _emit(self, event: str, step: Step, **extra: object) -> None:
        elapsed = time.monotonic() - self.start
        if self.json_events:
            click.echo(json.dumps({"event": event, "step": step.id, "host": step.host,
                                   "elapsed": round(elapsed, 2), **extra}))  # fmt: skip
        elif not self.quiet:
            detail = (
                f" ({extra['seconds']:.1f}s)" if "seconds" in extra else f": {step.description}"
            )
            error = f"\n      {extra['error']}" if extra.get("error") else ""
            click.echo(f"  [{elapsed:6.1f}s] {event:<8} {step.id}{detail}{error}")

    def started(self, step: Step) -> None:
        self._emit("start", step)

    def finished(self, result: StepResult) -> None:
        event = "done" if result.status == "ok" else "FAILED"
        self._emit(event, result.step, seconds=round(result.seconds, 2), error=result.error)


def hook_env(
    ctx: AppContext, app: App, command: str, subcommand: str | None, hosts: list[str]
) -> dict[str, str]:
    env = {
        "KAMAL_RECORDED_AT": now(),
        "KAMAL_PERFORMER": performer(ctx),
        "KAMAL_VERSION": app.version,
        "KAMAL_SERVICE_VERSION": f"{app.service}@{abbreviated(app.version)}",
        "KAMAL_SERVICE": app.service,
        "KAMAL_HOSTS": ",".join(hosts),
        "KAMAL_LOCK": "true",
        "KAMAL_COMMAND": command,
    }
    if subcommand:
        env["KAMAL_SUBCOMMAND"] = subcommand
    if app.destination:
        env["KAMAL_DESTINATION"] = app.destination
    if ctx.options.roles:
        env["KAMAL_ROLES"] = ctx.options.roles
    return env


def hook(ctx: AppContext, app: App, name: str, env: dict[str, str]) -> None:
    if ctx.options.skip_hooks:
        return
    try:
        run_hook(ctx.cwd / app.hooks_path, name, env)
    except HookFailed as exc:
        raise BackstaffError(str(exc)) from None


def _step_hook(ctx: AppContext, app: App, name: str, env: dict[str, str]) -> None:
    try:
        hook(ctx, app, name, env)
    except BackstaffError as exc:
        raise HookError(str(exc)) from None


def _lock_holder(pool: ConnectionPool, app: App) -> str | None:
    if app.primary_host is None:
        return None
    try:
        result = pool.get(app.primary_host).run(words.render(host_cmd.lock_details(app)))
    except SshError:
        return None
    return " / ".join(result.stdout.strip().splitlines()) if result.ok else None


def current_plan(
    ctx: AppContext, app: App, pool: ConnectionPool, only: Callable[[Change], bool] | None = None
) -> Plan:
    live = gather(app, gather_hosts(ctx), pool)
    return build_plan(ctx, app, live, only)


def check_saved(saved: SavedPlan, fresh: Plan, secrets: list[str]) -> None:
    """A saved plan runs only if it is exactly the plan made now: then the fresh one runs."""
    difference = first_difference(saved.data, json.loads(render(fresh, "json", secrets=secrets)))
    if difference is not None:
        raise BackstaffError(f"refusing the saved plan: {difference}; run `backstaff plan` again")


def run_apply(
    ctx: AppContext,
    app: App,
    *,
    command: str,
    subcommand: str | None = None,
    auto_approve: bool,
    saved: SavedPlan | None = None,
    json_events: bool = False,
    message: str = "Automatic deploy lock",
    only: Callable[[Change], bool] | None = None,
    dry_run: bool = False,
) -> int:
    """Plan, show, confirm, then walk the steps. Returns the exit status."""
    hook(
        ctx, app, "pre-connect", hook_env(ctx, app, command, subcommand, list(ctx.selection.hosts))
    )
    pool = connection_pool(ctx, app)
    try:
        started = time.monotonic()
        plan = current_plan(ctx, app, pool, only)
        if saved is not None:
            # equal in every field: the fresh plan is what runs, never the file's steps
            check_saved(saved, plan, ctx.resolved_secret_values())
        secrets = ctx.resolved_secret_values()
        if not json_events:
            click.echo(render(plan, "text", verbose=ctx.options.verbose, secrets=secrets), nl=False)
        if plan.errors:
            raise BackstaffError("cannot apply: " + "; ".join(f"{h}: {m}" for h, m in plan.errors))
        if plan.lock:
            raise BackstaffError(
                "Deploy lock found (" + plan.lock.splitlines()[0] + "). Run `backstaff lock status`"
                " for details and `backstaff lock release` once it is safe."
            )
        if not plan.has_changes:
            if not json_events:
                click.echo("Nothing to do.")
            return 0
        if dry_run:
            return 0
        if not auto_approve:
            if not sys.stdin.isatty():
                raise BackstaffError("no terminal to confirm on: pass -y/--auto-approve to apply")
            if not click.confirm("Apply these changes?", default=False):
                raise click.exceptions.Abort()
        hosts = sorted({s.host for s in plan.steps if s.host != "local"})
        env = hook_env(ctx, app, command, subcommand, hosts)
        runtime = make_runtime(ctx, app, pool, message)

        boots = {s.id for s in plan.steps if s.kind == "app"}
        booted: set[str] = set()
        boot_started = threading.Event()
        guard = threading.Lock()

        def before(step: Step) -> None:
            with guard:
                first_boot = step.id in boots and not boot_started.is_set()
                if first_boot:
                    boot_started.set()
            if first_boot:
                _step_hook(ctx, app, "pre-app-boot", env)

        def after(step: Step) -> None:
            if step.id.startswith("lock.acquire"):
                _step_hook(ctx, app, "pre-deploy", env)
            if step.kind == "docker":
                _step_hook(ctx, app, "docker-setup", {**env, "KAMAL_HOSTS": step.host})
            with guard:
                booted.add(step.id)
                last_boot = step.id in boots and boots <= booted
            if last_boot:
                _step_hook(ctx, app, "post-app-boot", env)

        results = apply_steps(plan.steps, dict(plan.depends_on), runtime,
                              ConsoleReporter(json_events, ctx.options.quiet),
                              parallelism=app.ssh.max_concurrent_starts, after_step=after,
                              before_step=before)  # fmt: skip
        failed = [r for r in results if r.status == "failed"]
        interrupted = any(r.status == "interrupted" for r in results)
        acquire = next((r for r in results if r.step.id.startswith("lock.acquire")), None)
        if acquire and acquire.status == "failed":
            holder = _lock_holder(pool, app)
            if holder:
                acquire = StepResult(acquire.step, "failed", acquire.seconds,
                                     f"Deploy lock already in place! {holder}")  # fmt: skip
                failed = [acquire if r.step.id == acquire.step.id else r for r in failed]
        if not json_events and not ctx.options.quiet:
            rows = [(r.step.id, r.status, f"{r.seconds:.1f}s" if r.status != "not run" else "")
                    for r in results]  # fmt: skip
            click.echo("\n" + tabulate(rows, headers=("Step", "Result", "Time")))
        runtime_seconds = int(time.monotonic() - started)
        if interrupted:
            click.secho("  Interrupted: running steps were finished, nothing new was started and the"
                        " lock was released. Run `backstaff plan` to see what is left.", fg="red", err=True)  # fmt: skip
            return 130
        if failed:
            for result in failed:
                click.secho(f"  ERROR: {result.step.id}: {result.error}", fg="red", err=True)
            not_run = sum(1 for r in results if r.status == "not run")
            click.secho(f"  Apply failed: {len(failed)} step(s) failed, {not_run} not run."
                        " Run `backstaff plan` to see what is left.", fg="red", err=True)  # fmt: skip
            return 1
        if not json_events:
            click.echo(f"Finished all in {runtime_seconds} seconds")
        hook(ctx, app, "post-deploy", {**env, "KAMAL_RUNTIME": str(runtime_seconds)})
        return 0
    finally:
        pool.close()


def load_saved(path: Path) -> SavedPlan:
    """The plan file as written (compared field by field) and as read (its version)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SavedPlan(data, plan_from_dict(data))
    except (OSError, json.JSONDecodeError, PlanFormatError) as exc:
        raise BackstaffError(f"cannot read the plan {path}: {exc}") from None
