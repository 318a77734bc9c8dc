"""The top level of deploy.yml: key types, then each section, then the cross-section rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from backstaff.schemas import (
    accessories,
    aliases,
    boot,
    builder,
    env,
    logging,
    proxy,
    registry,
    topology,
)
from backstaff.schemas import servers as servers_schema
from backstaff.schemas import ssh as ssh_schema
from backstaff.schemas.errors import ConfigError, join, kamal_first, stricter
from backstaff.schemas.validator import (
    array,
    check,
    flag,
    free_hash,
    integer,
    nested,
    section,
    text,
)

# backstaff speaks the config language of this Kamal release (for ``minimum_version``).
KAMAL_VERSION = "2.11.0"
SERVICE_NAME = re.compile(r"^[a-z0-9_-]+$", re.IGNORECASE)
HOOK_NAMES = (
    "docker-setup", "post-app-boot", "post-deploy", "post-proxy-reboot", "pre-app-boot",
    "pre-build", "pre-connect", "pre-deploy", "pre-proxy-reboot",
)  # fmt: skip
HOOKS_OUTPUT = ("quiet", "verbose")

RULE = section(
    {
        "service": text(doc="service name, the container name prefix (required)"),
        "image": text(doc="image name, pushed to the registry (required)"),
        "labels": free_hash(text(), doc="extra labels on every app container"),
        "volumes": array(text(), doc="volumes mounted into every app container"),
        "registry": nested(["hash"], doc="see `docs registry`"),
        "servers": nested(["array", "hash"], doc="see `docs servers`"),
        "env": nested(["hash"], doc="see `docs env`"),
        "asset_path": text(doc="path of assets bridged between versions"),
        "hooks_path": text(doc="hooks folder (default .kamal/hooks)"),
        "hooks_output": nested(["text", "hash"], doc="quiet or verbose, or per hook"),
        "secrets_path": text(doc="secrets file (default .kamal/secrets)"),
        "error_pages_path": text(doc="folder of 4xx.html/5xx.html pages for the proxy"),
        "require_destination": flag(doc="refuse to run without -d"),
        "primary_role": text(doc="the role deployed first (default web)"),
        "allow_empty_roles": flag(doc="allow roles without hosts"),
        "retain_containers": integer(doc="stopped containers kept for rollback (default 5)"),
        "minimum_version": text(doc="minimum Kamal version this config needs"),
        "readiness_delay": integer(doc="seconds a non-proxy container must run (default 7)"),
        "deploy_timeout": integer(doc="seconds to wait for a healthy container (default 30)"),
        "drain_timeout": integer(doc="seconds to drain the old container (default 30)"),
        "run_directory": text(doc="accepted and ignored, as in Kamal 2.11 (always .kamal)"),
        "ssh": nested(["hash"], doc="see `docs ssh`"),
        "builder": nested(["hash"], doc="see `docs builder`"),
        "accessories": nested(["hash"], doc="see `docs accessory`"),
        "proxy": nested(["hash"], doc="see `docs proxy`"),
        "sshkit": nested(["hash"], doc="see `docs sshkit`"),
        "boot": nested(["hash"], doc="see `docs boot`"),
        "logging": nested(["hash"], doc="see `docs logging`"),
        "aliases": nested(["hash"], doc="see `docs alias`"),
    },
    doc="config/deploy.yml",
)

Section = Callable[[Any, str, dict[str, Any]], list[ConfigError]]


def _alone(check_section: Callable[[Any, str], list[ConfigError]]) -> Section:
    """A section checked on its own (all but ``accessories``, whose roles are ``servers``')."""
    return lambda value, path, _config: check_section(value, path)


# Kamal's order (Configuration#initialize): servers (its roles by name), registry,
# accessories, aliases, boot, builder, env, logging, proxy, ssh, sshkit.
SECTIONS: dict[str, Section] = {
    "servers": _alone(servers_schema.validate),
    "registry": _alone(lambda value, path: registry.validate(value or {}, path)),
    "accessories": lambda value, path, config: accessories.validate(
        value, path, _role_names(config.get("servers"))
    ),
    "aliases": _alone(aliases.validate),
    "boot": _alone(boot.validate),
    "builder": _alone(builder.validate),
    "env": _alone(lambda value, path: env.validate(value, path, allow_tags=True)),
    "logging": _alone(logging.validate),
    "proxy": _alone(proxy.validate),
    "ssh": _alone(ssh_schema.validate_ssh),
    "sshkit": _alone(ssh_schema.validate_sshkit),
}
CHECKED_WHEN_MISSING = ("registry", "builder")  # as Kamal: an empty section is checked too


def validate(config: dict[str, Any], destination: str | None = None) -> list[ConfigError]:
    """Every error in a merged config (``x-`` keys already removed) for ``destination``, in
    Kamal's order, with backstaff's stricter checks after Kamal's (so the first error is
    Kamal's). The checks across sections run once the sections hold no error Kamal gives."""
    errors = check(config, RULE, "")
    if errors:
        return errors
    for key, validate_section in SECTIONS.items():
        if key in config:
            errors += validate_section(config[key], key, config)
        elif key in CHECKED_WHEN_MISSING:
            errors += validate_section({}, key, config)
    if all(error.stricter for error in errors):
        errors += _cross_checks(config, destination)
    return kamal_first(errors)


def _role_names(servers: Any) -> list[str] | None:
    """The roles an accessory may name; None when ``servers`` is no list or hash (its own
    error says so)."""
    if servers is None:
        return []
    if isinstance(servers, list):
        return [topology.DEFAULT_PRIMARY_ROLE]
    return [str(name) for name in servers] if isinstance(servers, dict) else None


def _cross_checks(config: dict[str, Any], destination: str | None) -> list[ConfigError]:
    """Kamal's ``ensure_*`` checks, in its order."""
    errors: list[ConfigError] = []
    if config.get("require_destination") and not destination:
        errors.append(ConfigError("", "You must specify a destination"))
    for key in ("service", "image"):
        if not config.get(key):
            errors.append(ConfigError("", f"Missing required configuration for {key}"))
    errors += _check_roles(config)
    errors += _check_minimum_version(config.get("minimum_version"))
    errors += _check_numbers(config)
    service = config.get("service")
    if service and not SERVICE_NAME.match(str(service)):
        errors.append(
            ConfigError(
                "",
                "Service name can only include alphanumeric characters, hyphens, and underscores",
            )
        )
    errors += _check_ssl(config)
    errors += _check_local_registry_builder(config)
    errors += _check_hooks_output(config.get("hooks_output"))
    errors += _check_accessory_placement(config)
    return errors


def _check_roles(config: dict[str, Any]) -> list[ConfigError]:
    servers = config.get("servers")
    if not servers and not config.get("accessories"):
        return [ConfigError("", "No servers or accessories specified")]
    if not servers:
        return []
    role_hosts = topology.roles(servers)
    primary = topology.primary_role_name(config)
    if primary not in role_hosts:
        return [ConfigError("", f"The primary_role {primary} isn't defined")]
    if not role_hosts[primary]:
        return [ConfigError("", f"No servers specified for the {primary} primary_role")]
    errors = []
    if not config.get("allow_empty_roles"):
        for name, hosts in role_hosts.items():
            if not hosts:
                errors.append(
                    ConfigError(
                        "",
                        f"No servers specified for the {name} role. You can ignore this with"
                        " allow_empty_roles: true",
                    )
                )
    return errors


def _check_numbers(config: dict[str, Any]) -> list[ConfigError]:
    errors = []
    if config.get("retain_containers", 1) < 1:
        errors.append(ConfigError("", "Must retain at least 1 container"))
    for key in ("readiness_delay", "drain_timeout"):
        if config.get(key, 0) < 0:
            errors.append(stricter(key, "must not be negative"))
    if config.get("deploy_timeout", 1) < 1:
        errors.append(stricter("deploy_timeout", "must be at least 1"))
    return errors


def _check_ssl(config: dict[str, Any]) -> list[ConfigError]:
    errors = []
    owners: dict[str, str] = {}
    role_hosts = topology.roles(config.get("servers"))
    for name, settings in topology.role_proxies(config).items():
        if not settings or not proxy.ssl_on(settings.get("ssl")):
            continue
        servers = role_hosts.get(name, [])
        if proxy.custom_certificate(settings["ssl"]) is None and len(servers) > 1:
            errors.append(
                ConfigError(
                    "",
                    "SSL is only supported on a single server unless you provide custom"
                    f" certificates, found {len(servers)} servers for role {name}",
                )
            )
        names = settings.get("hosts") or str(settings.get("host") or "").split(",")
        for host in (str(h).strip() for h in names if str(h).strip()):
            if owners.setdefault(host, name) != name:
                errors.append(
                    ConfigError("", f"Different roles can't share the same host for SSL: {host}")
                )
    return errors


def _check_local_registry_builder(config: dict[str, Any]) -> list[ConfigError]:
    """The hosts reach a local registry through an SSH tunnel, so a remote builder must use SSH."""
    remote = str((config.get("builder") or {}).get("remote") or "")
    if (
        registry.is_local(config.get("registry") or {})
        and remote
        and not remote.startswith("ssh://")
    ):
        return [
            ConfigError(
                "", "Local registry with remote builder requires an SSH URL (e.g., ssh://user@host)"
            )
        ]
    return []


def _check_hooks_output(value: Any) -> list[ConfigError]:
    if value is None:
        return []
    settings = value if isinstance(value, dict) else {None: value}
    errors = []
    for hook, setting in settings.items():
        level = str(setting)  # a Symbol (:quiet) is its name; the text ":quiet" is no level
        if hook is not None and hook not in HOOK_NAMES:
            errors.append(
                stricter(
                    join("hooks_output", hook),
                    f"unknown hook '{hook}', must be one of: {', '.join(HOOK_NAMES)}",
                )
            )
        elif level not in HOOKS_OUTPUT:
            where = "" if hook is None else f" for hook '{hook}'"
            errors.append(
                ConfigError(
                    "",
                    f"Invalid hooks_output '{setting}'{where}, must be one of: quiet, verbose",
                )
            )
    return errors


def _check_accessory_placement(config: dict[str, Any]) -> list[ConfigError]:
    """The tags an accessory names are on some host (the roles it names: its section's)."""
    role_hosts = topology.roles(config.get("servers"))
    tags = {tag for hosts in role_hosts.values() for _, host_tags in hosts for tag in host_tags}
    errors = []
    for name, accessory in (config.get("accessories") or {}).items():
        path = join("accessories", name)
        wanted = ([accessory["tag"]] if "tag" in accessory else []) + (accessory.get("tags") or [])
        missing = [str(t) for t in wanted if str(t) not in tags]
        if missing:
            errors.append(stricter(path, f"no host has the tag {', '.join(missing)}"))
    return errors


def _check_minimum_version(minimum: Any) -> list[ConfigError]:
    if minimum is None:
        return []
    wanted = _version_tuple(str(minimum))
    if wanted is None:
        return [ConfigError("minimum_version", f"invalid version '{minimum}'")]
    if wanted > _version_tuple(KAMAL_VERSION):  # type: ignore[operator]
        return [
            ConfigError("", f"Current version is {KAMAL_VERSION}, minimum required is {minimum}")
        ]
    return []


def _version_tuple(version: str) -> tuple[int, ...] | None:
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        return None
    return tuple(int(p) for p in version.split("."))
