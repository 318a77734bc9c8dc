"""Desired vs live, per host: what to create, update, replace or delete, and why.

Containers started by Kamal carry no backstaff digest, so everything is compared on what
``docker inspect`` shows (image, env names and value digests, labels, command, volumes),
never on fields Kamal does not set, so a Kamal-deployed host shows no false drift.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping

from backstaff.planner.changes import Action, Change, Fields
from backstaff.planner.live import LiveContainer, LiveHost, LiveState, value_digest
from backstaff.planner.model import Accessory, App, Role

NETWORK = "kamal"
PROXY = "kamal-proxy"
KAMAL_ENV = ("KAMAL_CONTAINER_NAME", "KAMAL_VERSION", "KAMAL_HOST", "KAMAL_DESTINATION")

EnvFileDigests = Mapping[tuple[str, str], str]  # (env file path, host) -> sha256 of the content


def diff(app: App, live: LiveState, envfiles: EnvFileDigests | None = None) -> tuple[Change, ...]:
    """Every change, sorted by host then kind; unreachable hosts are left out (see errors)."""
    envfiles = envfiles or {}
    changes: list[Change] = []
    hosts = list(dict.fromkeys(list(app.all_hosts) + [h.host for h in live.hosts]))
    for host in hosts:
        state = live.host(host)
        if state.error:
            continue
        changes += _host_prerequisites(app, state)
        changes += _proxy(app, state)
        for accessory in app.accessories:
            if host in accessory.host_set:
                changes += _accessory(app, accessory, state, envfiles)
        for role in app.roles:
            if host in role.host_set:
                changes += _app(app, role, state, envfiles)
        changes += _removed(app, state)
        changes += _stale(app, state)
    return tuple(sorted(changes, key=lambda c: c.sort_key))


def _host_prerequisites(app: App, state: LiveHost) -> list[Change]:
    host = state.host
    if host not in app.host_set:
        return []
    if state.docker_version is None:
        return [
            Change("host", "docker", host, Action.CREATE, ("docker is not installed",)),
            Change("network", NETWORK, host, Action.CREATE, ("network missing",)),
        ] + _login(app, host, needed=True)
    changes = []
    if NETWORK not in state.networks:
        changes.append(Change("network", NETWORK, host, Action.CREATE, ("network missing",)))
    return changes + _login(app, host, needed=not state.registry_login)


def _login(app: App, host: str, needed: bool) -> list[Change]:
    if app.registry.local or not needed:
        return []
    server = app.registry.server or "Docker Hub"
    return [Change("registry", "login", host, Action.CREATE, (f"not logged in to {server}",))]


def _proxy(app: App, state: LiveHost) -> list[Change]:
    host = state.host
    if host not in app.proxy_host_set:
        return []
    container = state.container(PROXY)
    wanted = app.proxy_run.image
    after = (("image", wanted),)
    if container is None:
        return [Change("proxy", PROXY, host, Action.CREATE, ("not running",), (), after)]
    before = (("image", container.image), ("state", container.state))
    if app.proxy_run.from_config and container.image != wanted:
        reason = f"image {container.image} → {wanted}"
        return [Change("proxy", PROXY, host, Action.REPLACE, (reason,), before, after, True)]
    if not container.running:
        return [Change("proxy", PROXY, host, Action.UPDATE, (f"{container.state}",), before, after)]
    return []


def _env_reasons(
    wanted_clear: tuple[tuple[str, str], ...],
    wanted_secrets: tuple[str, ...],
    container: LiveContainer,
    image_env: tuple[str, ...],
    extra_allowed: tuple[str, ...] = KAMAL_ENV,
) -> list[str]:
    live = dict(container.env)
    reasons = []
    for key, value in wanted_clear:
        if key not in live:
            reasons.append(f"env added: {key}")
        elif live[key] != value_digest(value):
            reasons.append(f"env changed: {key}")
    for key in wanted_secrets:
        if key not in live:
            reasons.append(f"secret added: {key}")
    known = {k for k, _ in wanted_clear} | set(wanted_secrets) | set(extra_allowed) | set(image_env)
    reasons += [f"env removed: {key}" for key in sorted(live) if key not in known]
    return reasons


def _image_env(state: LiveHost, container: LiveContainer) -> tuple[str, ...]:
    return dict(state.image_env).get(container.image_id, ())


def _role_containers(app: App, role_name: str, state: LiveHost) -> list[LiveContainer]:
    return [
        c
        for c in state.containers
        if c.label("service") == app.service
        and c.label("role") == role_name
        and (c.label("destination") or "") == (app.destination or "")
    ]


def current_container(app: App, role: Role | str, state: LiveHost) -> LiveContainer | None:
    """Kamal's "current version": the newest running container of the role whose image is the
    host's latest tag, else the newest running one."""
    name = role if isinstance(role, str) else role.name
    running = [c for c in _role_containers(app, name, state) if c.running]
    latest = state.image_id(app.latest_image)
    tagged = [c for c in running if latest and c.image_id == latest]
    pool = tagged or running
    return pool[-1] if pool else None


def version_of(app: App, role: Role, container: LiveContainer) -> str:
    return container.name.removeprefix(role.container_prefix + "-")


def _app(app: App, role: Role, state: LiveHost, envfiles: EnvFileDigests) -> list[Change]:
    host = state.host
    current = current_container(app, role, state)
    after = (("container", role.container_name(app.version)), ("image", app.image),
             ("version", app.version))  # fmt: skip
    changes: list[Change] = []
    if current is None:
        stopped = state.container(role.container_name(app.version))
        if stopped is None:
            changes.append(
                Change("app", role.name, host, Action.CREATE, ("not running",), (), after)
            )
        else:  # the boot renames it out of the way, as Kamal does
            reason = f"container {stopped.name} is {stopped.state}"
            before: Fields = (("container", stopped.name), ("state", stopped.state),
                              ("id", stopped.short_id))  # fmt: skip
            changes.append(Change("app", role.name, host, Action.CREATE, (reason,), before, after))
    else:
        old = version_of(app, role, current)
        before = (("container", current.name), ("image", current.image), ("version", old),
                  ("state", current.state), ("id", current.short_id))  # fmt: skip
        taken = state.container(role.container_name(app.version))
        if taken is not None and taken.id != current.id:  # e.g. a rollback: renamed first
            before += (("name_taken_by", taken.state), ("name_taken_id", taken.short_id))
        reasons = (
            [f"new version {old} → {app.version}"]
            if old != app.version
            else _app_drift(app, role, state, current, envfiles)
        )
        if reasons:
            changes.append(
                Change("app", role.name, host, Action.REPLACE, tuple(reasons), before, after)
            )
        elif role.proxy:
            changes += _route(app, role, state, current)
        for extra in _role_containers(app, role.name, state):
            if extra.running and extra.id != current.id:
                changes.append(
                    Change(
                        "stale",
                        extra.name,
                        host,
                        Action.DELETE,
                        ("another running container of the role (Kamal stops these)",),
                        (("state", extra.state),),
                    )  # fmt: skip
                )
    return changes


def _app_drift(
    app: App, role: Role, state: LiveHost, container: LiveContainer, envfiles: EnvFileDigests
) -> list[str]:
    reasons = []
    if container.image != app.image:
        reasons.append(f"image {container.image} → {app.image}")
    env = app.env_for(role, state.host)
    reasons += _env_reasons(env.clear, tuple(k for k, _ in env.secrets), container,
                            _image_env(state, container))  # fmt: skip
    wanted_digest = envfiles.get((role.env_file, state.host))
    if wanted_digest and state.envfile_digest(role.env_file) not in (None, wanted_digest):
        reasons.append("secrets changed (env file differs)")
    labels = dict(container.labels)
    for key, value in app.labels_for(role):
        if labels.get(key, None) != value:
            reasons.append(f"label changed: {key}")
    if role.cmd and tuple(shlex.split(role.cmd)) != container.cmd:
        reasons.append(f"cmd changed: {' '.join(container.cmd)} → {role.cmd}")
    wanted_mounts = {v.split(":")[1] for v in app.volumes if ":" in v}
    live_mounts = {m.split(":", 1)[1] for m in container.mounts}
    if role.asset_path and role.proxy:
        wanted_mounts.add(role.asset_path.partition(":")[0])
    if wanted_mounts != live_mounts:
        reasons.append("volumes changed")
    return reasons


def _route(app: App, role: Role, state: LiveHost, current: LiveContainer) -> list[Change]:
    route_spec = role.proxy
    assert route_spec is not None
    host = state.host
    target = f"{current.short_id}:{route_spec.app_port}"
    after = (("target", target), ("hosts", ",".join(route_spec.hosts) or "*"))
    if state.routes is None:
        return []  # the proxy itself is planned (not running): it is re-created with its state
    live = next((r for r in state.routes if r.service == role.container_prefix), None)
    if live is None:
        return [Change("route", role.name, host, Action.CREATE, ("route missing",), (), after)]
    before = (
        ("target", live.target),
        ("hosts", ",".join(live.hosts) or "*"),
        ("state", live.state),
    )
    reasons = []
    if live.target != target:
        reasons.append(f"target {live.target} is not the current container ({target})")
    if set(live.hosts) != set(route_spec.hosts):
        reasons.append("hosts changed")
    if set(live.paths) != set(route_spec.path_prefixes or ("/",)):
        reasons.append("path prefixes changed")
    if live.tls != route_spec.ssl:
        reasons.append("TLS changed")
    if live.state != "running":
        reasons.append(f"route is {live.state} (maintenance)")
    if not reasons:
        return []
    return [Change("route", role.name, host, Action.UPDATE, tuple(reasons), before, after)]


def _accessory(
    app: App, accessory: Accessory, state: LiveHost, envfiles: EnvFileDigests
) -> list[Change]:
    host = state.host
    container = state.container(accessory.service_name)
    after = (("container", accessory.service_name), ("image", accessory.image))
    if container is None:
        return [
            Change("accessory", accessory.name, host, Action.CREATE, ("not running",), (), after)
        ]
    before = (("container", container.name), ("image", container.image), ("state", container.state))
    reasons = []
    if container.image != accessory.image:
        reasons.append(f"image {container.image} → {accessory.image}")
    reasons += _env_reasons(accessory.env.clear, tuple(k for k, _ in accessory.env.secrets),
                            container, _image_env(state, container), ("KAMAL_HOST",))  # fmt: skip
    wanted_digest = envfiles.get((accessory.env_file, host))
    if wanted_digest and state.envfile_digest(accessory.env_file) not in (None, wanted_digest):
        reasons.append("secrets changed (env file differs)")
    if accessory.cmd and tuple(shlex.split(accessory.cmd)) != container.cmd:
        reasons.append(f"cmd changed: {' '.join(container.cmd)} → {accessory.cmd}")
    if reasons:
        return [Change("accessory", accessory.name, host, Action.REPLACE, tuple(reasons), before,
                       after, downtime=True)]  # fmt: skip
    if not container.running:
        return [
            Change(
                "accessory", accessory.name, host, Action.UPDATE, (container.state,), before, after
            )
        ]
    return []


def _removed(app: App, state: LiveHost) -> list[Change]:
    """Beyond Kamal: what runs but is no longer in the config is planned for deletion."""
    host = state.host
    roles = {role.name: role for role in app.roles}
    accessories = {a.service_name: a for a in app.accessories}
    changes = []
    for container in state.containers:
        if not container.running:
            continue
        service, role = container.label("service"), container.label("role")
        if service == app.service and role is not None:
            if (container.label("destination") or "") != (app.destination or ""):
                continue
            if role not in roles:
                reason = "role removed from config"
            elif host not in roles[role].host_set:
                reason = "host removed from role"
            else:
                continue
            changes.append(
                Change(
                    "app",
                    role,
                    host,
                    Action.DELETE,
                    (reason,),
                    (
                        ("container", container.name),
                        ("image", container.image),
                        ("prefix", _proxy_service(app, role)),
                    ),
                    downtime=role in _routed_roles(state, app, role),
                )  # fmt: skip
            )
        elif role is None and service and service.startswith(f"{app.service}-"):
            accessory = accessories.get(service)
            if accessory is None:
                reason = "accessory removed from config"
            elif host not in accessory.host_set:
                reason = "host removed from accessory"
            else:
                continue
            name = accessory.name if accessory else service.removeprefix(f"{app.service}-")
            changes.append(
                Change("accessory", name, host, Action.DELETE, (reason,),
                       (("container", container.name), ("image", container.image)), downtime=True)
            )  # fmt: skip
    return changes


def _proxy_service(app: App, role: str) -> str:
    """The kamal-proxy service of a role (Kamal's container prefix), from its name alone."""
    return f"{app.service}-{role}" + (f"-{app.destination}" if app.destination else "")


def _routed_roles(state: LiveHost, app: App, role: str) -> set[str]:
    prefix = _proxy_service(app, role)
    return {role} if any(r.service == prefix for r in state.routes or ()) else set()


def _stale(app: App, state: LiveHost) -> list[Change]:
    stopped = [c for c in state.containers if c.label("service") == app.service and not c.running]
    extra = sorted(stopped, key=lambda c: c.created, reverse=True)[app.retain_containers :]
    return [
        Change("stale", c.name, state.host, Action.DELETE,
               (f"stopped, beyond retain_containers={app.retain_containers}",),
               (("state", c.state),))
        for c in extra
    ]  # fmt: skip
