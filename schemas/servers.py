"""``servers``: a list of hosts (one ``web`` role) or a hash of roles, each a list or a hash."""

from __future__ import annotations

from typing import Any

from backstaff.schemas import env as env_schema
from backstaff.schemas import logging as logging_schema
from backstaff.schemas import proxy as proxy_schema
from backstaff.schemas.errors import ConfigError, join, stricter
from backstaff.schemas.validator import array, check, free_hash, nested, section, text

RESERVED_LABELS = ("destination", "role", "service")
RESERVED_LABELS_MESSAGE = "invalid label. destination, role, and service are reserved labels"
RESTART_MESSAGE = "Cannot set restart policy in docker options, unless-stopped is required"

RULE = nested(["array", "hash"], doc="hosts (a list) or roles (a hash of role name to hosts)")

ROLE = section(
    {
        "hosts": nested(["array"], doc="hosts of the role, optionally `- host: tag` or `[tags]`"),
        "cmd": text(doc="command run in the container"),
        "options": free_hash(doc="extra docker run options"),
        "logging": nested(["hash"], doc="logging for this role (see `docs logging`)"),
        "proxy": nested(["flag", "hash"], doc="true, or proxy settings merged over the root proxy"),
        "labels": free_hash(text(), doc="extra container labels"),
        "env": nested(["hash"], doc="env merged over the root env (no tags)"),
        "asset_path": text(doc="path of assets to bridge between versions"),
    },
    doc="one role: its hosts and how its containers run",
)


def validate(value: Any, path: str = "servers") -> list[ConfigError]:
    errors = check(value, RULE, path)
    if errors:
        return errors
    if isinstance(value, list):
        return validate_hosts(value, path)
    for name in sorted(value, key=str):  # Kamal's order: the role names sorted
        errors += validate_role(value[name], join(path, name))
    return errors


def validate_hosts(hosts: list[Any], path: str) -> list[ConfigError]:
    """Each entry is a host string, or a one-key hash ``host: tag`` / ``host: [tags]``."""
    errors = []
    for index, entry in enumerate(hosts):
        where = join(path, index)
        if isinstance(entry, dict):
            if len(entry) != 1:
                errors.append(ConfigError(where, "multiple hosts found"))
                continue
            ((host, tags),) = entry.items()
            errors += check(host, text(), where)
            # Kamal's context for the tags is the host: servers/web/hosts/0/10.0.0.1
            errors += check(tags, nested(["text", "array"]), join(where, host))
            if isinstance(tags, list):
                errors += check(tags, array(text()), join(where, host))
        elif check(entry, text(), where):
            errors.append(ConfigError(where, "should be a string or a hash"))
        elif not str(entry).strip():
            errors.append(stricter(where, "should not be empty"))
    return errors


def validate_role(role: Any, path: str) -> list[ConfigError]:
    errors = check(role, nested(["array", "hash"]), path)
    if errors:
        return errors
    if isinstance(role, list):
        return validate_hosts(role, path)
    errors = check(role, ROLE, path)
    if errors:
        return errors
    errors += validate_hosts(role.get("hosts") or [], join(path, "hosts"))
    errors += labels_not_reserved(role.get("labels") or {}, join(path, "labels"))
    if "restart" in (role.get("options") or {}):
        errors.append(ConfigError(path, RESTART_MESSAGE))
    if "env" in role:
        errors += env_schema.validate(role["env"], join(path, "env"), allow_tags=False)
    if "logging" in role:
        errors += logging_schema.validate(role["logging"], join(path, "logging"))
    if isinstance(role.get("proxy"), dict):
        errors += proxy_schema.validate(role["proxy"], join(path, "proxy"))
    return errors


def labels_not_reserved(labels: dict[str, Any], path: str) -> list[ConfigError]:
    return [
        ConfigError(join(path, key), RESERVED_LABELS_MESSAGE)
        for key in labels
        if key in RESERVED_LABELS
    ]
