"""Host prerequisites, the lock, and pruning (Kamal's docker, registry, lock, prune commands)."""

from __future__ import annotations

from backstaff.planner.commands.base import Cmd
from backstaff.planner.commands.words import AND, OR, PIPE, Cat, Raw, Runtime, Sub, Val
from backstaff.planner.model import App, Registry

LOCK_DETAILS = Runtime("lock details")  # base64 of user, time, version, message: known at run time
# The username arrives as the first line of stdin when it is a secret; the password follows.
READ_USERNAME = Raw("read -r u &&")
USERNAME_READ = Raw('"$u"')

PRUNE_IMAGES_KEEP = "<none>"


DOCKER_INSTALL: Cmd = (
    "sh", "-c", Val("curl -fsSL https://get.docker.com || wget -O - https://get.docker.com || echo \"exit 1\""),
    PIPE, "sh",
)  # fmt: skip
# Kamal's docker.rb checks, as it runs them
SUPERUSER = Raw('[ "${EUID:-$(id -u)}" -eq 0 ] || sudo -nl usermod >/dev/null')
ROOT = Raw('[ "${EUID:-$(id -u)}" -eq 0 ]')
IN_DOCKER_GROUP = Raw('id -nG "${USER:-$(id -un)}" | grep -qw docker')
ADD_TO_DOCKER_GROUP = Raw('sudo -n usermod -aG docker "${USER:-$(id -un)}"')
NOT_INSTALLABLE = (
    "Docker is not installed on {host} and can't be automatically installed without having"
    " root access and either `wget` or `curl`. Install Docker manually:"
    " https://docs.docker.com/engine/install/"
)


def docker_bootstrap(host: str) -> Cmd:
    """Kamal's ``server bootstrap`` on one host: where ``docker -v`` fails, install docker
    (with root or sudo for usermod), then add a non-root SSH user to the docker group; with
    neither, fail with Kamal's message."""
    return (
        "docker", "-v", OR, Raw("{ if"), SUPERUSER, Raw("; then"),
        "echo", Val(f"Missing Docker on {host}. Installing…"), AND, *DOCKER_INSTALL, AND,
        Raw("{"), ROOT, OR, IN_DOCKER_GROUP, OR, ADD_TO_DOCKER_GROUP, Raw("; }"),
        Raw("; else"), "echo", Val(NOT_INSTALLABLE.format(host=host)), Raw(">&2; exit 1; fi; }"),
    )  # fmt: skip


def network_create() -> Cmd:
    return ("docker", "network", "create", "kamal")


def login(registry: Registry) -> Cmd:
    """Secrets go on stdin, never on the command line (Kamal uses ``-p``): the password, and
    before it the username when that is a secret too (see :func:`login_stdin_secrets`)."""
    server = (Val(registry.server),) if registry.server else ()
    if registry.username_secret:
        return (READ_USERNAME, "docker", "login", *server, "-u", USERNAME_READ, "--password-stdin")
    return ("docker", "login", *server, "-u", Val(registry.username or ""), "--password-stdin")


def login_stdin_secrets(registry: Registry) -> tuple[str, ...]:
    """The secrets ``login`` reads from stdin, in order, one per line."""
    password = registry.password_secret or plain_password(registry)
    return ((registry.username_secret,) if registry.username_secret else ()) + (password,)


def plain_password(registry: Registry) -> str:
    """The name standing for a password written in deploy.yml (not a secret): its config path
    in angle brackets, read from the config only when the command runs."""
    return f"<{registry.context}/password>"


def logout(registry: Registry) -> Cmd:
    return ("docker", "logout", *((Val(registry.server),) if registry.server else ()))


LOCAL_REGISTRY = "kamal-docker-registry"


def local_registry_setup(server: str) -> Cmd:
    """Kamal's ``registry setup`` for ``localhost:PORT`` (run locally): start the registry
    container, or run one (``registry:3``) published on the loopback only."""
    port = server.partition(":")[2] or "5000"
    return ("docker", "start", LOCAL_REGISTRY, OR, "docker", "run", "--detach", "-p",
            Val(f"127.0.0.1:{port}:5000"), "--name", LOCAL_REGISTRY, "registry:3")  # fmt: skip


def local_registry_remove() -> Cmd:
    return ("docker", "stop", LOCAL_REGISTRY, AND, "docker", "rm", LOCAL_REGISTRY)


REGISTRY_PASSWORD = "<registry/password>"  # the main registry's password written in deploy.yml


def pull(app: App) -> tuple[Cmd, ...]:
    image = app.image
    check = (
        "docker", "inspect", "-f", Val("{{ .Config.Labels.service }}"), Val(image), PIPE, "grep",
        "-x", Val(app.service), OR, Raw("("), "echo", Val(f"Image {image} is missing the 'service' label"),
        AND, "exit", "1", Raw(")"),
    )  # fmt: skip
    return (("docker", "image", "rm", "--force", Val(image)), ("docker", "pull", Val(image)), check)


def lock_acquire(app: App) -> Cmd:
    lock = app.lock_directory
    return ("mkdir", Val(lock), AND, "echo", LOCK_DETAILS, Raw(">"), Val(f"{lock}/details"))


def lock_release(app: App) -> Cmd:
    lock = app.lock_directory
    return ("rm", Val(f"{lock}/details"), AND, "rm", "-r", Val(lock))


def prune_containers(app: App) -> Cmd:
    return (
        "docker", "ps", "-q", "-a", "--filter", Val(f"label=service={app.service}"), "--filter",
        "status=created", "--filter", "status=exited", "--filter", "status=dead", PIPE, "tail",
        "-n", f"+{int(app.retain_containers) + 1}", PIPE, Raw("while read container_id; do"),
        "docker", "rm", Raw('"$container_id";'), Raw("done"),
    )  # fmt: skip


def prune_images(app: App) -> tuple[Cmd, ...]:
    service = Val(f"label=service={app.service}")
    in_use = ("docker", "container", "ls", "-a", "--format", Val("{{.Image}}\\|"),
              "--filter", service, PIPE, "tr", "-d", Val("\\n"))  # fmt: skip
    keep = Val(f"{app.latest_image}\\|{app.repository}:{PRUNE_IMAGES_KEEP}")
    return (
        ("docker", "image", "prune", "--force", "--filter", service),
        (
            "docker", "image", "ls", "--filter", service, "--format",
            Val("{{.ID}} {{.Repository}}:{{.Tag}}"), PIPE, "grep", "-v", "-w",
            Cat((Sub(in_use), keep)),
            PIPE, Raw("while read image tag; do"), "docker", "rmi", Raw('"$tag";'), Raw("done"),
        ),
    )  # fmt: skip


def audit_append(app: App, line: str) -> Cmd:
    """Append one line to the audit log (Kamal's ``audit`` command)."""
    return ("mkdir", "-p", ".kamal", AND, "echo", Val(line), Raw(">>"), Val(app.audit_log))


def lock_details(app: App) -> Cmd:
    """The lock's details, decoded (who holds it, since when, why)."""
    return ("base64", "-d", Raw("<"), Val(f"{app.lock_directory}/details"))
