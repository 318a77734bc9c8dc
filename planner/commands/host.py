"""Host prerequisites, the lock, and pruning (Kamal's docker, registry, lock, prune commands)."""

from __future__ import annotations

from backstaff.planner.commands.base import Cmd
from backstaff.planner.model import App, Registry

PRUNE_IMAGES_KEEP = "<none>"


def docker_version() -> Cmd:
    return ("docker", "-v")


def network_create() -> Cmd:
    return ("docker", "network", "create", "kamal")


def login(registry: Registry, username: str) -> Cmd:
    """The password goes on stdin, never on the command line (Kamal uses ``-p``)."""
    server = (registry.server,) if registry.server else ()
    return ("docker", "login") + server + ("-u", f'"{username}"', "--password-stdin")


def pull(app: App) -> tuple[Cmd, ...]:
    image = app.image
    check = (
        "docker", "inspect", "-f", "'{{ .Config.Labels.service }}'", image, "|", "grep", "-x",
        app.service, "||", "(echo", f"\"Image {image} is missing the 'service' label\"", "&&",
        "exit", "1)",
    )  # fmt: skip
    return (("docker", "image", "rm", "--force", image), ("docker", "pull", image), check)


def lock_acquire(app: App, encoded_details: str) -> Cmd:
    lock = app.lock_directory
    return ("mkdir", lock, "&&", "echo", f'"{encoded_details}"', ">", f"{lock}/details")


def lock_release(app: App) -> Cmd:
    lock = app.lock_directory
    return ("rm", f"{lock}/details", "&&", "rm", "-r", lock)


def prune_containers(app: App) -> Cmd:
    return (
        "docker", "ps", "-q", "-a", "--filter", f"label=service={app.service}", "--filter",
        "status=created", "--filter", "status=exited", "--filter", "status=dead", "|", "tail",
        "-n", f"+{app.retain_containers + 1}", "|", "while", "read", "container_id;", "do",
        "docker", "rm", "$container_id;", "done",
    )  # fmt: skip


def prune_images(app: App) -> tuple[Cmd, ...]:
    keep = f"{app.latest_image}\\|{app.repository}:{PRUNE_IMAGES_KEEP}"
    return (
        ("docker", "image", "prune", "--force", "--filter", f"label=service={app.service}"),
        (
            "docker", "image", "ls", "--filter", f"label=service={app.service}", "--format",
            "'{{.ID}} {{.Repository}}:{{.Tag}}'", "|", "grep", "-v", "-w",
            f"\"$(docker container ls -a --format '{{{{.Image}}}}\\|' --filter label=service={app.service} | tr -d '\\n'){keep}\"",
            "|", "while", "read", "image", "tag;", "do", "docker", "rmi", "$tag;", "done",
        ),
    )  # fmt: skip
