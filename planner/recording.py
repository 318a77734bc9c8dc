"""A recording of the live state (``backstaff refresh --out``), as versioned JSON, both ways.

What ``plan --live FILE`` plans from instead of connecting: every host's ``LiveHost`` exactly
as the gather parsed it, so the plan (and its live fingerprint) is the one a live plan makes
when the hosts are unchanged. It holds what ``LiveState`` holds, less what could give a
secret away (see ``shareable``): a recording is meant to be handed to untrusted jobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from backstaff.planner.live import LiveContainer, LiveHost, LiveLock, LiveRoute, LiveState
from backstaff.planner.model import App, Env

# Stands for a value digest a recording leaves out; the diff does not compare it.
UNRECORDED = "(not recorded)"

FORMAT_VERSION = 1
KIND = "backstaff-refresh"


class RecordingFormatError(Exception):
    pass


@dataclass(frozen=True)
class Recording:
    """The hosts' state as read at a moment, saved to plan against later."""

    service: str
    destination: str | None
    recorded_at: str  # UTC, ISO 8601 (``2026-12-04T01:45:12Z``)
    live: LiveState


def _envs(app: App) -> list[Env]:
    envs = [role.env for role in app.roles] + [accessory.env for accessory in app.accessories]
    return envs + [app.root_env] + [env for _, env in app.tag_envs]


def shareable(live: LiveState, app: App) -> LiveState:
    """The live state as a recording holds it. A recording is read by jobs that hold no
    secret (a pull request from a fork) and may be public (a workflow artifact), and a short
    unsalted digest of a weak secret can be reversed by trying candidates. So only the digests
    of variables the config sets in clear, and never as a secret, are kept; the others, and
    the env files' digests (which cover the secrets), become ``UNRECORDED``. A plan from a
    recording therefore cannot see which secret changed, only clear env, names, and all the
    rest."""
    envs = _envs(app)
    secret = {name for env in envs for name, _ in env.secrets}
    clear = {name for env in envs for name, _ in env.clear} - secret

    def container(c: LiveContainer) -> LiveContainer:
        return replace(
            c,
            env=tuple((k, v if k in clear else UNRECORDED) for k, v in c.env),
            clear_env=tuple((k, v) for k, v in c.clear_env if k in clear),
        )

    def host(h: LiveHost) -> LiveHost:
        return replace(
            h,
            containers=tuple(container(c) for c in h.containers),
            envfiles=tuple((path, UNRECORDED) for path, _ in h.envfiles),
        )

    return LiveState(tuple(host(h) for h in live.hosts))


def _pairs(pairs: tuple[tuple[str, str], ...]) -> list[list[str]]:
    return [[key, value] for key, value in pairs]


def _container_to_dict(c: LiveContainer) -> dict[str, Any]:
    return {
        "id": c.id, "name": c.name, "image": c.image, "image_id": c.image_id, "state": c.state,
        "created": c.created, "labels": _pairs(c.labels), "env": _pairs(c.env),
        "cmd": list(c.cmd), "mounts": list(c.mounts), "clear_env": _pairs(c.clear_env),
        "options": _pairs(c.options), "network": c.network, "log_driver": c.log_driver,
        "log_options": _pairs(c.log_options),
    }  # fmt: skip


def _route_to_dict(r: LiveRoute) -> dict[str, Any]:
    return {"service": r.service, "hosts": list(r.hosts), "paths": list(r.paths),
            "target": r.target, "state": r.state, "tls": r.tls}  # fmt: skip


def host_to_dict(h: LiveHost) -> dict[str, Any]:
    return {
        "host": h.host,
        "error": h.error,
        "docker_version": h.docker_version,
        "networks": list(h.networks),
        "containers": [_container_to_dict(c) for c in h.containers],
        "images": _pairs(h.images),
        "image_env": [[image, list(names)] for image, names in h.image_env],
        "routes": None if h.routes is None else [_route_to_dict(r) for r in h.routes],
        "registry_login": h.registry_login,
        "envfiles": _pairs(h.envfiles),
        "lock": None if h.lock is None else h.lock.details,
        "lock_known": h.lock_known,
    }


def recording_to_dict(recording: Recording) -> dict[str, Any]:
    hosts = recording.live.hosts
    return {
        "format_version": FORMAT_VERSION,
        "kind": KIND,
        "service": recording.service,
        "destination": recording.destination,
        "recorded_at": recording.recorded_at,
        "hosts": [h.host for h in hosts],
        "hosts_read": [h.host for h in hosts if not h.error],
        "unread_hosts": [{"host": h.host, "error": h.error} for h in hosts if h.error],
        "live": [host_to_dict(h) for h in hosts],
    }


# -- reading: every field checked, so a hand-edited file is refused with the field named -----


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise RecordingFormatError(f"{key}: should be a string")
    return value


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    return None if data.get(key) is None else _str(data, key)


def _optional_bool(data: Mapping[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise RecordingFormatError(f"{key}: should be true, false or null")
    return value


def _strs(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RecordingFormatError(f"{key}: should be a list of strings")
    return tuple(value)


def _pairs_from(data: Mapping[str, Any], key: str) -> tuple[tuple[str, str], ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(v, str) for v in p) for p in value
    ):
        raise RecordingFormatError(f"{key}: should be a list of [name, value] pairs")
    return tuple((p[0], p[1]) for p in value)


def _objects(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise RecordingFormatError(f"{key}: should be a list of objects")
    return value


def _container_from_dict(d: Mapping[str, Any]) -> LiveContainer:
    return LiveContainer(
        id=_str(d, "id"), name=_str(d, "name"), image=_str(d, "image"),
        image_id=_str(d, "image_id"), state=_str(d, "state"), created=_str(d, "created"),
        labels=_pairs_from(d, "labels"), env=_pairs_from(d, "env"), cmd=_strs(d, "cmd"),
        mounts=_strs(d, "mounts"), clear_env=_pairs_from(d, "clear_env"),
        options=_pairs_from(d, "options"), network=_str(d, "network"),
        log_driver=_str(d, "log_driver"), log_options=_pairs_from(d, "log_options"),
    )  # fmt: skip


def _route_from_dict(d: Mapping[str, Any]) -> LiveRoute:
    tls = d["tls"]
    if not isinstance(tls, bool):
        raise RecordingFormatError("tls: should be true or false")
    return LiveRoute(_str(d, "service"), _strs(d, "hosts"), _strs(d, "paths"),
                     _str(d, "target"), _str(d, "state"), tls)  # fmt: skip


def host_from_dict(d: Mapping[str, Any]) -> LiveHost:
    image_env = d.get("image_env", [])
    if not isinstance(image_env, list) or not all(
        isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], list)
        for p in image_env
    ):
        raise RecordingFormatError("image_env: should be a list of [image id, [names]] pairs")
    routes = d.get("routes")
    lock = _optional_str(d, "lock")
    lock_known = d.get("lock_known", False)
    if not isinstance(lock_known, bool):
        raise RecordingFormatError("lock_known: should be true or false")
    return LiveHost(
        host=_str(d, "host"),
        error=_optional_str(d, "error"),
        docker_version=_optional_str(d, "docker_version"),
        networks=_strs(d, "networks"),
        containers=tuple(_container_from_dict(c) for c in _objects(d, "containers")),
        images=_pairs_from(d, "images"),
        image_env=tuple((str(i), tuple(str(n) for n in names)) for i, names in image_env),
        routes=None
        if routes is None
        else tuple(_route_from_dict(r) for r in _objects(d, "routes")),
        registry_login=_optional_bool(d, "registry_login"),
        envfiles=_pairs_from(d, "envfiles"),
        lock=None if lock is None else LiveLock(lock),
        lock_known=lock_known,
    )


def recording_from_dict(data: Any) -> Recording:
    if not isinstance(data, Mapping) or data.get("kind") != KIND:
        raise RecordingFormatError("not a backstaff recording (written by `backstaff refresh`)")
    if data.get("format_version") != FORMAT_VERSION:
        raise RecordingFormatError(
            f"unsupported recording format_version {data.get('format_version')!r}"
            f" (expected {FORMAT_VERSION}); record it again with `backstaff refresh`"
        )
    try:
        hosts = tuple(host_from_dict(h) for h in _objects(data, "live"))
        return Recording(_str(data, "service"), _optional_str(data, "destination"),
                         _str(data, "recorded_at"), LiveState(hosts))  # fmt: skip
    except KeyError as exc:
        raise RecordingFormatError(f"missing field {exc}") from None
