"""Kamal's hooks around commands and steps, with the KAMAL_* variables Kamal gives them."""

from __future__ import annotations

from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.apply import HookError
from backstaff.executors.hooks import HookFailed, run_hook
from backstaff.planner.model import App
from backstaff.planner.version import abbreviated
from backstaff.runtime import now, performer


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


def step_hook(ctx: AppContext, app: App, name: str, env: dict[str, str]) -> None:
    try:
        hook(ctx, app, name, env)
    except BackstaffError as exc:
        raise HookError(str(exc)) from None
