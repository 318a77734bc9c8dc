"""Accessories: run, start, stop, remove (Kamal's commands/accessory.rb)."""

from __future__ import annotations

from backstaff.planner.commands.app import command_words
from backstaff.planner.commands.base import Cmd, argumentize, optionize
from backstaff.planner.commands.words import PWD, Cat, Val, Word
from backstaff.planner.model import Accessory, App, Mount
from backstaff.schemas.host_strings import hostname


def _host_path(accessory: Accessory, mount: Mount, is_file: bool) -> Word:
    if not is_file and mount.local.startswith("/"):  # a file goes under the service's directory
        return Val(mount.local)
    path = mount.remote if is_file else mount.local
    separator = "" if path.startswith("/") else "/"
    return Cat((PWD, Val(f"/{accessory.service_name}{separator}{path}")))


def _volume(accessory: Accessory, mount: Mount, is_file: bool) -> Word:
    suffix = f":{mount.remote}" + (f":{mount.options}" if mount.options else "")
    return Cat((_host_path(accessory, mount, is_file), Val(suffix)))


def _parent(word: Word) -> Word:
    """The directory holding a file path word (the last ``/`` of its value part)."""
    if isinstance(word, Cat):
        *head, last = word.parts
        assert isinstance(last, Val)
        return Cat((*head, Val(last.text.rsplit("/", 1)[0])))
    assert isinstance(word, Val)
    return Val(word.text.rsplit("/", 1)[0])


def run(app: App, accessory: Accessory, host: str) -> Cmd:
    tokens: list[Word] = [
        "docker", "run", "--name", Val(accessory.service_name), "--detach", "--restart",
        "unless-stopped", "--network", Val(accessory.network),
    ]  # fmt: skip
    for flag, value in app.logging:
        tokens += [flag, Val(value)]
    if accessory.port:
        tokens += ["--publish", Val(accessory.port)]
    tokens += argumentize("--env", (("KAMAL_HOST", hostname(host)),) + accessory.env.clear)
    tokens += ["--env-file", Val(accessory.env_file)]
    tokens += volume_args(accessory)
    tokens += argumentize("--label", (("service", accessory.service_name),) + accessory.labels)
    tokens += optionize(accessory.options)
    tokens.append(Val(accessory.image))
    tokens += command_words(accessory.cmd)
    return tuple(tokens)


def volume_args(accessory: Accessory) -> Cmd:
    """Kamal's ``volume_args``: the volumes, then the files and directories as mounts."""
    tokens: list[Word] = []
    for volume in accessory.volumes:
        tokens += ["--volume", Val(volume)]
    tokens += [t for m in accessory.files for t in ("--volume", _volume(accessory, m, True))]
    tokens += [t for m in accessory.directories for t in ("--volume", _volume(accessory, m, False))]
    return tuple(tokens)


def make_directories(accessory: Accessory) -> tuple[Cmd, ...]:
    commands: list[Cmd] = [("mkdir", "-p", Val(accessory.env_file.rsplit("/", 1)[0]))]
    for mount in accessory.directories:
        commands.append(("mkdir", "-p", _host_path(accessory, mount, False)))
    for mount in accessory.files:
        commands.append(("mkdir", "-p", _parent(_host_path(accessory, mount, True))))
    return tuple(commands)


def file_path(accessory: Accessory, mount: Mount) -> str:
    """Where a ``files:`` entry goes on the host (relative to the home: Kamal's host_path)."""
    return f"{accessory.service_name}{mount.remote}"


def set_owners(accessory: Accessory) -> tuple[Cmd, ...]:
    """Kamal's ``chmod``/``chown`` of the directories (mode and owner when given) and the
    ``chown`` of the uploaded files (their mode is set by the upload)."""
    commands: list[Cmd] = []
    for mount in accessory.directories:
        path = _host_path(accessory, mount, False)
        if mount.mode:
            commands.append(("chmod", Val(mount.mode), path))
        if mount.owner:
            commands.append(("chown", Val(mount.owner), path))
    for mount in accessory.files:
        if mount.owner:
            commands.append(("chown", Val(mount.owner), Val(file_path(accessory, mount))))
    return tuple(commands)


def running_container_id(accessory: Accessory) -> Cmd:
    """The running container's id (Kamal's ``container_id_for(..., only_running: true)``)."""
    name = f"name=^{accessory.service_name}$"
    return ("docker", "container", "ls", "--filter", Val(name), "--quiet")


def start(accessory: Accessory) -> Cmd:
    return ("docker", "container", "start", Val(accessory.service_name))


def stop(service_name: str) -> Cmd:
    return ("docker", "container", "stop", Val(service_name))


def remove_container(service_name: str) -> Cmd:
    return (
        "docker",
        "container",
        "prune",
        "--force",
        "--filter",
        Val(f"label=service={service_name}"),
    )


def pull(accessory: Accessory) -> Cmd:
    return ("docker", "image", "pull", Val(accessory.image))
