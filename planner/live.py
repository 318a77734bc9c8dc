"""Live state parsed from the gather script's output. Pure, and tolerant of odd output:
what cannot be read becomes ``None`` (unknown), and the diff acts on unknowns.

Env values are never kept: each is reduced to a digest for comparison, so a secret from an
env file cannot leak into a plan, a log or a JSON file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from backstaff.planner.facts import CONTENT, MARKER

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def value_digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LiveContainer:
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
    service: str
    hosts: tuple[str, ...]
    paths: tuple[str, ...]
    target: str
    state: str
    tls: bool


@dataclass(frozen=True)
class LiveLock:
    details: str

    @property
    def holder(self) -> str:
        first = self.details.splitlines()[0] if self.details else ""
        return first.removeprefix("Locked by: ") or "unknown"


@dataclass(frozen=True)
class LiveHost:
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
    return LiveHost(
        host=host,
        docker_version=docker.splitlines()[0],
        networks=tuple(sorted(n for n in sections.get("networks", "").split() if n)),
        containers=parse_containers(sections.get("containers", "")),
        images=parse_images(sections.get("images", "")),
        image_env=parse_image_env(sections.get("image_env", "")),
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


def parse_containers(text: str) -> tuple[LiveContainer, ...]:
    if not text.strip():
        return ()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return ()
    containers = [c for c in (_container(item) for item in data if isinstance(item, dict)) if c]
    return tuple(sorted(containers, key=lambda c: (c.created, c.name)))


def _container(item: dict[str, Any]) -> LiveContainer | None:
    config = item.get("Config") or {}
    state = item.get("State") or {}
    name = str(item.get("Name") or "").lstrip("/")
    if not name or not item.get("Id"):
        return None
    env = []
    for entry in config.get("Env") or []:
        key, _, value = str(entry).partition("=")
        env.append((key, value_digest(value)))
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
        created=str(item.get("Created") or ""),
        labels=tuple(sorted((str(k), str(v)) for k, v in (config.get("Labels") or {}).items())),
        env=tuple(sorted(env)),
        cmd=tuple(str(c) for c in config.get("Cmd") or []),
        mounts=tuple(sorted(mounts)),
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
