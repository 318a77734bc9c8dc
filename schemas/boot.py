"""``boot``: how many hosts boot at once (``limit``: N or "P%") and the wait between groups."""

from __future__ import annotations

import re
from typing import Any

from backstaff.schemas.errors import ConfigError, join, stricter
from backstaff.schemas.validator import check, flag, integer, section, text

LIMIT = re.compile(r"^([1-9][0-9]*)(%?)$")

RULE = section(
    {
        "limit": text(doc='hosts booted at once: a number, or a percentage like "25%"'),
        "wait": integer(doc="seconds to wait between groups"),
        "parallel_roles": flag(doc="boot the roles of a host in parallel"),
    },
    doc="rolling boots",
)


def validate(value: Any, path: str = "boot") -> list[ConfigError]:
    errors = check(value, RULE, path)
    if errors:
        return errors
    if "limit" in value:
        match = LIMIT.match(str(value["limit"]).strip())
        if isinstance(value["limit"], bool) or not match or (match[2] and int(match[1]) > 100):
            errors.append(
                stricter(
                    join(path, "limit"),
                    f"invalid limit '{value['limit']}', use a positive number or a percentage"
                    " like 25%",
                )
            )
    if "wait" in value and value["wait"] < 0:
        errors.append(stricter(join(path, "wait"), "must not be negative"))
    return errors
