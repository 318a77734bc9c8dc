"""``registry``: server, username, password (a string or ``[SECRET_NAME]``)."""

from __future__ import annotations

import re
from typing import Any

from backstaff.schemas.errors import ConfigError, join, stricter
from backstaff.schemas.validator import check, nested, section, text

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

LOCAL = re.compile(r"^localhost[:$]")  # Kamal's test, as written: "localhost" alone is not local


def is_local(registry: dict[str, Any]) -> bool:
    return bool(LOCAL.match(str(registry.get("server") or "")))


def validate(value: Any, path: str) -> list[ConfigError]:
    errors = check(value, RULE, path)
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
    for key in ("username", "password"):
        credential = value.get(key)
        where = join(path, key)
        if credential is None:
            errors.append(ConfigError(where, "is required"))
        elif isinstance(credential, list) and (
            len(credential) != 1 or not isinstance(credential[0], str)
        ):
            errors.append(
                ConfigError(
                    where, "should be a string or an array with one string (for secret lookup)"
                )
            )
    return errors
