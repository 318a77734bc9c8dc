"""Hosts, tags and roles as written under ``servers`` (shared by validation and the planner)."""

from __future__ import annotations

from typing import Any

from backstaff.schemas.merge import deep_merge

DEFAULT_PRIMARY_ROLE = "web"


def host_entries(entries: list[Any]) -> list[tuple[str, tuple[str, ...]]]:
    """``[host, {host: tag}, {host: [tags]}]`` as ``(host, tags)`` pairs, in order."""
    pairs = []
    for entry in entries or []:
        if isinstance(entry, dict):
            for host, tags in entry.items():
                tag_list = tags if isinstance(tags, list) else [tags]
                pairs.append((str(host), tuple(str(t) for t in tag_list if t is not None)))
        else:
            pairs.append((str(entry), ()))
    return pairs


def roles(servers: Any) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Role name to its ``(host, tags)`` pairs; a bare list is the single role ``web``."""
    if isinstance(servers, list):
        return {DEFAULT_PRIMARY_ROLE: host_entries(servers)}
    found = {}
    for name, role in (servers or {}).items():
        entries = role if isinstance(role, list) else (role or {}).get("hosts") or []
        found[str(name)] = host_entries(entries)
    return found


def ordered_role_names(names: list[str], primary: str) -> list[str]:
    """Roles sorted by name with the primary role first, as Kamal orders them."""
    rest = sorted(n for n in names if n != primary)
    return ([primary] if primary in names else []) + rest


def primary_role_name(config: dict[str, Any]) -> str:
    return str(config.get("primary_role") or DEFAULT_PRIMARY_ROLE)


def role_proxies(config: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """Each role's proxy settings (root proxy deep-merged with the role's), or None when the
    role does not run kamal-proxy: the primary role does unless ``proxy: false``, other roles
    only with ``proxy: true`` or a proxy hash."""
    servers = config.get("servers")
    primary = primary_role_name(config)
    root_proxy = config.get("proxy") or {}
    found: dict[str, dict[str, Any] | None] = {}
    for name in roles(servers):
        spec = servers.get(name) if isinstance(servers, dict) else None
        role_proxy = spec.get("proxy") if isinstance(spec, dict) else None
        if role_proxy is False or (name != primary and not role_proxy):
            found[name] = None
        else:
            found[name] = deep_merge(root_proxy, role_proxy if isinstance(role_proxy, dict) else {})
    return found
