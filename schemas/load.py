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
from backstaff.schemas.psych_yaml import PsychLoader
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
    notes: tuple[str, ...] = ()  # for the user: what was read differently than it may look


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
    data, notes = parse_yaml(base, sources.base_name)
    if sources.destination_text is not None:
        name = sources.destination_name or f"deploy.{sources.destination}.yml"
        rendered = erb.render_file(sources.destination_text, name, state, host)
        overlay, more = parse_yaml(rendered, name)
        data, notes = deep_merge(data, overlay), notes + more
    data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    errors = root.validate(data, sources.destination) or value_errors(data)
    if errors:
        raise ConfigErrors(errors, notes)  # a note may be why: `port: 53:53` is 193980
    return LoadedConfig(data, sources.destination, dict(state.env), notes)


def parse_yaml(text: str, source: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """YAML as Psych reads it (``schemas/psych_yaml.py``: its types for unquoted values, its
    merge keys); syntax errors name file, line and column. A note names each number written
    with a colon or a comma (``05:30`` is 19800 for Kamal).

    Only the first document of the file is read, as Kamal's ``YAML.unsafe_load`` reads it (a
    ``...`` or ``---`` line ends it, and nothing after it is even parsed); a note says where
    what is left out starts."""
    try:
        data, ignored_from, surprises = _first_document(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(p for p in (exc.problem, exc.context) if p) or "invalid YAML"
        kind = "error" if isinstance(exc, yaml.constructor.ConstructorError) else "syntax error"
        raise ConfigErrors.one(f"YAML {kind} at {where}{_one_line(problem)}", source) from None
    except yaml.YAMLError as exc:
        raise ConfigErrors.one(f"YAML error: {_one_line(str(exc))}", source) from None
    if data is None:  # no document, or only comments: Kamal 2.11 stops (NoMethodError)
        raise ConfigErrors.one(
            "has no settings: Kamal 2.11 stops on an empty file (write {} in a destination"
            " file that changes nothing)",
            source,
        )
    if not isinstance(data, dict):
        raise ConfigErrors.one("should be a hash of settings", source)
    notes = tuple(f"{source}: {surprise}" for surprise in surprises)
    if ignored_from is not None:
        notes += (
            f"{source}: only the first YAML document is read, as Kamal reads it: line"
            f" {ignored_from} and every line after it are ignored",
        )
    return {str(k): v for k, v in data.items()}, notes


def _first_document(text: str) -> tuple[Any, int | None, list[str]]:
    """The first document's data, the line where something other than a comment or a
    document marker follows it (None when nothing does), and the loader's surprises."""
    loader = PsychLoader(text)
    try:
        loader.get_event()  # the stream's start
        if loader.check_event(yaml.StreamEndEvent):
            return None, None, []
        loader.get_event()  # the document's start
        node = loader.compose_node(None, None)  # type: ignore[arg-type]  # as compose_document
        end = loader.get_event()  # the document's end: after "...", or where "---" starts
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    start = end.end_mark.line
    for number, line in enumerate(text[end.end_mark.index :].splitlines(), start + 1):
        words = line.split("#", 1)[0].split()  # a comment is no content
        if words and words != ["---"] and words != ["..."]:
            return data, number, loader.surprises
    return data, None, loader.surprises


def _one_line(text: str) -> str:
    return " ".join(text.split())
