"""From config texts to one validated config: ERB, YAML, destination merge, validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from backstaff.schemas import erb, root
from backstaff.schemas.erb_ruby import NO_IO, ErbHost, RubyState
from backstaff.schemas.errors import ConfigErrors
from backstaff.schemas.merge import deep_merge
from backstaff.schemas.values import value_errors


@dataclass(frozen=True)
class ConfigSources:
    """What the I/O layer read: file names (for messages) and their texts, the environment,
    and the host ERB runs commands, reads files and calls Ruby through (none by default)."""

    base_name: str
    base_text: str
    destination: str | None = None
    destination_name: str | None = None
    destination_text: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    erb_host: ErbHost = NO_IO


@dataclass(frozen=True)
class LoadedConfig:
    """A merged, validated deploy.yml (``x-`` extensions removed) and its destination;
    ``env`` is ENV after the ERB ran (``Dotenv.load`` may have added to it)."""

    data: dict[str, Any]
    destination: str | None
    env: Mapping[str, str] = field(default_factory=dict)


def load_config(sources: ConfigSources) -> LoadedConfig:
    """Parse, merge and validate; raises ``ConfigErrors`` listing every problem."""
    # Kamal sets ENV["KAMAL_DESTINATION"] = destination (nil unsets it), then renders the
    # base file and the destination file in the same process: ENV changes carry over.
    state = RubyState(dict(sources.env))
    state.env.pop("KAMAL_DESTINATION", None)
    if sources.destination:
        state.env["KAMAL_DESTINATION"] = sources.destination
    host = sources.erb_host
    base = erb.render_file(sources.base_text, sources.base_name, state, host)
    data = parse_yaml(base, sources.base_name)
    if sources.destination_text is not None:
        name = sources.destination_name or f"deploy.{sources.destination}.yml"
        overlay = parse_yaml(erb.render_file(sources.destination_text, name, state, host), name)
        data = deep_merge(data, overlay)
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    errors = root.validate(data, sources.destination) or value_errors(data)
    if errors:
        raise ConfigErrors(errors)
    return LoadedConfig(data=data, destination=sources.destination, env=dict(state.env))


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
