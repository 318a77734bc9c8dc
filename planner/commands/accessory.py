"""Accessories: run, start, stop, remove (Kamal's commands/accessory.rb)."""

from __future__ import annotations

from backstaff.planner.commands.base import Cmd, argumentize, optionize
from backstaff.planner.model import Accessory, App, Mount


def _host_path(accessory: Accessory, mount: Mount, is_file: bool) -> str:
    if mount.local.startswith("/"):
        return mount.local
    path = mount.remote if is_file else mount.local
    separator = "" if path.startswith("/") else "/"
    return f"$PWD/{accessory.service_name}{separator}{path}"


def _volume(accessory: Accessory, mount: Mount, is_file: bool) -> str:
    volume = f"{_host_path(accessory, mount, is_file)}:{mount.remote}"
    return volume + (f":{mount.options}" if mount.options else "")


def run(app: App, accessory: Accessory, host: str) -> Cmd:
    tokens: list[str] = [
        "docker", "run", "--name", accessory.service_name, "--detach", "--restart",
        "unless-stopped", "--network", accessory.network,
    ]  # fmt: skip
    for flag, value in app.logging:
        tokens += [flag, value]
    if accessory.port:
        tokens += ["--publish", accessory.port]
    tokens += argumentize("--env", (("KAMAL_HOST", host),) + accessory.env.clear)
    tokens += ["--env-file", accessory.env_file]
    for volume in accessory.volumes:
        tokens += ["--volume", volume]
    tokens += [t for m in accessory.files for t in ("--volume", _volume(accessory, m, True))]
    tokens += [t for m in accessory.directories for t in ("--volume", _volume(accessory, m, False))]
    tokens += argumentize("--label", (("service", accessory.service_name),) + accessory.labels)
    tokens += optionize(accessory.options)
    tokens.append(accessory.image)
    if accessory.cmd:
        tokens.append(accessory.cmd)
    return tuple(tokens)


def make_directories(accessory: Accessory) -> tuple[Cmd, ...]:
    commands: list[Cmd] = [("mkdir", "-p", f"{accessory.env_file.rsplit('/', 1)[0]}")]
    for mount in accessory.directories:
        commands.append(("mkdir", "-p", _host_path(accessory, mount, False)))
    for mount in accessory.files:
        directory = _host_path(accessory, mount, True).rsplit("/", 1)[0]
        commands.append(("mkdir", "-p", directory))
    return tuple(commands)


def start(accessory: Accessory) -> Cmd:
    return ("docker", "container", "start", accessory.service_name)


def stop(service_name: str) -> Cmd:
    return ("docker", "container", "stop", service_name)


def remove_container(service_name: str) -> Cmd:
    return ("docker", "container", "prune", "--force", "--filter", f"label=service={service_name}")


def pull(accessory: Accessory) -> Cmd:
    return ("docker", "image", "pull", accessory.image)
