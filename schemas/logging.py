"""``logging``: the docker log driver and its options (root and per role)."""

from __future__ import annotations

from typing import Any

from backstaff.schemas.errors import ConfigError
from backstaff.schemas.validator import check, free_hash, section, text

RULE = section(
    {
        "driver": text(doc="docker log driver, e.g. journald"),
        "options": free_hash(doc="--log-opt key: value pairs"),
    },
    doc='container logging (default --log-opt max-size="10m")',
)


def validate(value: Any, path: str) -> list[ConfigError]:
    return check(value, RULE, path)
