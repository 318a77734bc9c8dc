"""From config texts to one validated config: ERB, YAML, destination merge, validation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from backstaff.schemas import erb, root
from backstaff.schemas.errors import ConfigError, ConfigErrors
from backstaff.schemas.merge import deep_merge


@dataclass(frozen=True)
class ConfigSources:
    """What the I/O layer read: file names (for messages) and their texts."""

    base_name: str
    base_text: str
    destination: str | None = None
    destination_name: str | None = None
    destination_text: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadedConfig:
    """A merged, validated deploy.yml (``x-`` extensions removed) and its destination."""

    data: dict[str, Any]
    destination: str | None


def load_config(sources: ConfigSources) -> LoadedConfig:
    """Parse, merge and validate; raises ``ConfigErrors`` listing every problem."""
    env = dict(sources.env)
    if sources.destination:
        env["KAMAL_DESTINATION"] = sources.destination
    data = parse_yaml(erb.render(sources.base_text, env, sources.base_name), sources.base_name)
    if sources.destination_text is not None:
        name = sources.destination_name or f"deploy.{sources.destination}.yml"
        overlay = parse_yaml(erb.render(sources.destination_text, env, name), name)
        data = deep_merge(data, overlay)
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    errors = root.validate(data)
    if errors:
        raise ConfigErrors(errors)
    if data.get("require_destination") and not sources.destination:
        raise ConfigErrors.one("You must specify a destination")
    _check_minimum_version(data.get("minimum_version"))
    return LoadedConfig(data=data, destination=sources.destination)


def parse_yaml(text: str, source: str) -> dict[str, Any]:
    """YAML with anchors, aliases and merge keys; syntax errors name file, line and column."""
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(p for p in (exc.problem, exc.context) if p) or "invalid YAML"
        raise ConfigErrors.one(
            f"YAML syntax error at {where}{_one_line(problem)}", source
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigErrors.one(f"YAML error: {_one_line(str(exc))}", source) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigErrors.one("should be a hash of settings", source)
    return {str(k): v for k, v in data.items()}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _version_tuple(version: str) -> tuple[int, ...] | None:
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        return None
    return tuple(int(p) for p in version.split("."))


def _check_minimum_version(minimum: Any) -> None:
    if minimum is None:
        return
    wanted = _version_tuple(str(minimum))
    if wanted is None:
        raise ConfigErrors([ConfigError("minimum_version", f"invalid version '{minimum}'")])
    if wanted > _version_tuple(root.KAMAL_VERSION):  # type: ignore[operator]
        raise ConfigErrors.one(
            f"Current version is {root.KAMAL_VERSION}, minimum required is {minimum}"
        )
