"""Live state parsed from the gather script's output. Pure, and tolerant of odd output:
what cannot be read becomes ``None`` (unknown), and the diff acts on unknowns.

Env values are reduced to digests for comparison as they are parsed, so a secret from an env
file cannot leak into a plan, a log or a JSON file. The one exception is ``clear_env``: the
values of variables given on the ``docker run`` command line (``--env``), which Kamal and
backstaff only ever pass for ``env.clear``; see ``_clear_env`` for how they are told apart from
the env file's (only the env files' variable names are read from the host, never a value).
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from backstaff.planner.facts import CONTENT, MARKER
from backstaff.schemas.host_strings import hostname

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def value_digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LiveContainer:
    """A container as ``docker inspect`` shows it, its env values reduced to digests."""

    id: str
    name: str
    image: str  # as asked for at `docker run`, e.g. registry/app:v1
    image_id: str
    state: str  # running, exited, created, restarting, dead, paused
    created: str
    labels: tuple[tuple[str, str], ...]
    env: tuple[tuple[str, str], ...]  # (name, digest of the value)
    cmd: tuple[str, ...]
    mounts: tuple[str, ...]  # source:destination
    # Values of the variables passed with --env (never one read from an env file): the plan
    # shows them only for keys that are also clear in the config.
    clear_env: tuple[tuple[str, str], ...] = ()
    options: tuple[tuple[str, str], ...] = ()  # docker options as inspect shows them (OPTIONS)
    network: str = ""
    log_driver: str = ""
    log_options: tuple[tuple[str, str], ...] = ()

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def running(self) -> bool:
        return self.state in ("running", "restarting")

    def label(self, key: str) -> str | None:
        return dict(self.labels).get(key)


@dataclass(frozen=True)
class LiveRoute:
    """A service kamal-proxy routes, as ``kamal-proxy list`` shows it."""

    service: str
    hosts: tuple[str, ...]
    paths: tuple[str, ...]
    target: str
    state: str
    tls: bool


@dataclass(frozen=True)
class LiveLock:
    """The deploy lock found on the primary host, with its details."""

    details: str

    @property
    def holder(self) -> str:
        first = self.details.splitlines()[0] if self.details else ""
        return first.removeprefix("Locked by: ") or "unknown"


@dataclass(frozen=True)
class LiveHost:
    """What one host answered: docker's objects, the proxy's routes, env files, the lock."""

    host: str
    error: str | None = None  # unreachable: nothing else is known
    docker_version: str | None = None
    networks: tuple[str, ...] = ()
    containers: tuple[LiveContainer, ...] = ()
    images: tuple[tuple[str, str], ...] = ()  # (repository:tag, id)
    image_env: tuple[tuple[str, tuple[str, ...]], ...] = ()  # image id -> env names
    routes: tuple[LiveRoute, ...] | None = None  # None: proxy not running or unreadable
    registry_login: bool | None = None
    envfiles: tuple[tuple[str, str], ...] = ()  # (path, sha256)
    lock: LiveLock | None = None
    lock_known: bool = False  # read on the primary host only

    def container(self, name: str) -> LiveContainer | None:
        return next((c for c in self.containers if c.name == name), None)

    def image_id(self, reference: str) -> str | None:
        return dict(self.images).get(reference)

    def envfile_digest(self, path: str) -> str | None:
        return dict(self.envfiles).get(path)


@dataclass(frozen=True)
class LiveState:
    """Every host's answer from one read: what a plan is made against."""

    hosts: tuple[LiveHost, ...]

    def host(self, name: str) -> LiveHost:
        return self._by_name.get(name) or LiveHost(name, error="not gathered")

    @cached_property
    def _by_name(self) -> dict[str, LiveHost]:
        return {h.host: h for h in self.hosts}

    def fingerprint(self) -> str:
        """Changes whenever anything gathered changes; a saved plan must match it to apply."""
        # The frozen dataclasses' repr is deterministic (strings, tuples, numbers, None) and
        # much cheaper than asdict + JSON on a large fleet.
        data = repr(sorted(self.hosts, key=lambda h: h.host))
        return hashlib.sha256(data.encode()).hexdigest()


def split_sections(text: str) -> dict[str, str]:
    """Section name -> its output. Lines are split on ``\\n`` only (never on ``\\r`` or the
    other line breaks of ``str.splitlines``): the script frames with ``\\n``. A marker is a line
    starting with ``MARKER``; a section's lines all start with ``CONTENT``, so no value from the
    host can be taken for a marker; any other line (the blank before a marker) is framing."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        if line.startswith(MARKER + " "):
            current = sections.setdefault(line[len(MARKER) + 1 :].strip(), [])
        elif current is not None and line.startswith(CONTENT):
            current.append(line[len(CONTENT) :])
    return {name: "\n".join(lines).strip("\n") for name, lines in sections.items()}


def parse_host(host: str, text: str) -> LiveHost:
    sections = split_sections(text)
    if "end" not in sections:
        return LiveHost(host, error="incomplete answer from the host (gather script cut short)")
    docker = sections.get("docker", "").strip()
    if docker == "!daemon-down":
        return LiveHost(
            host, error="docker is installed but its daemon does not answer (is dockerd running?)"
        )
    if not docker or docker.startswith("!"):
        return LiveHost(host, docker_version=None, registry_login=False, lock_known="lock" in sections,
                        lock=parse_lock(sections.get("lock", "")))  # fmt: skip
    envkeys = parse_envkeys(sections["envkeys"]) if "envkeys" in sections else None
    if "inspect" in sections:  # one docker inspect of everything (since issue #14)
        objects = parse_inspect(sections["inspect"], host, envkeys)
    else:  # the answer of the gather script before issue #14, one section per docker call
        objects = _Objects(
            tuple(sorted(n for n in sections.get("networks", "").split() if n)),
            parse_containers(sections.get("containers", ""), host, envkeys),
            parse_images(sections.get("images", "")),
            parse_image_env(sections.get("image_env", "")),
        )
    return LiveHost(
        host=host,
        docker_version=docker.splitlines()[0],
        networks=objects.networks,
        containers=objects.containers,
        images=objects.images,
        image_env=objects.image_env,
        routes=parse_routes(sections.get("proxy", "")),
        registry_login=_count(sections.get("registry", "")),
        envfiles=parse_envfiles(sections.get("envfiles", "")),
        lock=parse_lock(sections.get("lock", "")),
        lock_known="lock" in sections,
    )


def _count(text: str) -> bool | None:
    """Logins recorded for the registry: none, or no docker config at all, means logged out."""
    text = text.strip()
    if not text:
        return False
    return int(text) > 0 if text.isdigit() else None


def parse_containers(
    text: str, host: str = "", envkeys: EnvKeys | None = None
) -> tuple[LiveContainer, ...]:
    if not text.strip():
        return ()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return ()
    if not isinstance(data, list):
        return ()
    found = (_container(item, host, envkeys) for item in data if isinstance(item, dict))
    containers = [c for c in found if c]
    return tuple(sorted(containers, key=lambda c: (c.created, c.name)))


EnvKeys = tuple[tuple[str, int, tuple[str, ...]], ...]  # (env file, written at, names)


@dataclass(frozen=True)
class _Objects:
    """What docker answered about a host's objects."""

    networks: tuple[str, ...]
    containers: tuple[LiveContainer, ...]
    images: tuple[tuple[str, str], ...]
    image_env: tuple[tuple[str, tuple[str, ...]], ...]


def parse_inspect(text: str, host: str = "", envkeys: EnvKeys | None = None) -> _Objects:
    """The ``inspect`` section: one ``docker inspect`` JSON object a line, of the containers,
    the images they run, the latest tag and the ``kamal`` network. A container has ``State``,
    an image ``RepoTags``, a network ``IPAM``; a line that is none of these is skipped. The
    images are the inspected images' tags. (docker inspect takes a name for a container before
    a network: were a container named ``kamal``, the network would read as missing, and
    creating it again is a tolerated failure.)"""
    containers: dict[str, LiveContainer] = {}
    networks: set[str] = set()
    images: set[tuple[str, str]] = set()
    image_env: dict[str, tuple[str, ...]] = {}
    # An image asked for by several names (its id, its tag, latest) is answered once for each:
    # one decode of each distinct line is enough (the JSON decode is most of a host's parse).
    for line in dict.fromkeys(text.split("\n")):
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if not isinstance(item, dict) or not isinstance(item.get("Id"), str):
            continue
        if "State" in item:
            container = _container(item, host, envkeys)
            if container:
                containers[container.id] = container
        elif "RepoTags" in item:
            image_id = item["Id"]
            images.update((str(tag), image_id) for tag in item.get("RepoTags") or ())
            env = (item.get("Config") or {}).get("Env") or []
            image_env[image_id] = tuple(sorted(str(e).partition("=")[0] for e in env))
        elif "IPAM" in item and item.get("Name"):
            networks.add(str(item["Name"]))
    return _Objects(
        tuple(sorted(networks)),
        tuple(sorted(containers.values(), key=lambda c: (c.created, c.name))),
        tuple(sorted(images)),
        tuple(sorted(image_env.items())),
    )


def _clear_env(
    entries: list[tuple[str, str]],
    name: str,
    host: str,
    created: str,
    labels: dict[str, str],
    envkeys: EnvKeys | None,
) -> tuple[tuple[str, str], ...]:
    """The variables the container got from ``--env``, with their values: never one an env
    file holds.

    ``docker inspect`` lists the env file's variables and the ``--env`` ones together (in no
    order to rely on). Kamal and backstaff put only secrets in the env files, so a value is kept
    only with positive evidence that it is not from one: the container carries Kamal's own
    ``KAMAL_CONTAINER_NAME=<its name>`` or ``KAMAL_HOST=<this host>``; the host's env files
    were all read (``envkeys``); its own env file (by its labels) is there and was not written
    after the container was created (so it is what the container was started with); and no
    env file on the host names the variable, which appears once. Else nothing is kept."""
    if not envkeys or not any(
        (key == "KAMAL_CONTAINER_NAME" and value == name)
        or (key == "KAMAL_HOST" and host and value == hostname(host))
        for key, value in entries
    ):
        return ()
    own = [written for path, written, _ in envkeys if _env_file_of(path, labels)]
    started = _epoch(created)
    if started is None or not own or any(written > started for written in own):
        return ()
    from_files = {key for _, _, keys in envkeys for key in keys}
    names = [key for key, _ in entries]
    return tuple(sorted((k, v) for k, v in entries if k not in from_files and names.count(k) == 1))


def _env_file_of(path: str, labels: dict[str, str]) -> bool:
    """Whether ``path`` is the env file Kamal writes for a container with these labels."""
    service, role = labels.get("service") or "", labels.get("role")
    if role is not None:
        directory = service + (f"-{labels['destination']}" if labels.get("destination") else "")
        return path == f".kamal/apps/{directory}/env/roles/{role}.env"
    folder, _, file = path.rpartition("/env/accessories/")
    return bool(folder and service) and service.endswith("-" + file.removesuffix(".env"))


def _epoch(timestamp: str) -> int | None:
    """``2026-11-22T21:08:47.255434731Z`` (docker's Created, UTC) in whole seconds."""
    match = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?Z$", timestamp)
    if not match:
        return None
    return calendar.timegm(tuple(int(part) for part in match.groups()) + (0, 0, 0))


def parse_envkeys(text: str) -> EnvKeys | None:
    """The ``envkeys`` section: ``<mtime> <path> <NAME> <NAME>…`` per env file; None when
    any could not be read (then no env value is taken for clear)."""
    found = []
    for line in text.splitlines():
        written, _, rest = line.partition(" ")
        path, _, names = rest.partition(" ")
        if not written.isdigit() or not path:
            return None
        found.append((path, int(written), tuple(sorted(set(names.split())))))
    return tuple(sorted(found))


def _container(
    item: dict[str, Any], host: str = "", envkeys: EnvKeys | None = None
) -> LiveContainer | None:
    config = item.get("Config") or {}
    state = item.get("State") or {}
    host_config = item.get("HostConfig") or {}
    name = str(item.get("Name") or "").lstrip("/")
    if not name or not item.get("Id"):
        return None
    entries = [str(entry).partition("=") for entry in config.get("Env") or []]
    pairs = [(key, value) for key, _, value in entries]
    env = [(key, value_digest(value)) for key, value in pairs]
    labels = {str(k): str(v) for k, v in (config.get("Labels") or {}).items()}
    created = str(item.get("Created") or "")
    clear_env = _clear_env(pairs, name, host, created, labels, envkeys)
    del entries, pairs  # only digests, and the --env values, go further
    log_config = host_config.get("LogConfig") or {}
    mounts = tuple(
        f"{m.get('Name') or m.get('Source', '')}:{m.get('Destination', '')}"
        for m in item.get("Mounts") or []
    )
    return LiveContainer(
        id=str(item["Id"]),
        name=name,
        image=str(config.get("Image") or ""),
        image_id=str(item.get("Image") or ""),
        state=str(state.get("Status") or "unknown"),
        created=created,
        labels=tuple(sorted(labels.items())),
        env=tuple(sorted(env)),
        cmd=tuple(str(c) for c in config.get("Cmd") or []),
        mounts=tuple(sorted(mounts)),
        clear_env=clear_env,
        options=inspect_options(host_config),
        network=str(host_config.get("NetworkMode") or ""),
        log_driver=str(log_config.get("Type") or ""),
        log_options=tuple(
            sorted((str(k), str(v)) for k, v in (log_config.get("Config") or {}).items())
        ),
    )


def _list(value: Any) -> str:
    return ",".join(sorted(str(v) for v in value or ()))


def _capabilities(value: Any) -> str:
    return ",".join(sorted(str(v).upper().removeprefix("CAP_") for v in value or ()))


def _number(value: Any) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "0"


def _flag(value: Any) -> str:
    return "true" if value is True else "false"


# docker options ``docker inspect`` shows (HostConfig field, reader; a missing or null field
# reads as the option not given). The diff normalizes the configured values the same way
# (``planner.diff.option_value``): sizes in bytes, CPUs in nano-CPUs, lists sorted and joined.
OPTIONS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "memory": ("Memory", _number),
    "memory-reservation": ("MemoryReservation", _number),
    "memory-swap": ("MemorySwap", _number),
    "shm-size": ("ShmSize", _number),
    "cpus": ("NanoCpus", _number),
    "cpu-shares": ("CpuShares", _number),
    "pids-limit": ("PidsLimit", _number),
    "add-host": ("ExtraHosts", _list),
    "dns": ("Dns", _list),
    "cap-add": ("CapAdd", _capabilities),
    "cap-drop": ("CapDrop", _capabilities),
    "security-opt": ("SecurityOpt", _list),
    "privileged": ("Privileged", _flag),
    "read-only": ("ReadonlyRootfs", _flag),
    "init": ("Init", _flag),
}


def inspect_options(host_config: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    if not isinstance(host_config, dict) or not host_config:
        return ()
    return tuple(
        (option, read(host_config.get(field))) for option, (field, read) in OPTIONS.items()
    )


def parse_images(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and not parts[0].endswith(":<none>"):
            pairs.append((parts[0], parts[1]))
    return tuple(sorted(pairs))


def parse_image_env(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    found = []
    for line in text.splitlines():
        image_id, _, env_json = line.partition(" ")
        try:
            env = json.loads(env_json) or []
        except json.JSONDecodeError:
            continue
        found.append((image_id, tuple(sorted(str(e).partition("=")[0] for e in env))))
    return tuple(sorted(found))


def parse_routes(text: str) -> tuple[LiveRoute, ...] | None:
    """``kamal-proxy list``: an ANSI table (Service Host Path Target State TLS)."""
    lines = [ANSI.sub("", line).rstrip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0].startswith("!") or not lines[0].startswith("Service"):
        return None
    routes = []
    for line in lines[1:]:
        cells = line.split()
        if len(cells) != 6:
            continue
        service, hosts, paths, target, state, tls = cells
        routes.append(
            LiveRoute(
                service=service,
                hosts=() if hosts == "*" else tuple(hosts.split(",")),
                paths=tuple(paths.split(",")),
                target=target,
                state=state,
                tls=tls == "yes",
            )
        )
    return tuple(sorted(routes, key=lambda r: r.service))


def parse_envfiles(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for line in text.splitlines():
        digest, _, path = line.partition("  ")
        if len(digest) == 64 and path:
            pairs.append((path.strip(), digest))
    return tuple(sorted(pairs))


UNREADABLE_LOCK = "(unreadable lock details)"


def parse_lock(text: str) -> LiveLock | None:
    """The ``lock`` section: ``!none``, or ``!held`` then the details file as stored (base64,
    wrapped or not). Whatever the file holds, the details are the decoded text or
    ``UNREADABLE_LOCK``; never an exception."""
    status, _, body = text.partition("\n")
    status = status.strip()
    if status != "!held":
        return None if status in ("", "!none") else LiveLock(UNREADABLE_LOCK)
    # Base64 has no whitespace or backslash: drop line breaks, and the literal ``\\n`` an
    # ``echo`` that does not interpret escapes leaves behind.
    encoded = re.sub(r"[ \t\r\n]+", "", body.replace("\\n", ""))
    try:
        details = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):  # ``!unreadable``, or not base64 at all
        return LiveLock(UNREADABLE_LOCK)
    return LiveLock(details.decode("utf-8", "replace") or "(empty lock details)")


def without_own_lock(live: LiveState, stored: str) -> LiveState:
    """The state read under the lock this run took (``stored``: its details file as written):
    that lock reads as free, as it did before the run took it, so that the plan (and a saved
    plan's check) is the one a read without the lock makes. A lock whose details differ is
    someone else's and stays."""
    ours = parse_lock("!held\n" + stored)
    return LiveState(tuple(replace(h, lock=None) if h.lock == ours else h for h in live.hosts))
