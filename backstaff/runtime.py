"""What a plan deliberately leaves open until it runs: the clock, who runs it, the lock
details, audit lines, secret values and the content of uploads."""

from __future__ import annotations

import base64
import getpass
import re
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backstaff.context import AppContext
from backstaff.executors.apply import Runtime, StepFailed
from backstaff.executors.erb_host import LocalErbHost
from backstaff.executors.gather import ConnectionPool
from backstaff.executors.git import git_config_value
from backstaff.planner.commands import words
from backstaff.planner.commands.app import env_file_content
from backstaff.planner.commands.host import audit_append
from backstaff.planner.model import Accessory, App
from backstaff.planner.render import mask
from backstaff.planner.steps import (
    AccessoryTemplate,
    EnvFile,
    ErrorPages,
    LocalFile,
    SecretFile,
    Step,
    Upload,
)
from backstaff.schemas import erb
from backstaff.schemas.errors import ConfigErrors


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


def audit_lines(ctx: AppContext, app: App) -> Callable[..., str]:
    """Kamal's audit line for a message: ``[time] [performer] [destination] [role] message``
    (the destination and the role when there is one), its time when the line is made."""
    who = performer(ctx)
    destination = f" [{app.destination}]" if app.destination else ""

    def line(message: str, role: str | None = None) -> str:
        tag = f" [{role}]" if role else ""
        return f"[{now()}] [{who}]{destination}{tag} {message}"

    return line


def audit_command(ctx: AppContext, app: App) -> object:
    line = audit_lines(ctx, app)
    return lambda message: words.render(audit_append(app, line(message)))


ERROR_PAGE = re.compile(r"[45]..\.html")


def error_pages(directory: Path) -> dict[str, bytes]:
    """Kamal's ``{4??.html,5??.html}`` of the directory (none: nothing to upload)."""
    if not directory.is_dir():
        return {}
    return {
        path.name: path.read_bytes()
        for path in sorted(directory.iterdir())
        if ERROR_PAGE.fullmatch(path.name) and path.is_file()
    }


def _project_file(cwd: Path, path: str) -> bytes:
    try:
        return (cwd / path).read_bytes()
    except OSError as exc:
        raise StepFailed(f"cannot read {path}: {exc.strerror or exc}") from None


def render_accessory_template(ctx: AppContext, accessory: Accessory, path: str) -> bytes:
    """An accessory's ``.erb`` file as Kamal renders it: ERB with the accessory's env (clear
    values and secrets) added to ENV, from the project directory."""
    env = {**ctx.config.env, **dict(accessory.env.clear)}  # ENV after deploy.yml's ERB
    env.update((var, secret_value(ctx, key)) for var, key in accessory.env.secrets)
    text = _project_file(ctx.cwd, path).decode("utf-8", errors="replace")
    try:
        return erb.render(text, env, path, LocalErbHost(ctx.cwd)).encode()
    except ConfigErrors as exc:
        raise StepFailed("; ".join(str(e) for e in exc.errors)) from None


def config_value(data: dict[str, Any], path: str) -> str:
    """The value at a config path (``accessories/db/registry/password``), "" when absent."""
    value: Any = data
    for key in path.split("/"):
        value = value.get(key) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def secret_value(ctx: AppContext, name: str) -> str:
    """A secret's value; one that cannot be read fails the step with Kamal's message."""
    try:
        return ctx.secrets[name]
    except ConfigErrors as exc:
        raise StepFailed("; ".join(str(e) for e in exc.errors)) from None


def unreadable_secrets(steps: tuple[Step, ...], runtime: Runtime) -> list[str]:
    """Why the secrets a plan's steps write or hand on cannot all be read (each reason once):
    found before any step runs, not at the step that needs one (where Kamal finds it)."""
    reasons: list[str] = []
    for step in steps:
        try:
            for name in step.stdin_secrets:
                runtime.secret(name)
            for item in step.commands:
                if isinstance(item, Upload) and isinstance(item.source, EnvFile | SecretFile):
                    runtime.render_upload(item, step.host)
        except StepFailed as exc:
            reasons.append(str(exc))
    return list(dict.fromkeys(reasons))


def make_runtime(ctx: AppContext, app: App, pool: ConnectionPool, message: str) -> Runtime:
    roles = {r.name: r for r in app.roles}
    accessories = {a.name: a for a in app.accessories}

    def secret(name: str) -> str:
        if name.startswith("<") and name.endswith("/password>"):  # a literal in deploy.yml
            return config_value(ctx.config.data, name[1:-1])
        return secret_value(ctx, name)

    def render_upload(upload: Upload, host: str) -> bytes | dict[str, bytes]:
        source = upload.source
        if isinstance(source, LocalFile):
            return _project_file(ctx.cwd, source.path)
        if isinstance(source, SecretFile):
            return secret_value(ctx, source.name).encode()
        if isinstance(source, ErrorPages):
            return error_pages(ctx.cwd / source.path)
        if isinstance(source, AccessoryTemplate):
            return render_accessory_template(ctx, accessories[source.accessory], source.path)
        name = source.name
        env = app.env_for(roles[name], host) if source.owner == "role" else accessories[name].env
        pairs = tuple((var, secret_value(ctx, key)) for var, key in env.secrets)
        return env_file_content(pairs).encode()

    return Runtime(
        pool=pool,
        render_upload=render_upload,
        secret=secret,
        lock_details=lock_details(ctx, app.version, message),
        audit_command=audit_command(ctx, app),  # type: ignore[arg-type]
        mask=lambda text: mask(text, ctx.resolved_secret_values()),
    )
