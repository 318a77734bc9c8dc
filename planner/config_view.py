"""``backstaff config``: the resolved config as plain data, secrets masked unless asked for."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from backstaff.planner.model import Accessory, App, Env, ProxyRoute, Role

MASK = "[REDACTED]"
SecretLookup = Callable[[str], str] | None


def config_view(app: App, builder: dict[str, Any], reveal: SecretLookup = None) -> dict[str, Any]:
    """Kamal's ``kamal config`` keys first, then what backstaff resolved per role and accessory."""
    return {
        "service": app.service,
        "destination": app.destination,
        "roles": [role.name for role in app.roles],
        "hosts": list(app.all_hosts),
        "primary_host": app.primary_host,
        "version": app.version,
        "repository": app.repository,
        "absolute_image": app.image,
        "service_with_version": f"{app.service}-{app.version}",
        "volume_args": [arg for volume in app.volumes for arg in ("--volume", volume)],
        "ssh_options": {
            "user": app.ssh.user,
            "port": app.ssh.port,
            **({"proxy": app.ssh.proxy} if app.ssh.proxy else {}),
            **({"keys": list(app.ssh.keys)} if app.ssh.keys else {}),
            **({"key_data": [MASK for _ in app.ssh.key_data]} if app.ssh.key_data else {}),
            "keys_only": app.ssh.keys_only,
        },
        "sshkit": {
            "max_concurrent_starts": app.ssh.max_concurrent_starts,
            "pool_idle_timeout": app.ssh.pool_idle_timeout,
            "dns_retries": app.ssh.dns_retries,
        },
        "builder": builder,
        "registry": _registry(app, reveal),
        "servers": {role.name: _role(app, role, reveal) for role in app.roles},
        "accessories": {a.name: _accessory(a, reveal) for a in app.accessories},
        "logging": [arg for pair in app.logging for arg in pair],
        "retain_containers": app.retain_containers,
        "readiness_delay": app.readiness_delay,
        "deploy_timeout": app.deploy_timeout,
        "drain_timeout": app.drain_timeout,
        "lock_directory": app.lock_directory,
        "audit_log": app.audit_log,
    }


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


def _role(app: App, role: Role, reveal: SecretLookup) -> dict[str, Any]:
    return {
        "hosts": list(role.hosts),
        "primary": role.primary,
        "container_name": role.container_name(app.version),
        "cmd": role.cmd,
        "labels": dict(app.labels_for(role)),
        "options": {k: list(v) if isinstance(v, tuple) else v for k, v in role.options},
        "env": _env(role.env, reveal),
        "env_file": role.env_file,
        "proxy": _proxy(role.proxy),
    }


def _accessory(accessory: Accessory, reveal: SecretLookup) -> dict[str, Any]:
    return {
        "service": accessory.service_name,
        "image": accessory.image,
        "hosts": list(accessory.hosts),
        "cmd": accessory.cmd,
        "port": accessory.port,
        "env": _env(accessory.env, reveal),
        "env_file": accessory.env_file,
        "files": [f"{m.local}:{m.remote}" for m in accessory.files],
        "directories": [f"{m.local}:{m.remote}" for m in accessory.directories],
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
