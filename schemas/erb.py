"""The ERB that real Kamal configs use, and nothing more.

Kamal renders deploy.yml as ERB (Ruby) before parsing YAML. backstaff evaluates the common,
side-effect-free forms: ``<%= ENV["X"] %>``, ``<%= ENV.fetch("X") %>`` and
``<%= ENV.fetch("X", "default") %>`` (plus ``<%# comments %>``). Anything else is an error
naming the file and line, never text silently left in the config.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from backstaff.schemas.errors import ConfigError, ConfigErrors

_TAG = re.compile(r"<%(?P<kind>[=#-]?)(?P<body>.*?)(?P<trim>-?)%>(?P<newline>\n?)", re.DOTALL)
_STRING = r"""(?:"(?P<{0}d>[^"\\]*)"|'(?P<{0}s>[^'\\]*)')"""
_ENV_INDEX = re.compile(r"^ENV\[\s*" + _STRING.format("name") + r"\s*\]$")
_ENV_FETCH = re.compile(
    r"^ENV\.fetch\(\s*"
    + _STRING.format("name")
    + r"\s*(?:,\s*"
    + _STRING.format("default")
    + r"\s*)?\)$"
)
SUPPORTED = 'ENV["X"], ENV.fetch("X") and ENV.fetch("X", "default")'


def render(text: str, env: Mapping[str, str], source: str) -> str:
    """Expand the supported ERB tags in ``text``; ``source`` names the file in errors."""
    errors: list[ConfigError] = []

    def expand(match: re.Match[str]) -> str:
        kind, body = match["kind"], match["body"].strip()
        line = text.count("\n", 0, match.start()) + 1
        newline = "" if match["trim"] else match["newline"]
        if kind == "#":
            return newline
        if kind != "=":
            errors.append(_unsupported(source, line, match.group(0)))
            return ""
        value = _evaluate(body, env)
        if isinstance(value, ConfigError):
            errors.append(ConfigError(source, f"line {line}: {value.message}"))
            return ""
        if value is None:
            errors.append(_unsupported(source, line, match.group(0)))
            return ""
        return value + newline

    rendered = _TAG.sub(expand, text)
    if errors:
        raise ConfigErrors(errors)
    return rendered


def _evaluate(body: str, env: Mapping[str, str]) -> str | ConfigError | None:
    index = _ENV_INDEX.match(body)
    if index:
        return env.get(_group(index, "name") or "", "")
    fetch = _ENV_FETCH.match(body)
    if fetch:
        name = _group(fetch, "name") or ""
        default = _group(fetch, "default")
        if name in env:
            return env[name]
        if default is not None:
            return default
        return ConfigError("", f"{body}: environment variable {name} is not set")
    return None


def _group(match: re.Match[str], prefix: str) -> str | None:
    value = match[prefix + "d"]
    return value if value is not None else match[prefix + "s"]


def _unsupported(source: str, line: int, tag: str) -> ConfigError:
    snippet = tag.strip()
    if len(snippet) > 60:
        snippet = snippet[:57] + "..."
    return ConfigError(
        source, f"line {line}: unsupported ERB {snippet} (backstaff evaluates only {SUPPORTED})"
    )
