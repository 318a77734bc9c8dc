"""``accessories``: long-running companion containers (databases, caches) on chosen hosts."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from backstaff.schemas import env as env_schema
from backstaff.schemas import proxy as proxy_schema
from backstaff.schemas import registry as registry_schema
from backstaff.schemas.errors import ConfigError, join, stricter
from backstaff.schemas.servers import RESTART_MESSAGE, labels_not_reserved
from backstaff.schemas.validator import array, check, free_hash, nested, section, text

PLACEMENT_KEYS = ("host", "hosts", "role", "roles", "tag", "tags")
PLACEMENT_MESSAGE = "specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`"

# [ip:]host_port[:container_port][/proto]; an IPv6 bind address goes in brackets.
PORT = re.compile(
    r"^(?:(?:\[[0-9a-fA-F:]+\]|[0-9.]+):)?(\d{1,5})(?::(\d{1,5}))?(?:/(tcp|udp|sctp))?$"
)

MOUNT = section(
    {
        "local": text(doc="local file or directory"),
        "remote": text(doc="path inside the container"),
        "mode": text(doc='file mode, e.g. "0600"'),
        "owner": text(doc='owner, e.g. "mysql:mysql"'),
        "options": text(doc="mount options, e.g. ro,Z"),
    }
)

ACCESSORY = section(
    {
        "service": text(doc="container name (default <service>-<name>)"),
        "image": text(doc="image, e.g. mysql:8.0 (required)"),
        "registry": nested(["hash"], doc="registry for this image (see `docs registry`)"),
        "host": text(doc="the one host to run on"),
        "hosts": array(text(), doc="hosts to run on"),
        "role": text(doc="run on the hosts of this role"),
        "roles": array(text(), doc="run on the hosts of these roles"),
        "tag": text(doc="run on hosts with this tag"),
        "tags": array(text(), doc="run on hosts with any of these tags"),
        "cmd": text(doc="command run in the container"),
        "port": text(doc='published port: "3306", "127.0.0.1:3306:3306"'),
        "labels": free_hash(text(), doc="extra container labels"),
        "options": free_hash(doc="extra docker run options"),
        "env": nested(["hash"], doc="env (see `docs env`)"),
        "files": array(nested(["text", "hash"]), doc="local:remote[:options] files to upload"),
        "directories": array(nested(["text", "hash"]), doc="local:remote[:options] directories"),
        "volumes": array(text(), doc="docker volumes, as written"),
        "network": text(doc="docker network (default kamal)"),
        "proxy": nested(["hash"], doc="route through kamal-proxy (see `docs proxy`)"),
    },
    doc="one accessory",
)

RULE = free_hash(nested(["hash"]), doc="accessory name: settings (see `docs accessory`)")


def validate(
    value: Any, path: str = "accessories", roles: Collection[str] | None = None
) -> list[ConfigError]:
    """``roles``: the config's role names, which an accessory's ``role``/``roles`` must name
    (None: not known, as when ``servers`` is not a list or a hash)."""
    errors = check(value, RULE, path)
    if errors:
        return errors
    for name, accessory in value.items():
        errors += validate_one(accessory, join(path, name), roles)
    with_certificate = [
        name for name, accessory in value.items()
        if isinstance(accessory, dict) and isinstance(accessory.get("proxy"), dict)
        and proxy_schema.custom_certificate(accessory["proxy"].get("ssl")) is not None
    ]  # fmt: skip
    if len(with_certificate) > 1 and not errors:
        errors.append(ConfigError(join(path, with_certificate[1], "proxy", "ssl"), SHARED_TLS))
    return errors


SHARED_TLS = (
    "only one accessory may have a custom certificate: Kamal gives every accessory the same "
    "tls/cert.pem and tls/key.pem of the service on the host"
)


def validate_one(value: Any, path: str, roles: Collection[str] | None = None) -> list[ConfigError]:
    """One accessory's errors in Kamal's order (``Accessory#initialize``): its keys, then the
    roles it names, then its env, registry and proxy."""
    errors = check(value, ACCESSORY, path)
    if errors:
        return errors
    if sum(1 for key in PLACEMENT_KEYS if key in value) != 1:
        errors.append(ConfigError(path, PLACEMENT_MESSAGE))
    if not value.get("image"):
        errors.append(stricter(join(path, "image"), "is required"))
    if "port" in value:
        errors += _check_port(value["port"], join(path, "port"))
    errors += labels_not_reserved(value.get("labels") or {}, join(path, "labels"))
    if "restart" in (value.get("options") or {}):
        errors.append(ConfigError(path, RESTART_MESSAGE))
    for key in ("files", "directories"):
        for index, mount in enumerate(value.get(key) or []):
            errors += _check_mount(mount, join(path, key, index))
    if roles is not None:
        errors += _check_roles(value, path, roles)
    if "env" in value:
        errors += env_schema.validate(value["env"], join(path, "env"), allow_tags=False)
    if "registry" in value:
        errors += registry_schema.validate(value["registry"], join(path, "registry"))
    if "proxy" in value:
        errors += proxy_schema.validate(value["proxy"], join(path, "proxy"))
    return errors


def _check_roles(value: dict[str, Any], path: str, roles: Collection[str]) -> list[ConfigError]:
    """Kamal's ``ensure_valid_roles``, right after the accessory's own keys are checked: before
    the next accessory and every later section."""
    unknown = [str(r) for r in value.get("roles") or [] if str(r) not in roles]
    if unknown:
        return [ConfigError(path, f"unknown roles {', '.join(unknown)}")]
    if "role" in value and str(value["role"]) not in roles:
        return [ConfigError(path, f"unknown role {value['role']}")]
    return []


def _check_port(port: Any, path: str) -> list[ConfigError]:
    if not isinstance(port, bool) and len(str(port).split()) > 1:
        # a real config's "127.0.0.1:5432:5432 --publish [::1]:5432:5432": Kamal's shell splits
        # the value into more docker options, backstaff passes it as one word
        return [stricter(path, f"invalid port '{port}': one port, PORT or [IP:]HOST_PORT:PORT"
                               " (publish another with the accessory's options: publish: [...])")]  # fmt: skip
    match = None if isinstance(port, bool) else PORT.match(str(port))
    if not match or any(p and not 0 < int(p) < 65536 for p in match.groups()[:2]):
        return [stricter(path, f"invalid port '{port}', use PORT or [IP:]HOST_PORT:PORT")]
    return []


def _check_mount(mount: Any, path: str) -> list[ConfigError]:
    if isinstance(mount, dict):
        errors = check(mount, MOUNT, path)
        missing = [k for k in ("local", "remote") if not mount.get(k)]
        return errors + [stricter(join(path, k), "is required") for k in missing]
    local, _, remote = str(mount).partition(":")
    if not local or not remote:
        return [ConfigError(path, f"'{mount}' should be local:remote[:options]")]
    return []
