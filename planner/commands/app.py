"""App containers: run, find, stop, tag (Kamal's commands/app.rb)."""

from __future__ import annotations

import hashlib

from backstaff.planner.commands.base import Cmd, argumentize, optionize
from backstaff.planner.commands.words import AND, OR, PWD, SEMI, Cat, Raw, Sub, Val, Word, render
from backstaff.planner.model import App, Role
from backstaff.schemas import host_strings
from backstaff.schemas.errors import ConfigErrors
from backstaff.schemas.shell_words import shell_words


def hostname(host: str, version: str) -> str:
    """The host's name (``user@`` left out, as SSHKit reads it), then 12 hex digits: Kamal's
    are random, backstaff derives them so plans are reproducible."""
    suffix = hashlib.sha256(f"{host}\0{version}".encode()).hexdigest()[:12]
    return f"{host_strings.hostname(host)[:51].rstrip('.')}-{suffix}"


def run(app: App, role: Role, host: str, version: str) -> Cmd:
    name = role.container_name(version)
    env = app.env_for(role, host)
    kamal_env = [
        ("KAMAL_CONTAINER_NAME", name),
        ("KAMAL_VERSION", version),
        ("KAMAL_HOST", host_strings.hostname(host)),
    ]
    if app.destination:
        kamal_env.append(("KAMAL_DESTINATION", app.destination))
    tokens: list[Word] = [
        "docker", "run", "--detach", "--restart", "unless-stopped", "--name", Val(name),
        "--network", "kamal", "--hostname", Val(hostname(host, version)),
    ]  # fmt: skip
    tokens += argumentize("--env", tuple(kamal_env) + env.clear)
    tokens += ["--env-file", Val(role.env_file)]
    for flag, value in role.logging:
        tokens += [flag, Val(value)]
    for volume in app.volumes:
        tokens += ["--volume", Val(volume)]
    if role.asset_path and role.proxy:
        tokens += ["--volume", asset_volume(app, role, version)]
    tokens += argumentize("--label", app.labels_for(role))
    tokens += optionize(role.options)
    tokens.append(Val(f"{app.repository}:{version}"))
    tokens += command_words(role.cmd)
    return tuple(tokens)


# A boot keeps the new container's id (``docker run --detach`` prints it) in ``$booted``;
# kamal-proxy's target is its first 12 characters, docker's short id, as the
# ``docker container ls --quiet`` that Kamal runs for it prints it: one docker call fewer.
BOOTED_SHORT_ID = Raw('"${booted%"${booted#????????????}"}"')


def run_keeping_id(app: App, role: Role, host: str, version: str) -> Cmd:
    """``run``, the id it prints kept for the proxy's deploy (``BOOTED_SHORT_ID``)."""
    return (Raw("booted=$("), *run(app, role, host, version), Raw(")"))


def command_words(cmd: str | None) -> Cmd:
    """A ``cmd:`` from the config, split into words as a POSIX shell would split it (Kamal
    hands the string to the shell); each word is then data: nothing in it is expanded."""
    return tuple(Val(word) for word in shell_words(cmd or ""))


def has_assets(role: Role) -> bool:
    """Kamal's ``assets?``: an asset path on a role behind kamal-proxy."""
    return bool(role.asset_path) and role.proxy is not None


def asset_extracted_directory(app: App, role: Role, version: str) -> str:
    return f"{app.app_directory}/assets/extracted/{role.name}-{version}"


def asset_volume_directory(app: App, role: Role, version: str) -> str:
    return f"{app.app_directory}/assets/volumes/{role.name}-{version}"


def asset_volume(app: App, role: Role, version: str) -> Word:
    path, _, options = (role.asset_path or "").partition(":")
    source = f"/{asset_volume_directory(app, role, version)}"
    return Cat((PWD, Val(f"{source}:{path}" + (f":{options}" if options else ""))))


def extract_assets(app: App, role: Role) -> Cmd:
    """The new image's assets copied out (``docker container create`` + ``cp -L``) into the
    version's extracted directory (Kamal's ``extract_assets``)."""
    extracted = Val(asset_extracted_directory(app, role, app.version))
    container = Val(f"{role.container_prefix}-assets")
    path = (role.asset_path or "").partition(":")[0]
    return (
        "mkdir", "-p", extracted, AND,
        "docker", "container", "rm", container, Raw("2> /dev/null"), OR, "true", AND,
        "docker", "container", "create", "--name", container, Val(app.image), AND,
        "docker", "container", "cp", "-L", Cat((container, Val(f":{path}/."))), extracted, AND,
        "docker", "container", "rm", container,
    )  # fmt: skip


def sync_asset_volumes(app: App, role: Role, old_version: str | None) -> Cmd:
    """The new version's volume filled from its extracted assets; with an old version, new
    assets copied into the old volume and old into the new (``cp -rnT``, nothing
    overwritten), so pages of either version find their files during the switch."""
    new_extracted = Val(asset_extracted_directory(app, role, app.version))
    new_volume = Val(asset_volume_directory(app, role, app.version))
    commands: Cmd = ("mkdir", "-p", new_volume, SEMI, "cp", "-rnT", new_extracted, new_volume)
    if old_version:
        old_extracted = Val(asset_extracted_directory(app, role, old_version))
        old_volume = Val(asset_volume_directory(app, role, old_version))
        commands += (SEMI, "cp", "-rnT", new_extracted, old_volume, OR, "true",
                     SEMI, "cp", "-rnT", old_extracted, new_volume, OR, "true")  # fmt: skip
    return commands


def clean_up_assets(app: App, role: Role) -> Cmd:
    """Every other version's extracted directory and volume removed (after the old
    container stopped: Kamal's ``clean_up_assets``)."""

    def older_siblings(path: str) -> Cmd:
        parent, _, name = path.rpartition("/")
        return ("find", Val(parent), "-maxdepth", "1", "-name", Val(f"{role.name}-*"),
                Raw("!"), "-name", Val(name), "-exec", "rm", "-rf", Val("{}"), Raw("+"))  # fmt: skip

    return (
        *older_siblings(asset_extracted_directory(app, role, app.version)), SEMI,
        *older_siblings(asset_volume_directory(app, role, app.version)),
    )  # fmt: skip


def stop_container(name: str, role: Role | None, drain_timeout: int) -> Cmd:
    """Proxy roles use docker's default stop timeout; others wait ``drain_timeout``. By the
    name the plan found, after ``--`` (a name is never an option): one docker call, where
    Kamal first asks docker for the id by name (a regex filter, in which a ``.`` of the name
    matches any character)."""
    timeout = ("-t", str(int(drain_timeout))) if role is not None and not role.proxy else ()
    return ("docker", "stop", *timeout, "--", Val(name))


def stop_container_unless(name: str, keep: str, role: Role | None, drain_timeout: int) -> Cmd:
    """``stop_container``, unless the container holding ``name`` is ``keep`` (a short id): a
    boot's cleanup when the container it renamed out of the way may still hold the name."""
    holder = ("docker", "container", "inspect", "--format", Val('{{printf "%.12s" .ID}}'), "--",
              Val(name), Raw("2>/dev/null"))  # fmt: skip
    return ("test", Sub(holder), "=", Val(keep), OR, *stop_container(name, role, drain_timeout))


def rename(role: Role, version: str, new_name: str) -> Cmd:
    return ("docker", "rename", Val(role.container_name(version)), Val(new_name))


def status(role: Role, version: str) -> Cmd:
    """The container's health, else its state: one docker call, by its exact name."""
    return ("docker", "container", "inspect", "--format",
            Val("{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}"),
            Val(role.container_name(version)))  # fmt: skip


def wait_ready(role: Role, version: str, readiness_delay: int, deploy_timeout: int) -> Cmd:
    """For roles without the proxy (Kamal polls from its side; here one remote loop does it):
    ``healthy`` is ready; ``running`` is ready if still running after ``readiness_delay``
    (with a delay of 0, at once: Kamal checks again only after a delay).

    The delay runs from before the status check, not after it as Kamal's: it counts from the
    container's start (``docker run -d`` has returned), as the setting means, and the check's
    own docker call (30-50 ms) no longer adds to every boot of such a role. The sleep runs in
    the background with its output closed, so that it never holds the SSH session open.

    ``date +%s`` counts whole seconds: the deadline passes once a full second beyond it has
    begun, so that it never gives up before ``deploy_timeout`` (Kamal's poller tries until
    then); with ``-ge`` a script started late in a second could give up at its first check."""
    check = render(status(role, version))
    if int(readiness_delay) > 0:
        timer = f"sleep {int(readiness_delay)} </dev/null >/dev/null 2>&1 & d=$!; "
        cases = (f'healthy) kill $d 2>/dev/null; exit 0;; running) wait $d; s=$({check}); '
                 f'case "$s" in healthy|running) exit 0;; esac;; *) kill $d 2>/dev/null;; ')  # fmt: skip
    else:
        timer, cases = "", "healthy|running) exit 0;; "
    script = (
        f"deadline=$(( $(date +%s) + {int(deploy_timeout)} )); "
        f'while :; do {timer}s=$({check}); case "$s" in {cases}esac; '
        f'if [ $(date +%s) -gt $deadline ]; then echo "container not ready after {int(deploy_timeout)}'
        f' seconds ($s)" >&2; exit 1; fi; sleep 1; done'
    )
    return ("sh", "-c", Val(script))  # the script is rendered from words: values stay quoted


def tag_latest(app: App) -> Cmd:
    return ("docker", "tag", Val(app.image), Val(app.latest_image))


def make_env_directory(app: App) -> Cmd:
    return ("mkdir", "-p", Val(f"{app.app_directory}/env/roles"))


def env_file_content(pairs: tuple[tuple[str, str], ...]) -> str:
    """The env file docker reads with ``--env-file``: ``KEY=value`` lines, taken literally.

    Docker does no unescaping, so the value is written as it is and the container gets it
    byte for byte (Kamal escapes with Ruby's ``dump``, so a backslash, a quote or a non-ASCII
    character reaches its containers changed). A line break cannot be carried: refused."""
    for key, value in pairs:
        if any(c in value for c in "\n\r\0"):
            raise ConfigErrors.one(
                f"{key}: a secret env value cannot hold a line break or a NUL byte"
                " (docker's env files are one line per variable)",
                "secrets",
            )
    if not pairs:
        return "\n"
    return "".join(f"{key}={value}\n" for key, value in pairs)
