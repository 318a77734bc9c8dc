"""A minimal valid config and a helper returning the error lines for a variation of it."""

from __future__ import annotations

from typing import Any

import yaml

from backstaff.schemas import ConfigErrors, ConfigSources, load_config
from backstaff.schemas.merge import deep_merge

BASE: dict[str, Any] = {
    "service": "app",
    "image": "acme/app",
    "registry": {"username": "u", "password": ["KAMAL_REGISTRY_PASSWORD"]},
    "builder": {"arch": "amd64"},
    "servers": ["1.1.1.1"],
}


def errors_for(extra: dict[str, Any] | str, *, base: dict[str, Any] | None = None) -> list[str]:
    """Error lines for ``base`` merged with ``extra`` (a dict, or YAML text)."""
    overlay = yaml.safe_load(extra) if isinstance(extra, str) else extra
    document = deep_merge(BASE if base is None else base, overlay or {})
    try:
        load_config(ConfigSources("config/deploy.yml", yaml.safe_dump(document, sort_keys=False)))
    except ConfigErrors as exc:
        return [str(e) for e in exc.errors]
    return []
