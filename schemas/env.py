"""``env``: a flat hash of clear values, or ``clear`` / ``secret`` / ``tags`` (tags at the root only)."""

from __future__ import annotations

from typing import Any

from backstaff.schemas.errors import ConfigError, join
from backstaff.schemas.validator import array, check, free_hash, nested, section, text

_STRUCTURED_KEYS = ("clear", "secret", "tags")

FLAT = free_hash(text(), doc="NAME: value pairs passed as clear --env values")

STRUCTURED = section(
    {
        "clear": free_hash(text(), doc="values passed on the docker command line"),
        "secret": array(text(), doc="NAME or NAME:SECRET_KEY, looked up in .kamal/secrets"),
        "tags": nested(["hash"], doc="per host tag: an env (flat or clear/secret) merged in"),
    },
    doc="clear values, secret names and (root only) per-tag env",
)

RULE = nested(["hash"], doc="environment variables for the containers (see `docs env`)")


def validate(value: Any, path: str, *, allow_tags: bool) -> list[ConfigError]:
    """Errors in an env block; ``allow_tags`` is true only for the root env."""
    errors = check(value, RULE, path)
    if errors:
        return errors
    if not any(key in value for key in _STRUCTURED_KEYS):
        return check(value, FLAT, path)
    if "tags" in value and not allow_tags:
        return [ConfigError(path, "tags are only allowed in the root env")]
    errors = check(value, STRUCTURED, path)
    if not errors:
        for tag, tag_env in (value.get("tags") or {}).items():
            errors += validate(tag_env, join(path, "tags", tag), allow_tags=False)
    if not errors:
        errors += _check_secret_names(value.get("secret") or [], join(path, "secret"))
    return errors


def _check_secret_names(names: list[Any], path: str) -> list[ConfigError]:
    errors = []
    for index, entry in enumerate(names):
        name, _, key = str(entry).partition(":")
        if not name or (":" in str(entry) and not key):
            errors.append(ConfigError(join(path, index), f"invalid secret reference '{entry}'"))
    return errors
