"""``registry``: server, username, password (a string or ``[SECRET_NAME]``)."""

from __future__ import annotations

import re
from typing import Any

from backstaff.schemas.errors import ConfigError, join, stricter
from backstaff.schemas.validator import check, nested, present, section, text

RULE = section(
    {
        "server": text(
            doc="registry host[:port]; Docker Hub when left out; localhost:PORT is local"
        ),
        "username": nested(["text", "array"], doc="a string, or [SECRET_NAME]"),
        "password": nested(["text", "array"], doc="a string, or [SECRET_NAME]"),
    },
    doc="where images are pushed to and pulled from",
)

# Kamal checks the credentials' types itself, after the other keys (validate_string_or_one_item_
# array!): the section's shape without them, then ``_credential``.
CREDENTIALS = ("username", "password")
SHAPE = section(
    {key: {"meta": rule["meta"], "nullable": True} if key in CREDENTIALS else rule
     for key, rule in RULE["schema"].items()}
)  # fmt: skip

LOCAL = re.compile(r"^localhost[:$]")  # Kamal's test, as written: "localhost" alone is not local


def is_local(registry: dict[str, Any]) -> bool:
    return bool(LOCAL.match(str(registry.get("server") or "")))


def validate(value: Any, path: str) -> list[ConfigError]:
    errors = check(value, SHAPE, path)
    if errors:
        return errors
    if is_local(value):
        port = str(value["server"]).split(":", 1)[1]
        if not port.isdigit() or not 0 < int(port) < 65536:
            errors.append(
                stricter(
                    join(path, "server"),
                    f"a local registry is localhost:PORT, '{port}' is not a port number"
                    " (Kamal would forward port 0 to the hosts)",
                )
            )
        return errors
    for key in CREDENTIALS:
        errors += _credential(value.get(key), join(path, key))
    return errors


def _credential(value: Any, where: str) -> list[ConfigError]:
    """Kamal's test: present (Rails' ``present?``: not nil, false, blank or empty), then a
    string or a list of one string (a secret's name); a number is neither."""
    if not present(value):
        return [ConfigError(where, "is required")]
    if isinstance(value, str) or (
        isinstance(value, list) and len(value) == 1 and isinstance(value[0], str)
    ):
        return []
    return [
        ConfigError(where, "should be a string or an array with one string (for secret lookup)")
    ]
