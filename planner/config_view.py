"""``backstaff config``: what ``kamal config`` prints, in Kamal's order, then what backstaff adds.

Kamal 2.11 prints ``Kamal::Configuration#to_h``: role names (sorted, as Kamal sorts the
``servers`` keys), hosts, primary host, version, image, volume and logging arguments, the SSH
options, and the ``sshkit``, ``builder`` and ``accessories`` sections as written (after ERB and
the destination merge). backstaff prints the same keys in the same order with the same values,
as plain YAML (string keys where Kamal has Ruby symbols), then its own resolved view: per-role
containers, labels, env, proxy routes, env tags, accessories as they will run, the registry.
Secret values are masked unless asked for.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from backstaff.planner.model import Accessory, App, Env, Mount, ProxyRoute, Role
from backstaff.schemas.psych_yaml import RubySymbol

MASK = "[REDACTED]"
SecretLookup = Callable[[str], str] | None

# The keys of ``kamal config``, in Kamal's order; everything after them is backstaff's.
KAMAL_KEYS = (
    "roles",
    "hosts",
    "primary_host",
    "version",
    "repository",
    "absolute_image",
    "service_with_version",
    "volume_args",
    "ssh_options",
    "sshkit",
    "builder",
    "accessories",
    "logging",
)
ADDED_BY_BACKSTAFF = "# Added by backstaff (not printed by kamal config):"


def config_view(app: App, raw: Mapping[str, Any], reveal: SecretLookup = None) -> dict[str, Any]:
    """Kamal's ``kamal config`` keys first (``raw`` is the merged, rendered deploy.yml), then
    backstaff's resolved view per role and accessory."""
    return {**kamal_view(app, raw, reveal), **backstaff_view(app, raw, reveal)}


def render_config_view(view: Mapping[str, Any]) -> str:
    """The view as YAML: Kamal's keys, then a comment line, then the keys backstaff adds."""
    kamal = {k: v for k, v in view.items() if k in KAMAL_KEYS}
    added = {k: v for k, v in view.items() if k not in KAMAL_KEYS}
    text = _dump(kamal)
    if added:
        text += f"{ADDED_BY_BACKSTAFF}\n{_dump(added)}"
    return text


class _ViewDumper(yaml.SafeDumper):
    """A Symbol (``arch: :amd64``) and a time written as Ruby's ``to_yaml`` writes them."""


def _represent_symbol(dumper: yaml.SafeDumper, symbol: RubySymbol) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", f":{symbol}")


def _represent_time(dumper: yaml.SafeDumper, time: datetime.datetime) -> yaml.ScalarNode:
    zone = "Z" if time.tzname() == "UTC" else time.isoformat()[-6:]
    text = f"{time:%Y-%m-%d %H:%M:%S}.{time.microsecond:06d}000 {zone}"
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", text)


_ViewDumper.add_representer(RubySymbol, _represent_symbol)
_ViewDumper.add_representer(datetime.datetime, _represent_time)


def _dump(data: Mapping[str, Any]) -> str:
    return yaml.dump(dict(data), Dumper=_ViewDumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True)  # fmt: skip


def kamal_view(app: App, raw: Mapping[str, Any], reveal: SecretLookup = None) -> dict[str, Any]:
    """``Kamal::Configuration#to_h``, its ``nil`` values left out as Kamal's ``compact`` does."""
    roles = _kamal_ordered_roles(app)
    primary = app.primary_role
    view: dict[str, Any] = {
        "roles": [role.name for role in roles],
        "hosts": list(app.all_hosts),
        "primary_host": primary.hosts[0] if primary and primary.hosts else None,
        "version": app.version,
        "repository": app.repository,
        "absolute_image": app.image,
        "service_with_version": f"{app.service}-{app.version}",
        "volume_args": [arg for volume in raw.get("volumes") or [] for arg in ("--volume", volume)],
        "ssh_options": _ssh_options(raw.get("ssh") or {}, reveal),
        "sshkit": raw.get("sshkit") or {},
        "builder": raw.get("builder") or {},
        "accessories": raw.get("accessories"),
        "logging": kamal_logging(app.logging),
    }
    return {k: v for k, v in view.items() if v is not None}


def backstaff_view(app: App, raw: Mapping[str, Any], reveal: SecretLookup = None) -> dict[str, Any]:
    """What backstaff resolved beyond ``kamal config``: containers, env, routes, accessories."""
    return {
        "service": app.service,
        "destination": app.destination,
        "primary_role": app.primary_role.name if app.primary_role else None,
        "registry": _registry(app, reveal),
        "servers": {role.name: _role(app, role, reveal) for role in _kamal_ordered_roles(app)},
        "env_tags": {tag: _env(env, reveal) for tag, env in app.tag_envs},
        "resolved_accessories": {a.name: _accessory(a, reveal) for a in app.accessories},
        "asset_path": raw.get("asset_path"),
        "error_pages_path": app.error_pages_path,
        "retain_containers": app.retain_containers,
        "readiness_delay": app.readiness_delay,
        "deploy_timeout": app.deploy_timeout,
        "drain_timeout": app.drain_timeout,
        "hooks_path": app.hooks_path,
        "secrets_path": app.secrets_path,
        "lock_directory": app.lock_directory,
        "audit_log": app.audit_log,
    }


def _kamal_ordered_roles(app: App) -> list[Role]:
    """Kamal orders roles by name (``servers.keys.sort``); the model keeps the primary first
    for deploy order, so the view sorts them again."""
    return sorted(app.roles, key=lambda role: role.name)


def _ssh_options(ssh: Mapping[str, Any], reveal: SecretLookup) -> dict[str, Any]:
    """``Kamal::Configuration::Ssh#to_h``: the options Kamal hands to net-ssh, in its order.
    Kamal prints a proxy as a net-ssh object; backstaff prints the jump host (``user@host``,
    ``root@`` added as Kamal does) or the proxy command."""
    proxy: str | None = None
    if ssh.get("proxy"):
        proxy = str(ssh["proxy"])
        proxy = proxy if "@" in proxy else f"root@{proxy}"
    elif ssh.get("proxy_command"):
        proxy = str(ssh["proxy_command"])
    key_data = ssh.get("key_data")
    options: dict[str, Any] = {
        "user": ssh.get("user", "root"),
        "port": ssh.get("port", 22),
        "proxy": proxy,
        "keepalive": True,
        "keepalive_interval": 30,
        "keys_only": ssh.get("keys_only"),
        "keys": ssh.get("keys"),
        "key_data": [_secret(str(k), reveal) for k in key_data] if key_data else key_data,
        "config": ssh.get("config"),
    }
    options = {k: v for k, v in options.items() if v is not None}
    options["log_level"] = ssh.get("log_level", "fatal")
    return options


def _secret(name: str, reveal: SecretLookup) -> str:
    return reveal(name) if reveal else MASK


def _env(env: Env, reveal: SecretLookup) -> dict[str, Any]:
    return {
        "clear": dict(env.clear),
        "secret": {name: _secret(key, reveal) for name, key in env.secrets},
    }


def _proxy(route: ProxyRoute | None) -> dict[str, Any] | None:
    if route is None:
        return None
    data = dataclasses.asdict(route)
    if route.custom_certificate:
        data["custom_certificate"] = {"certificate_pem": MASK, "private_key_pem": MASK}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items() if v is not None}


def _options(options: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options}


def _role(app: App, role: Role, reveal: SecretLookup) -> dict[str, Any]:
    return {
        "hosts": list(role.hosts),
        "primary": role.primary,
        "container_name": role.container_name(app.version),
        "cmd": role.cmd,
        "labels": dict(app.labels_for(role)),
        "options": _options(role.options),
        "env": _env(role.env, reveal),
        "env_file": role.env_file,
        "host_tags": {host: list(tags) for host, tags in role.host_tags},
        "host_env": {
            host: _env(app.env_for(role, host), reveal) for host, tags in role.host_tags if tags
        },
        "logging": kamal_logging(role.logging),
        "asset_path": role.asset_path,
        "proxy": _proxy(role.proxy),
    }


def _mount(mount: Mount) -> str:
    return f"{mount.local}:{mount.remote}" + (f":{mount.options}" if mount.options else "")


def _accessory(accessory: Accessory, reveal: SecretLookup) -> dict[str, Any]:
    return {
        "service": accessory.service_name,
        "image": accessory.image,
        "hosts": list(accessory.hosts),
        "cmd": accessory.cmd,
        "port": accessory.port,
        "labels": dict(accessory.labels),
        "options": _options(accessory.options),
        "env": _env(accessory.env, reveal),
        "env_file": accessory.env_file,
        "files": [_mount(m) for m in accessory.files],
        "directories": [_mount(m) for m in accessory.directories],
        "volumes": list(accessory.volumes),
        "network": accessory.network,
        "proxy": _proxy(accessory.proxy),
    }


def _registry(app: App, reveal: SecretLookup) -> dict[str, Any]:
    registry = app.registry
    username = registry.username
    if registry.username_secret:
        username = _secret(registry.username_secret, reveal)
    password = None
    if registry.password_secret:
        password = _secret(registry.password_secret, reveal)
    elif registry.password_plain_set:
        password = MASK
    return {"server": registry.server, "username": username, "password": password}


def kamal_logging(pairs: tuple[tuple[str, str], ...]) -> list[str]:
    """Logging arguments as ``kamal config`` prints them: ``max-size="10m"``, ``"json-file"``."""
    shown: list[str] = []
    for flag, value in pairs:
        if flag == "--log-opt":
            key, _, option = value.partition("=")
            value = f'{key}="{option}"'
        else:
            value = f'"{value}"'
        shown += [flag, value]
    return shown
