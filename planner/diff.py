"""Desired vs live, per host: what to create, update, replace or delete, and why.

Containers started by Kamal carry no backstaff digest, so everything is compared on what
``docker inspect`` shows (image, env names and value digests, labels, command, volumes,
network, logging, the options inspect shows), never on fields Kamal does not set, so a
Kamal-deployed host shows no false drift. Every difference is listed, as a short reason and as
an ``Attribute`` (path, before, after); secret values never are, only that they differ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from backstaff.planner.changes import Action, Attribute, Change, Difference, Fields, Value
from backstaff.planner.commands.base import blank
from backstaff.planner.live import LiveContainer, LiveHost, LiveState, value_digest
from backstaff.planner.model import Accessory, App, Env, Options, OptionValue, ProxyRoute, Role
from backstaff.planner.recording import UNRECORDED
from backstaff.schemas.shell_words import shell_words

NETWORK = "kamal"
PROXY = "kamal-proxy"
KAMAL_ENV = ("KAMAL_CONTAINER_NAME", "KAMAL_VERSION", "KAMAL_HOST", "KAMAL_DESTINATION")

EnvFileDigests = Mapping[tuple[str, str], str]  # (env file path, host) -> sha256 of the content
SecretDigests = Mapping[str, str]  # secret key in .kamal/secrets -> value_digest of its value

ADDED, CHANGED, REMOVED = Difference.ADDED, Difference.CHANGED, Difference.REMOVED


class _Found:
    """The reasons and attributes of one resource, collected as they are found."""

    def __init__(self, forces_replacement: bool = True) -> None:
        self.reasons: list[str] = []
        self.attributes: list[Attribute] = []
        self.forces = forces_replacement

    def add(self, reason: str | None, path: str, change: Difference, before: Value = None,
            after: Value = None, *, sensitive: bool = False, forces: bool | None = None) -> None:  # fmt: skip
        if reason and reason not in self.reasons:
            self.reasons.append(reason)
        self.attributes.append(
            Attribute(
                path, change, before, after, sensitive, self.forces if forces is None else forces
            )  # fmt: skip
        )

    def compare(self, reason: str, path: str, before: Value, after: Value,
                forces: bool | None = None) -> None:  # fmt: skip
        """An attribute the host shows: added, removed or changed, when it differs."""
        if before == after:
            return
        change = (
            ADDED if before in (None, "", ()) else REMOVED if after in (None, "", ()) else CHANGED
        )
        self.add(reason, path, change, before or None, after or None, forces=forces)

    def __bool__(self) -> bool:
        return bool(self.reasons)


def diff(
    app: App,
    live: LiveState,
    envfiles: EnvFileDigests | None = None,
    secrets: SecretDigests | None = None,
) -> tuple[Change, ...]:
    """Every change, sorted by host then kind; unreachable hosts are left out (see errors).

    ``secrets``, when given, lets the diff say which secret changed (the host's value digest
    against the configured value's); without it only the env file's digest tells."""
    envfiles = envfiles or {}
    secrets = secrets or {}
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
                changes += _accessory(app, accessory, state, envfiles, secrets)
        for role in app.roles:
            if host in role.host_set:
                changes += _app(app, role, state, envfiles, secrets)
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
        attribute = Attribute("image", CHANGED, container.image, wanted, forces_replacement=True)
        return [Change("proxy", PROXY, host, Action.REPLACE, (reason,), before, after, True,
                       (attribute,))]  # fmt: skip
    if not container.running:
        attribute = Attribute("state", CHANGED, container.state, "running")
        return [Change("proxy", PROXY, host, Action.UPDATE, (f"{container.state}",), before, after,
                       attributes=(attribute,))]  # fmt: skip
    return []


def _env(
    found: _Found,
    env: Env,
    container: LiveContainer,
    image_env: tuple[str, ...],
    secrets: SecretDigests,
    extra_allowed: tuple[str, ...] = KAMAL_ENV,
) -> None:
    """Env names added, removed and changed. A clear value is shown as configured; the host's
    value only where the host passed it on the command line (``LiveContainer.clear_env``) and
    it is clear in the config too. A secret is sensitive: only that it differs. A blank clear
    value is passed as ``--env KEY`` alone (Kamal's argumentize): the container has whatever
    docker's own environment held, usually nothing, so any value or none is what was asked."""
    live = dict(container.env)
    shown = dict(container.clear_env)
    for key, value in env.clear:
        path = f"env.clear.{key}"
        if blank(value):  # passed as --env KEY alone (commands/base.argumentize)
            continue
        if key not in live:
            found.add(f"env added: {key}", path, ADDED, None, value)
        elif live[key] not in (UNRECORDED, value_digest(value)):
            found.add(f"env changed: {key}", path, CHANGED, shown.get(key), value)
    for name, secret_key in env.secrets:
        path = f"env.secret.{name}"
        if name not in live:
            found.add(f"secret added: {name}", path, ADDED, sensitive=True)
        elif secret_key in secrets and live[name] not in (UNRECORDED, secrets[secret_key]):
            found.add(f"secret changed: {name}", path, CHANGED, sensitive=True)
    known = {k for k, _ in env.clear} | {k for k, _ in env.secrets} | set(extra_allowed)
    for key in sorted(set(live) - known - set(image_env)):
        found.add(f"env removed: {key}", f"env.{key}", REMOVED)


def _env_file(found: _Found, path: str, state: LiveHost, envfiles: EnvFileDigests) -> None:
    """The env file holds the secrets: when its digest differs and no secret was named above,
    say that the secrets changed (never which values)."""
    wanted = envfiles.get((path, state.host))
    if not wanted or state.envfile_digest(path) in (None, UNRECORDED, wanted):
        return
    if not any(a.path.startswith("env.secret.") for a in found.attributes):
        found.add("secrets changed (env file differs)", "env_file", CHANGED, sensitive=True)


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


def _app(
    app: App, role: Role, state: LiveHost, envfiles: EnvFileDigests, secrets: SecretDigests
) -> list[Change]:
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
        found = _Found()
        if old != app.version:
            found.add(f"new version {old} → {app.version}", "version", CHANGED, old, app.version)
        _app_drift(found, app, role, state, current, envfiles, secrets, old)
        if found:
            if role.proxy:  # the boot deploys the route again: its changes ride along
                _route_settings(found, role.proxy, state, role.container_prefix, "proxy.")
            changes.append(
                Change(
                    "app",
                    role.name,
                    host,
                    Action.REPLACE,
                    tuple(found.reasons),
                    before,
                    after,
                    attributes=tuple(found.attributes),
                )  # fmt: skip
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
                        (("state", extra.state), ("id", extra.short_id)),
                    )  # fmt: skip
                )
    return changes


def _app_drift(
    found: _Found,
    app: App,
    role: Role,
    state: LiveHost,
    container: LiveContainer,
    envfiles: EnvFileDigests,
    secrets: SecretDigests,
    old_version: str,
) -> None:
    if container.image not in (app.image, f"{app.repository}:{old_version}"):
        found.add(f"image {container.image} → {app.image}", "image", CHANGED, container.image,
                  app.image)  # fmt: skip
    env = app.env_for(role, state.host)
    _env(found, env, container, _image_env(state, container), secrets)
    _env_file(found, role.env_file, state, envfiles)
    _labels(found, app.labels_for(role), container)
    _cmd(found, role.cmd, container)
    _options(found, role.options, container)
    wanted_mounts = {v.split(":")[1] for v in app.volumes if ":" in v}
    live_mounts = {m.split(":", 1)[1] for m in container.mounts}
    assets = role.asset_path.partition(":")[0] if role.asset_path and role.proxy else None
    if assets:
        wanted_mounts.add(assets)
    if wanted_mounts != live_mounts:
        before, after = _volumes_shown(container.mounts, assets), _volumes_wanted(app.volumes)
        change = ADDED if not before else REMOVED if not after else CHANGED
        found.add("volumes changed", "volumes", change, before or None, after or None)
    found.compare("network changed", "network", container.network or None, NETWORK)
    _logging(found, role.logging, container)


def _labels(found: _Found, wanted: tuple[tuple[str, str], ...], container: LiveContainer) -> None:
    """Labels the config sets; others on the container (e.g. an image's) are not compared."""
    labels = dict(container.labels)
    for key, value in wanted:
        if labels.get(key) != value:
            before = labels.get(key)
            found.add(f"label changed: {key}", f"labels.{key}",
                      ADDED if before is None else CHANGED, before, value)  # fmt: skip


def _cmd(found: _Found, cmd: str | None, container: LiveContainer) -> None:
    if cmd and tuple(shell_words(cmd)) != container.cmd:
        before = " ".join(container.cmd)
        found.add(f"cmd changed: {before} → {cmd}", "cmd", CHANGED, before or None, cmd)


def _volumes_shown(mounts: tuple[str, ...], assets: str | None) -> tuple[str, ...]:
    """The host's mounts as ``source:destination`` (the assets volume, named per version, left
    out: it changes with every version)."""
    return tuple(m for m in mounts if not assets or m.split(":", 1)[1] != assets)


def _volumes_wanted(volumes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(":".join(v.split(":")[:2]) for v in volumes))


def _logging(found: _Found, logging: tuple[tuple[str, str], ...], container: LiveContainer) -> None:
    """The log driver when the config names one, and the log options."""
    if not container.log_driver:
        return
    driver = next((value for flag, value in logging if flag == "--log-driver"), None)
    if driver is not None:
        found.compare("logging changed", "logging.driver", container.log_driver, driver)
    wanted = dict(value.partition("=")[::2] for flag, value in logging if flag == "--log-opt")
    live = dict(container.log_options)
    for key in sorted(set(wanted) | set(live)):
        found.compare("logging changed", f"logging.options.{key}", live.get(key), wanted.get(key))


# Options whose value when not given is known (so one removed from the config shows).
OPTION_DEFAULTS = {
    "memory": "0", "memory-reservation": "0", "cpus": "0", "cpu-shares": "0", "pids-limit": "0",
    "add-host": "", "dns": "", "cap-add": "", "cap-drop": "", "security-opt": "",
    "privileged": "false", "read-only": "false", "init": "false",
}  # fmt: skip
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)b?\s*$", re.IGNORECASE)
UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def option_value(option: str, value: OptionValue) -> str | None:
    """A configured option as ``live.inspect_options`` reads it from the host, or None when
    it cannot be told (then it is not compared)."""
    values = value if isinstance(value, tuple) else (value,)
    if option in ("add-host", "dns", "security-opt"):
        return ",".join(sorted(str(v) for v in values))
    if option in ("cap-add", "cap-drop"):
        return ",".join(sorted(str(v).upper().removeprefix("CAP_") for v in values))
    if option in ("privileged", "read-only", "init"):
        return "true" if value is True or value == "true" else "false"
    if option in ("memory", "memory-reservation", "memory-swap", "shm-size"):
        match = SIZE.match(str(value))
        if not match:
            return None
        return str(int(Decimal(match[1]) * UNITS[match[2].lower()]))
    if option == "cpus":
        try:
            return str(int(Decimal(str(value)) * 1_000_000_000))
        except InvalidOperation:
            return None
    if option in ("cpu-shares", "pids-limit"):
        return str(value) if str(value).lstrip("-").isdigit() else None
    return None


def option_shown(option: str, value: str) -> str:
    """How an option's value reads in a plan: sizes and CPUs as one would write them."""
    if option in ("memory", "memory-reservation", "memory-swap", "shm-size") and value.isdigit():
        number = int(value)
        for unit in ("p", "t", "g", "m", "k"):
            if number and number % UNITS[unit] == 0:
                return f"{number // UNITS[unit]}{unit}"
        return value
    if option == "cpus" and value.isdigit():
        return str(Decimal(value) / 1_000_000_000).rstrip("0").rstrip(".") if value != "0" else "0"
    return value


def _options(found: _Found, options: Options, container: LiveContainer) -> None:
    """The options ``docker inspect`` shows (``live.OPTIONS``); others cannot be compared."""
    live = dict(container.options)
    configured = dict(options)
    for option in sorted(set(live) & (set(configured) | set(OPTION_DEFAULTS))):
        if option in configured:
            wanted = option_value(option, configured[option])
        else:
            wanted = OPTION_DEFAULTS[option]
        default = OPTION_DEFAULTS.get(option)
        if wanted is None or wanted == live[option]:
            continue
        before = None if live[option] == default else option_shown(option, live[option])
        after = None if option not in configured else option_shown(option, wanted)
        change = ADDED if before is None else REMOVED if after is None else CHANGED
        found.add(f"option changed: {option}", f"options.{option}", change, before, after)


def _route_settings(
    found: _Found, spec: ProxyRoute, state: LiveHost, service: str, prefix: str = ""
) -> None:
    """What ``kamal-proxy list`` shows of a route (hosts, path prefixes, TLS) against the
    config. Health checks, timeouts and buffering are not shown by the host: not compared."""
    live = next((r for r in state.routes or () if r.service == service), None)
    if live is None:
        return
    what = "proxy " if prefix else ""
    found.compare(f"{what}hosts changed", f"{prefix}hosts", ",".join(sorted(live.hosts)) or "*",
                  ",".join(sorted(spec.hosts)) or "*", forces=False)  # fmt: skip
    found.compare(f"{what}path prefixes changed", f"{prefix}path_prefixes",
                  ",".join(sorted(live.paths)), ",".join(sorted(spec.path_prefixes or ("/",))),
                  forces=False)  # fmt: skip
    tls = ("yes" if live.tls else "no", "yes" if spec.ssl else "no")
    found.compare(f"{what}TLS changed", f"{prefix}tls", *tls, forces=False)


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
        attributes = (Attribute("target", ADDED, None, target),)
        return [Change("route", role.name, host, Action.CREATE, ("route missing",), (), after,
                       attributes=attributes)]  # fmt: skip
    before = (
        ("target", live.target),
        ("hosts", ",".join(live.hosts) or "*"),
        ("state", live.state),
    )
    found = _Found(forces_replacement=False)
    if live.target != target:
        found.add(f"target {live.target} is not the current container ({target})", "target",
                  CHANGED, live.target, target)  # fmt: skip
    _route_settings(found, route_spec, state, role.container_prefix)
    if live.state != "running":
        found.add(f"route is {live.state} (maintenance)", "state", CHANGED, live.state, "running")
    if not found:
        return []
    return [Change("route", role.name, host, Action.UPDATE, tuple(found.reasons), before, after,
                   attributes=tuple(found.attributes))]  # fmt: skip


def _accessory(
    app: App,
    accessory: Accessory,
    state: LiveHost,
    envfiles: EnvFileDigests,
    secrets: SecretDigests,
) -> list[Change]:
    host = state.host
    container = state.container(accessory.service_name)
    after = (("container", accessory.service_name), ("image", accessory.image))
    if container is None:
        return [
            Change("accessory", accessory.name, host, Action.CREATE, ("not running",), (), after)
        ]
    before = (("container", container.name), ("image", container.image), ("state", container.state))
    found = _Found()
    if container.image != accessory.image:
        found.add(f"image {container.image} → {accessory.image}", "image", CHANGED,
                  container.image, accessory.image)  # fmt: skip
    _env(found, accessory.env, container, _image_env(state, container), secrets, ("KAMAL_HOST",))
    _env_file(found, accessory.env_file, state, envfiles)
    _cmd(found, accessory.cmd, container)
    _labels(found, (("service", accessory.service_name),) + accessory.labels, container)
    _options(found, accessory.options, container)
    _accessory_mounts(found, accessory, container)
    found.compare("network changed", "network", container.network or None, accessory.network)
    _logging(found, app.logging, container)
    if found:
        return [Change("accessory", accessory.name, host, Action.REPLACE, tuple(found.reasons),
                       before, after, downtime=True, attributes=tuple(found.attributes))]  # fmt: skip
    if not container.running:
        attribute = Attribute("state", CHANGED, container.state, "running")
        return [
            Change(
                "accessory",
                accessory.name,
                host,
                Action.UPDATE,
                (container.state,),
                before,
                after,
                attributes=(attribute,),
            )  # fmt: skip
        ]
    return []


def _accessory_mounts(found: _Found, accessory: Accessory, container: LiveContainer) -> None:
    """Volumes, files and directories by where they are mounted in the container (their
    sources on the host depend on the SSH user's home). A mount the config no longer has is
    told apart by its source: files and directories live under ``<home>/<service>/``, a file
    at its container path."""
    wanted = {
        "volumes": {v.split(":")[1] for v in accessory.volumes if ":" in v},
        "files": {m.remote for m in accessory.files},
        "directories": {m.remote for m in accessory.directories},
    }
    live: dict[str, set[str]] = {name: set() for name in wanted}
    home = f"/{accessory.service_name}"
    for mount in container.mounts:
        source, _, destination = mount.rpartition(":")
        group = next((name for name, dests in wanted.items() if destination in dests), None)
        if group is None and f"{home}/" in source:
            as_file = source.endswith(
                home + ("" if destination.startswith("/") else "/") + destination
            )
            group = "files" if as_file else "directories"
        live[group or "volumes"].add(destination)
    for name in wanted:
        found.compare(f"{name} changed", name, tuple(sorted(live[name])) or None,
                      tuple(sorted(wanted[name])) or None)  # fmt: skip


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
               (("state", c.state), ("id", c.short_id)))
        for c in extra
    ]  # fmt: skip
