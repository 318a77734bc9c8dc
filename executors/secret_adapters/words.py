"""Ruby's string helpers as Kamal's ``secrets`` commands use them, ported exactly.

``shellescape`` and ``shellsplit`` are Ruby's ``Shellwords``; ``dump_json`` is ``JSON.dump``;
``ruby_split`` is ``String#split`` with a string separator (trailing empty fields dropped).
"""

from __future__ import annotations

import json
import re
from typing import Any

_UNSAFE = re.compile(r"([^A-Za-z0-9_\-.,:+/@\n])")
_WS = "[ \\t\\r\\n\\f\\v]"
_SHELLWORD = re.compile(
    rf"""{_WS}*(?:([^ \t\r\n\f\v\\'"]+)|'([^']*)'|"((?:[^"\\]|\\.)*)"|(\\.?)|(\S))({_WS}|\Z)?""",
    re.S,
)


def shellescape(text: str) -> str:
    """Ruby's ``String#shellescape``: one shell word, backslash before every unsafe character,
    a line break as ``'\\n'``, the empty string as ``''``."""
    if not text:
        return "''"
    return _UNSAFE.sub(r"\\\1", text).replace("\n", "'\n'")


def shellsplit(line: str) -> list[str]:
    """Ruby's ``String#shellsplit`` (no expansion of any kind); ValueError on an unmatched quote."""
    words: list[str] = []
    field, pos = "", 0
    while (match := _SHELLWORD.match(line, pos)) is not None and match.end() > pos:
        word, single, double, escaped, garbage, separator = match.groups()
        if garbage is not None:
            raise ValueError(f"Unmatched quote: {json.dumps(line, ensure_ascii=False)}")
        if word is not None:
            field += word
        elif single is not None:
            field += single
        elif double is not None:
            field += re.sub(r'\\([$`"\\\n])', r"\1", double)
        else:
            field += re.sub(r"\\(.)", r"\1", escaped, flags=re.S)
        if separator is not None:
            words.append(field)
            field = ""
        pos = match.end()
    return words


def dump_json(value: Any) -> str:
    """Ruby's ``JSON.dump``: compact, non-ASCII as is, control characters escaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def ruby_split(text: str, separator: str) -> list[str]:
    """Ruby's ``String#split(separator)``: trailing empty fields are dropped."""
    parts = text.split(separator)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def ruby_inspect(values: list[str]) -> str:
    """An array of strings as Ruby's ``inspect`` shows it in an error message."""
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def blank(value: object) -> bool:
    """ActiveSupport's ``blank?`` for what a vendor CLI returns: None, or only whitespace."""
    return value is None or (isinstance(value, str) and not value.strip()) or value == []
