"""dotenv 3.2.0, as Kamal 2.11 uses it: its line format and its substitutions, for secrets files
(``Dotenv.parse``) and for ``Dotenv.load`` in deploy.yml's ERB. Pure: a ``$NAME``'s value and a
command's output come from the caller.

What differs from dotenv, on purpose: a command's output is never read for ``$NAME``s (dotenv
runs its ``$NAME`` expansion over the value with the outputs in it, so a fetched password
``pa$word`` reads as ``pa``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from backstaff.schemas import ruby_text
from backstaff.schemas.errors import ConfigError, ConfigErrors

# dotenv's line, found anywhere in the text: a quoted value may span lines; a bare ``NAME`` is
# empty; what matches no line is skipped, as dotenv skips it.
_LINE = re.compile(
    r"""(?:^|\A)\s*(?P<export>export\s+)?(?P<key>[\w.]+)
    (?:(?:\s*=\s*?|:\s+?)(?P<value>\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|[^\#\n]+)?)?
    \s*(?:\#.*)?(?:$|\Z)""",
    re.MULTILINE | re.VERBOSE | re.ASCII,
)
# dotenv's variable: ``$NAME``, ``${NAME}``, either brace alone too (``${NAME`` is ``$NAME``);
# a ``$`` naming nothing stays as it is.
_VAR = re.compile(r"\$(?!\()\{?(?P<name>[A-Za-z0-9_]+)?\}?")

Lookup = Callable[[str], str]  # a $NAME's value
Run = Callable[[str, str, list[str]], str]  # (command, as written, values put in) -> output


@dataclass(frozen=True)
class Entry:
    """A ``KEY=value`` line of a dotenv file, before its substitutions."""

    key: str
    line: int
    raw: str  # unescaped as dotenv unescapes it, before substitutions
    literal: bool  # single-quoted: no substitution


def parse(text: str, source: str, legacy_line_breaks: bool = False) -> list[Entry]:
    """The entries of a dotenv file, in order; ``export NAME`` of a name not above is
    dotenv's error. ``legacy_line_breaks``: ``DOTENV_LINEBREAK_MODE=legacy`` in the
    environment."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    entries: list[Entry] = []
    errors: list[ConfigError] = []
    for match in _LINE.finditer(text):
        if match["export"] and match["value"] is None:
            if match["key"] not in {entry.key for entry in entries}:
                errors.append(
                    ConfigError(source, f'Line "{match[0].strip()}" has an unset variable')
                )
            continue
        value = ruby_text.strip(match["value"] or "")
        quoted = re.fullmatch(r"(['\"])(.*)\1", value, re.DOTALL)
        if quoted and quoted[1] == "'":
            raw, literal = quoted[2], True
        elif quoted:
            legacy = legacy_line_breaks or _legacy(entries)
            raw, literal = _unescape(_line_breaks(quoted[2], legacy)), False
        else:
            raw, literal = _unescape(value), False
        line = text.count("\n", 0, match.start("key")) + 1
        entries.append(Entry(match["key"], line, raw, literal))
    if errors:
        raise ConfigErrors(errors)
    return entries


def substitute(raw: str, lookup: Lookup, run: Run) -> str:
    """dotenv's substitutions with Kamal's command pattern: the ``$(command)``s first (each
    with its ``$NAME``s expanded; ``\\$(…)`` stays, without its backslash), then the
    ``$NAME``s, except in a command's output."""
    out: list[str] = []
    kept, i, plain = "", 0, 0  # kept: text not yet expanded, up to the next output
    while i < len(raw):
        escaped = raw.startswith("\\$(", i)
        start = i + 1 if escaped else i
        end = _command_end(raw, start + 1) if raw.startswith("$(", start) else -1
        if end < 0:
            i += 1
            continue
        kept += raw[plain:i]
        if escaped:
            kept += raw[start : end + 1]
        else:
            written = raw[start + 2 : end]
            used: list[str] = []
            output = run(variables(written, lookup, used), written, used)
            out += [variables(kept, lookup), output]
            kept = ""
        i = plain = end + 1
    out.append(variables(kept + raw[plain:], lookup))
    return "".join(out)


def variables(text: str, lookup: Lookup, used: list[str] | None = None) -> str:
    """dotenv's ``$NAME`` expansion (``\\$NAME`` is ``$NAME``, kept); the values put in are
    added to ``used``."""
    out: list[str] = []
    i = 0
    while i < len(text):
        escaped = text.startswith("\\$", i)
        match = _VAR.match(text, i + 1 if escaped else i)
        if match is None:
            out.append(text[i])
            i += 1
            continue
        if escaped or not match["name"]:
            out.append(match[0])
        else:
            value = lookup(match["name"])
            if used is not None:
                used.append(value)
            out.append(value)
        i = match.end()
    return "".join(out)


def _legacy(entries: list[Entry]) -> bool:
    """``DOTENV_LINEBREAK_MODE=legacy`` above: ``\\n`` in double quotes is a line break."""
    modes = [e.raw for e in entries if e.key == "DOTENV_LINEBREAK_MODE"]
    return bool(modes) and modes[-1] == "legacy"


def _line_breaks(text: str, legacy: bool) -> str:
    """dotenv's ``expand_newlines``: ``\\n`` and ``\\r`` in double quotes are line breaks in
    legacy mode; otherwise they stay a backslash and a letter (after the unescaping)."""
    if legacy:
        return text.replace("\\n", "\n").replace("\\r", "\r")
    return text.replace("\\n", "\\\\n").replace("\\r", "\\\\r")


def _unescape(text: str) -> str:
    """dotenv's ``unescape_characters``: ``\\X`` is ``X``, except ``\\$``."""
    return re.sub(r"\\([^$])", r"\1", text)


def _command_end(text: str, start: int) -> int:
    """Where the ``$(`` command whose ``(`` is at ``start`` closes, or -1: Kamal's pattern, a
    balanced run of escaped characters (``\\X``, not a line break), other characters and
    nested parentheses, each pair holding at least one of them."""
    filled: list[bool] = []  # per open parenthesis: holds something yet
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\" and (i + 1 >= len(text) or text[i + 1] == "\n"):
            return -1
        if char == "(":
            if filled:
                filled[-1] = True
            filled.append(False)
        elif char == ")":
            if not filled or not filled.pop():
                return -1
            if not filled:
                return i
        elif filled:
            filled[-1] = True
        i += 2 if char == "\\" else 1
    return -1
