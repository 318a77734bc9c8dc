"""``aliases``: short names for backstaff/Kamal command lines."""

from __future__ import annotations

import re
from typing import Any

from backstaff.schemas.errors import ConfigError, join, stricter
from backstaff.schemas.validator import check, free_hash, text

NAME = re.compile(r"^[a-z0-9_-]+$")

# Kamal's top-level commands: an alias may not shadow one of them.
BUILT_IN_COMMANDS = (
    "accessory", "app", "audit", "build", "config", "deploy", "details", "docs", "help", "init",
    "lock", "proxy", "prune", "redeploy", "registry", "remove", "rollback", "secrets", "server",
    "setup", "upgrade", "version",
)  # fmt: skip

RULE = free_hash(text(), doc="alias name: command line, e.g. console: app exec -i bin/console")


def validate(value: Any, path: str = "aliases") -> list[ConfigError]:
    errors = check(value, RULE, path)
    if errors:
        return errors
    for name, command in value.items():
        where = join(path, name)
        if not NAME.match(str(name)):
            errors.append(
                ConfigError(
                    where,
                    f"Invalid alias name: '{name}'. Must only contain lowercase letters,"
                    " alphanumeric, hyphens and underscores.",
                )
            )
        elif name in BUILT_IN_COMMANDS:
            errors.append(ConfigError(where, f"Alias '{name}' conflicts with a built-in command."))
        elif not str(command).strip():
            errors.append(stricter(where, "should not be empty"))
    return errors
