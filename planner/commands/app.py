"""App containers: run, find, stop, tag (Kamal's commands/app.rb)."""

from __future__ import annotations

import hashlib

from backstaff.planner.commands.base import Cmd, argumentize, optionize, pipe, ruby_dump
from backstaff.planner.model import App, Role


def hostname(host: str, version: str) -> str:
    """Kamal appends 12 random hex digits; backstaff derives them so plans are reproducible."""
    suffix = hashlib.sha256(f"{host}\0{version}".encode()).hexdigest()[:12]
    return f"{host[:51].rstrip('.')}-{suffix}"


def run(app: App, role: Role, host: str, version: str) -> Cmd:
    name = role.container_name(version)
    env = app.env_for(role, host)
    kamal_env = [("KAMAL_CONTAINER_NAME", name), ("KAMAL_VERSION", version), ("KAMAL_HOST", host)]
    if app.destination:
        kamal_env.append(("KAMAL_DESTINATION", app.destination))
    tokens: list[str] = [
        "docker", "run", "--detach", "--restart", "unless-stopped", "--name", name,
        "--network", "kamal", "--hostname", hostname(host, version),
    ]  # fmt: skip
    tokens += argumentize("--env", tuple(kamal_env) + env.clear)
    tokens += ["--env-file", role.env_file]
    for flag, value in role.logging:
        tokens += [flag, value]
    for volume in app.volumes:
        tokens += ["--volume", volume]
    if role.asset_path and role.proxy:
        tokens += ["--volume", asset_volume(app, role, version)]
    tokens += argumentize("--label", app.labels_for(role), bare_if_empty=True)
    tokens += optionize(role.options)
    tokens.append(f"{app.repository}:{version}")
    if role.cmd:
        tokens.append(role.cmd)
    return tuple(tokens)


def asset_volume(app: App, role: Role, version: str) -> str:
    path, _, options = (role.asset_path or "").partition(":")
    source = f"$PWD/{app.app_directory}/assets/volumes/{role.name}-{version}"
    return f"{source}:{path}" + (f":{options}" if options else "")


def container_id(role: Role, version: str) -> Cmd:
    return container_id_by_name(role.container_name(version))


def container_id_by_name(name: str) -> Cmd:
    return ("docker", "container", "ls", "--all", "--filter", f"'name=^{name}$'", "--quiet")


def stop_container(name: str, role: Role | None, drain_timeout: int) -> Cmd:
    """Proxy roles use docker's default stop timeout; others wait ``drain_timeout``."""
    stop_cmd: Cmd = ("xargs", "docker", "stop")
    if role is not None and not role.proxy:
        stop_cmd += ("-t", str(drain_timeout))
    return pipe(container_id_by_name(name), stop_cmd)


def rename(role: Role, version: str, new_name: str) -> Cmd:
    return ("docker", "rename", role.container_name(version), new_name)


def status(role: Role, version: str) -> Cmd:
    return pipe(
        container_id(role, version),
        ("xargs", "docker", "inspect", "--format",
         "'{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}'"),
    )  # fmt: skip


def wait_ready(role: Role, version: str, readiness_delay: int, deploy_timeout: int) -> Cmd:
    """For roles without the proxy (Kamal polls from its side; here one remote loop does it):
    ``healthy`` is ready; ``running`` is ready if still running after ``readiness_delay``."""
    check = " ".join(status(role, version))
    script = (
        f"deadline=$(( $(date +%s) + {deploy_timeout} )); "
        f"while :; do s=$({check}); "
        f'case "$s" in healthy) exit 0;; running) sleep {readiness_delay}; s=$({check}); '
        f'case "$s" in healthy|running) exit 0;; esac;; esac; '
        f'if [ $(date +%s) -ge $deadline ]; then echo "container not ready after {deploy_timeout}'
        f' seconds ($s)" >&2; exit 1; fi; sleep 1; done'
    )
    return ("sh", "-c", "'" + script.replace("'", "'\\''") + "'")


def tag_latest(app: App) -> Cmd:
    return ("docker", "tag", app.image, app.latest_image)


def make_env_directory(app: App) -> Cmd:
    return ("mkdir", "-p", f"{app.app_directory}/env/roles")


def env_file_content(pairs: tuple[tuple[str, str], ...]) -> str:
    """Kamal's env file: ``KEY=value`` lines, Ruby ``dump`` escaping without the quotes."""
    if not pairs:
        return "\n"
    return "".join(
        f"{key}={ruby_dump(value).replace(chr(92) + chr(34), chr(34))}\n" for key, value in pairs
    )
