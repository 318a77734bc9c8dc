"""Kamal's hooks around commands and steps, with the environment Kamal 2.11 gives each one.

Every hook gets ``KAMAL_RECORDED_AT``, ``KAMAL_PERFORMER``, ``KAMAL_VERSION``,
``KAMAL_SERVICE_VERSION``, ``KAMAL_SERVICE``, ``KAMAL_HOSTS`` (the selected hosts, or the boot
or reboot group), ``KAMAL_LOCK`` (``true`` only while the deploy lock is held) and
``KAMAL_COMMAND``; ``KAMAL_SUBCOMMAND``, ``KAMAL_DESTINATION`` and ``KAMAL_ROLES`` when they
apply. ``pre-connect``, ``pre-deploy`` and ``post-deploy`` also get every secret, by name, and
``post-deploy`` ``KAMAL_RUNTIME``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

import click

from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.apply import HookError
from backstaff.executors.hooks import HookFailed, hook_exists, run_hook
from backstaff.planner.model import App
from backstaff.planner.steps import Step
from backstaff.planner.version import VersionError, abbreviated
from backstaff.runtime import now, performer

WITH_SECRETS = frozenset({"pre-connect", "pre-deploy", "post-deploy"})


def invoked() -> tuple[str, str | None]:
    """Kamal's KAMAL_COMMAND and KAMAL_SUBCOMMAND: the command as typed (``app``, ``exec``)."""
    click_ctx = click.get_current_context(silent=True)
    words = click_ctx.command_path.split()[1:] if click_ctx else []
    return (words[0] if words else "", words[1] if len(words) > 1 else None)


def hook_env(
    ctx: AppContext,
    app: App,
    command: str,
    subcommand: str | None,
    hosts: Iterable[str],
    *,
    lock: bool = True,
    version: str | None = None,
) -> dict[str, str]:
    version = version or app.version
    env = {
        "KAMAL_RECORDED_AT": now(),
        "KAMAL_PERFORMER": performer(ctx),
        "KAMAL_VERSION": version,
        "KAMAL_SERVICE_VERSION": f"{app.service}@{abbreviated(version)}",
        "KAMAL_SERVICE": app.service,
        "KAMAL_HOSTS": ",".join(hosts),
        "KAMAL_LOCK": "true" if lock else "false",
        "KAMAL_COMMAND": command,
    }
    if subcommand:
        env["KAMAL_SUBCOMMAND"] = subcommand
    if app.destination:
        env["KAMAL_DESTINATION"] = app.destination
    if ctx.options.roles:
        env["KAMAL_ROLES"] = ",".join(ctx.selection.roles)
    return env


def _output_level(ctx: AppContext, name: str) -> str:
    """Kamal's: -q hides, -v shows the output; else ``hooks_output`` (all or per hook) decides,
    and by default the hook is named but its output is not shown."""
    if ctx.options.quiet:
        return "quiet"
    if ctx.options.verbose:
        return "verbose"
    setting = ctx.config.data.get("hooks_output")
    if isinstance(setting, dict):
        setting = setting.get(name)
    return str(setting) if setting in ("quiet", "verbose") else "info"


def hook(ctx: AppContext, app: App, name: str, env: dict[str, str]) -> None:
    if ctx.options.skip_hooks:
        return
    hooks_path = ctx.cwd / app.hooks_path
    if not hook_exists(hooks_path, name):
        return
    if name in WITH_SECRETS:  # resolved only when the hook exists, as Kamal
        env = {**{key: ctx.secrets[key] for key in ctx.secrets.names()}, **env}
    level = _output_level(ctx, name)
    if level != "quiet":
        click.echo(f"  Running the {name} hook", err=True)

    def show(line: str) -> None:
        click.echo(f"  {name}: {line}", err=True)

    # ENV as Kamal's process has it (what deploy.yml's Dotenv.load added; KAMAL_DESTINATION
    # the -d given or unset, never the shell's), then the hook's variables
    env = {**ctx.config.env, **env}
    try:
        run_hook(hooks_path, name, env, show if level == "verbose" else None)
    except HookFailed as exc:
        raise BackstaffError(str(exc)) from None


def pre_connect(ctx: AppContext, app: App) -> None:
    """Once per run, before the first SSH connection of any command, as Kamal."""
    if ctx.connected:
        return
    ctx.connected = True
    if ctx.options.skip_hooks or not hook_exists(ctx.cwd / app.hooks_path, "pre-connect"):
        return
    try:
        version: str | None = ctx.version  # Kamal's config.version, whatever the command boots
    except VersionError:
        version = None
    command, subcommand = invoked()
    env = hook_env(ctx, app, command, subcommand, ctx.selection.hosts, lock=False, version=version)
    hook(ctx, app, "pre-connect", env)


def step_hook(ctx: AppContext, app: App, name: str, env: dict[str, str]) -> None:
    try:
        hook(ctx, app, name, env)
    except BackstaffError as exc:
        raise HookError(str(exc)) from None


class GroupHooks:
    """``pre``/``post`` hooks around each group of steps (boot groups, proxy reboot groups):
    ``pre`` before the group's first step starts (the others wait for it), ``post`` once all
    its steps succeeded, each with ``KAMAL_HOSTS`` the group's hosts. Pass ``before``/``after``
    to ``apply_steps``."""

    def __init__(self, ctx: AppContext, app: App, pre: str | None, post: str, env: dict[str, str],
                 groups: list[list[Step]]) -> None:  # fmt: skip
        self.ctx, self.app, self.pre, self.post, self.env = ctx, app, pre, post, env
        self.group_of = {step.id: index for index, group in enumerate(groups) for step in group}
        self.groups = [{step.id for step in group} for group in groups]
        self.hosts = [list(dict.fromkeys(step.host for step in group)) for group in groups]
        self.locks = [threading.Lock() for _ in groups]
        self.started: set[int] = set()
        self.failed: set[int] = set()
        self.done: set[str] = set()
        self.guard = threading.Lock()

    def _env(self, index: int) -> dict[str, str]:
        return {**self.env, "KAMAL_RECORDED_AT": now(), "KAMAL_HOSTS": ",".join(self.hosts[index])}

    def before(self, step: Step) -> None:
        index = self.group_of.get(step.id)
        if index is None or self.pre is None:  # None: only a post hook (docker-setup)
            return
        with self.locks[index]:  # the group's other steps wait until its pre hook ran
            if index in self.failed:
                raise HookError(f"Hook `{self.pre}` failed")
            if index not in self.started:
                self.started.add(index)
                try:
                    step_hook(self.ctx, self.app, self.pre, self._env(index))
                except HookError:
                    self.failed.add(index)
                    raise

    def after(self, step: Step) -> None:
        index = self.group_of.get(step.id)
        if index is None:
            return
        with self.guard:
            self.done.add(step.id)
            last = self.groups[index] <= self.done
        if last:
            step_hook(self.ctx, self.app, self.post, self._env(index))


def chain(*callbacks: Callable[[Step], None]) -> Callable[[Step], None]:
    def call(step: Step) -> None:
        for callback in callbacks:
            callback(step)

    return call
