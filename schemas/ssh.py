"""``ssh`` and ``sshkit``: how hosts are reached and how many connections start at once."""

from __future__ import annotations

from typing import Any

from backstaff.schemas.errors import ConfigError, join, stricter
from backstaff.schemas.validator import array, check, flag, integer, nested, section, text

LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")

SSH = section(
    {
        "user": text(doc="login user (default root)"),
        "port": text(doc="port (default 22)"),
        "proxy": text(doc="jump host, user@host"),
        "proxy_command": text(doc="ProxyCommand, e.g. ssh -W %h:%p user@jump"),
        "log_level": text(
            doc="paramiko's log on stderr: debug, info, warn, error, fatal (default)"
        ),
        "keys_only": flag(doc="use only the listed keys"),
        "keys": array(text(), doc="private key files"),
        "key_data": array(text(), doc="private keys inline, or secret names"),
        "config": nested(
            ["flag", "strict_text", "array"],
            doc="ssh config files read as net-ssh reads them (default true: ~/.ssh/config,"
            " /etc/ssh_config, /etc/ssh/ssh_config), or false",
        ),
    },
    doc="how to connect to the hosts",
)

SSHKIT = section(
    {
        "max_concurrent_starts": integer(doc="SSH connections started at once (default 30)"),
        "pool_idle_timeout": integer(
            doc="seconds an idle connection is kept (default 900; 0: a new one each time)"
        ),
        "dns_retries": integer(doc="retries of a host name that does not resolve (default 3)"),
    },
    doc="connection pooling",
)


def validate_ssh(value: Any, path: str = "ssh") -> list[ConfigError]:
    errors = check(value, SSH, path)
    if errors:
        return errors
    if isinstance(value.get("config"), list):
        errors += check(value["config"], array(text()), join(path, "config"))
    if "port" in value:
        port = str(value["port"])
        if not port.isdigit() or not 0 < int(port) < 65536:
            errors.append(stricter(join(path, "port"), f"invalid port '{port}'"))
    if "log_level" in value and str(value["log_level"]) not in LOG_LEVELS:
        errors.append(
            stricter(join(path, "log_level"), f"should be one of: {', '.join(LOG_LEVELS)}")
        )
    return errors


def validate_sshkit(value: Any, path: str = "sshkit") -> list[ConfigError]:
    errors = check(value, SSHKIT, path)
    for key in ("max_concurrent_starts",):
        if not errors and key in value and value[key] < 1:
            errors.append(stricter(join(path, key), "must be at least 1"))
    return errors
