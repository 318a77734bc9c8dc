"""Builders for Kamal's imperative verbs (app, accessory, proxy, registry, prune, audit)."""

from __future__ import annotations

from backstaff.planner.commands.base import Cmd, argumentize, pipe
from backstaff.planner.model import Accessory, App, Role


def role_filters(app: App, role: Role) -> Cmd:
    return ("--filter", f"label=service={app.service}", "--filter",
            f"label=destination={app.destination or ''}", "--filter", f"label=role={role.name}")  # fmt: skip


def current_container_id(app: App, role: Role) -> Cmd:
    """The newest running container of the role (Kamal's "current container")."""
    return ("docker", "ps", "--latest", "--quiet", *role_filters(app, role),
            "--filter", "status=running", "--filter", "status=restarting")  # fmt: skip


def app_details(app: App, role: Role) -> Cmd:
    return ("docker", "ps", *role_filters(app, role))


def app_containers(app: App) -> Cmd:
    return ("docker", "container", "ls", "--all", "--filter", f"label=service={app.service}",
            "--filter", f"label=destination={app.destination or ''}")  # fmt: skip


def app_images(app: App) -> Cmd:
    return ("docker", "image", "ls", app.repository)


def app_logs(app: App, role: Role, lines: int | None, grep: str | None) -> Cmd:
    logs: Cmd = ("xargs", "docker", "logs", "--timestamps")
    if lines is not None:
        logs += ("--tail", str(lines))
    command = pipe(current_container_id(app, role), logs + ("2>&1",))
    return pipe(command, ("grep", f"'{grep}'")) if grep else command


def app_stop(app: App, role: Role) -> Cmd:
    stop: Cmd = ("xargs", "docker", "stop")
    if not role.proxy:
        stop += ("-t", str(app.drain_timeout))
    return pipe(current_container_id(app, role), stop)


def app_start_latest(app: App, role: Role) -> Cmd:
    latest = ("docker", "ps", "--all", "--latest", "--quiet", *role_filters(app, role))
    return ("docker", "start", f"$({' '.join(latest)})")


def app_remove_containers(app: App, role: Role) -> Cmd:
    return ("docker", "container", "prune", "--force", *role_filters(app, role))


def app_remove_images(app: App) -> Cmd:
    return (
        "docker",
        "image",
        "prune",
        "--all",
        "--force",
        "--filter",
        f"label=service={app.service}",
    )


def app_exec(app: App, role: Role, host: str, command: str) -> Cmd:
    env = app.env_for(role, host)
    tokens: list[str] = ["docker", "run", "--rm", "--network", "kamal"]
    tokens += argumentize("--env", env.clear)
    tokens += ["--env-file", role.env_file]
    for flag, value in role.logging:
        tokens += [flag, value]
    for volume in app.volumes:
        tokens += ["--volume", volume]
    return tuple(tokens) + (app.image, command)


def app_exec_reuse(app: App, role: Role, command: str) -> Cmd:
    return ("docker", "exec", f"$({' '.join(current_container_id(app, role))})", command)


def proxy_maintenance(app: App, role: Role, message: str | None) -> Cmd:
    tokens: Cmd = ("docker", "exec", "kamal-proxy", "kamal-proxy", "stop", role.container_prefix,
                   f'--drain-timeout="{app.drain_timeout}s"')  # fmt: skip
    return tokens + ((f'--message="{message}"',) if message else ())


def proxy_live(role: Role) -> Cmd:
    return ("docker", "exec", "kamal-proxy", "kamal-proxy", "resume", role.container_prefix)


def remove_app_directories(app: App) -> tuple[Cmd, ...]:
    return (("rm", "-rf", app.app_directory),
            ("rm", "-rf", f".kamal/proxy/apps-config/{app.service_with_destination}"))  # fmt: skip


def accessory_details(accessory: Accessory) -> Cmd:
    return ("docker", "ps", "--filter", f"label=service={accessory.service_name}")


def accessory_logs(accessory: Accessory, lines: int | None, grep: str | None) -> Cmd:
    command: Cmd = ("docker", "logs", accessory.service_name, "--timestamps")
    if lines is not None:
        command += ("--tail", str(lines))
    command += ("2>&1",)
    return pipe(command, ("grep", f"'{grep}'")) if grep else command


def accessory_exec(accessory: Accessory, command: str) -> Cmd:
    return ("docker", "exec", accessory.service_name, command)


def audit_tail(app: App, lines: int = 50) -> Cmd:
    return ("tail", "-n", str(lines), app.audit_log)
