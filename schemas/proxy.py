"""``proxy`` (root, role and accessory): how kamal-proxy routes to the app."""

from __future__ import annotations

import ipaddress
from typing import Any

from backstaff.schemas.errors import ConfigError, join, stricter
from backstaff.schemas.validator import (
    array,
    check,
    flag,
    free_hash,
    integer,
    nested,
    present,
    section,
    text,
)

SSL = section(
    {
        # null (an ERB variable that is not set): no custom certificate, as Kamal reads it
        "certificate_pem": text(doc="secret name holding the certificate", nullable=True),
        "private_key_pem": text(doc="secret name holding the private key", nullable=True),
    },
    doc="a custom certificate instead of Let's Encrypt",
)

RUN = section(
    {
        "http_port": integer(doc="HTTP port (default 80)"),
        "https_port": integer(doc="HTTPS port (default 443)"),
        "metrics_port": integer(doc="Prometheus metrics port"),
        "debug": flag(doc="debug logging (default false)"),
        "log_max_size": text(doc='maximum log size (default "10m")'),
        "publish": flag(doc="publish ports on the host (default true)"),
        "bind_ips": array(text(), doc="IPs to bind when publishing"),
        "registry": text(doc="registry of the kamal-proxy image"),
        "repository": text(doc="repository of the kamal-proxy image"),
        "version": text(doc="kamal-proxy image tag (default v0.9.2)"),
        "options": free_hash(doc="extra docker run options"),
    },
    doc="how the kamal-proxy container itself is run",
)

FIELDS = {
    "host": text(doc="host name routed to the app (comma separated for several)"),
    "hosts": array(text(), doc="host names routed to the app"),
    "app_port": integer(doc="port the app listens on (default 80)"),
    "ssl": nested(["flag", "hash"], doc="true for Let's Encrypt, or a custom certificate"),
    "ssl_redirect": flag(doc="redirect HTTP to HTTPS (default true)"),
    "forward_headers": flag(doc="forward X-Forwarded-* headers"),
    "response_timeout": integer(doc="seconds to wait for a response (default 30)"),
    "path_prefix": text(doc="route only these path prefixes (comma separated)"),
    "path_prefixes": array(text(), doc="route only these path prefixes"),
    "strip_path_prefix": flag(doc="strip the prefix before forwarding (default true)"),
    "healthcheck": section(
        {
            "interval": integer(doc="seconds between checks (default 1)"),
            "path": text(doc="health path (default /up)"),
            "timeout": integer(doc="seconds per check (default 5)"),
        },
        doc="how kamal-proxy decides a new container is healthy",
    ),
    "buffering": section(
        {
            "requests": flag(doc="buffer requests (default true)"),
            "responses": flag(doc="buffer responses (default true)"),
            "max_request_body": integer(doc="bytes, 0 = unlimited"),
            "max_response_body": integer(doc="bytes, 0 = unlimited"),
            "memory": integer(doc="bytes buffered in memory (default 1 MiB)"),
        }
    ),
    "logging": section(
        {
            "request_headers": array(text(), doc="request headers to log"),
            "response_headers": array(text(), doc="response headers to log"),
        }
    ),
    "run": RUN,
}

RULE = section(FIELDS, doc="kamal-proxy settings (root, per role, per accessory)")


def validate(value: Any, path: str) -> list[ConfigError]:
    errors = check(value, RULE, path)
    if errors:
        return errors
    ssl = value.get("ssl")
    if isinstance(ssl, dict):
        known = {k: v for k, v in ssl.items() if k in SSL["schema"]}
        errors = check(known, SSL, join(path, "ssl"))
        if errors:
            return errors
        errors += _unknown_ssl_keys([str(k) for k in ssl if k not in SSL["schema"]], path)
    if "host" in value and "hosts" in value:
        errors.append(ConfigError(path, "Specify one of 'host' or 'hosts', not both"))
    if ssl_on(ssl) and not (present(value.get("host")) or present(value.get("hosts"))):
        errors.append(ConfigError(path, "Must set a host to enable automatic SSL"))
    if isinstance(ssl, dict):
        if present(ssl.get("certificate_pem")) and not present(ssl.get("private_key_pem")):
            errors.append(
                ConfigError(
                    path,
                    "Missing private_key_pem setting (required when certificate_pem is present)",
                )
            )
        if present(ssl.get("private_key_pem")) and not present(ssl.get("certificate_pem")):
            errors.append(
                ConfigError(
                    path,
                    "Missing certificate_pem setting (required when private_key_pem is present)",
                )
            )
    run = value.get("run") or {}
    for index, ip in enumerate(run.get("bind_ips") or []):
        if not _is_ip(str(ip)):
            where = join(path, "run", "bind_ips", str(index))
            errors.append(ConfigError(where, f"Invalid publish IP address: {ip}"))
    if run.get("publish") is False and any(
        k in run for k in ("http_port", "https_port", "bind_ips")
    ):
        errors.append(
            ConfigError(path, "Cannot set http_port, https_port or bind_ips when publish is false")
        )
    for key in ("app_port", "response_timeout"):
        if key in value and not 0 < value[key] < (65536 if key == "app_port" else 10**6):
            errors.append(stricter(join(path, key), "is out of range"))
    return errors


def _unknown_ssl_keys(keys: list[str], path: str) -> list[ConfigError]:
    """Kamal 2.11 does not look inside ``ssl``: other keys (``certificate_path``) are ignored
    and the certificate is Let's Encrypt's, not the one they name. Refused, saying so."""
    if not keys:
        return []
    label = "unknown key" if len(keys) == 1 else "unknown keys"
    return [stricter(join(path, "ssl"), f"{label}: {', '.join(keys)} (Kamal 2.11 ignores"
                     " them and uses Let's Encrypt; a custom certificate is certificate_pem and"
                     " private_key_pem, each the name of a secret)")]  # fmt: skip


def ssl_on(ssl: Any) -> bool:
    """Ruby's truth, as Kamal reads ``proxy.ssl``: any hash, even ``{}``, turns TLS on."""
    return ssl is not None and ssl is not False


def custom_certificate(ssl: Any) -> tuple[str, str] | None:
    """The secrets naming a custom certificate and its key, when both are present (Kamal's
    ``custom_ssl_certificate?``); else None (Let's Encrypt)."""
    if not isinstance(ssl, dict):
        return None
    cert, key = ssl.get("certificate_pem"), ssl.get("private_key_pem")
    return (str(cert), str(key)) if present(cert) and present(key) else None


def _is_ip(text: str) -> bool:
    """An IPv4 or IPv6 address (Kamal checks these when it boots the proxy; here, up front)."""
    try:
        ipaddress.ip_address(text.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return True
