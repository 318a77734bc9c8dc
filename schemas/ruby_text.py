"""Ruby's ``String#strip`` and argument-less ``#chomp``, as Kamal's Ruby reads text: for the ERB
evaluator and for dotenv's files. And ``to_s``/``inspect`` of what YAML loads, as Kamal's Ruby
(3.3) writes a config value into a command: a docker option given a list or a hash."""

from __future__ import annotations

import datetime
import math
import unicodedata
from decimal import Decimal
from typing import Any

BLANKS = "\0 \t\n\v\f\r"  # what Ruby's strip removes


def strip(text: str, left: bool = True, right: bool = True) -> str:
    if left:
        text = text.lstrip(BLANKS)
    if right:
        text = text.rstrip(BLANKS)
    return text


def chomp(text: str) -> str:
    """One trailing line break off (``\\r\\n``, ``\\n`` or ``\\r``), as a command's output is read."""
    for ending in ("\r\n", "\n", "\r"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def to_s(value: Any) -> str:
    """``to_s`` of a value YAML loaded (Psych and PyYAML read the same YAML 1.1 types)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, (list, dict)):
        return inspect(value)
    return str(value)  # str, int, and a date as Date#to_s writes it (2024-01-02)


def inspect(value: Any) -> str:
    """``inspect``: how Ruby 3.3 shows a value inside a list or a hash."""
    if value is None:
        return "nil"
    if isinstance(value, str):
        return inspect_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(inspect(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{inspect(k)}=>{inspect(v)}" for k, v in value.items()) + "}"
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        # Ruby's Date object: its Julian day number, and Italy's calendar reform (the default)
        return f"#<Date: {value} (({value.toordinal() + 1_721_425}j,0s,0n),+0s,2299161j)>"
    return to_s(value)


def _float(value: float) -> str:
    """Float#to_s: the shortest digits that read back (as repr), fixed from 0.0001 up to 1e15,
    else ``1.0e+15``, ``1.0e-05``; ``Infinity``, ``NaN``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + exponent  # the value is 0.DIGITS times 10 to this power
    if value == 0 or -4 < point < 16:
        return repr(value)
    power = point - 1
    mantissa = shown[0] + "." + (shown[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}e{'+' if power >= 0 else '-'}{abs(power):02d}"


_INSPECT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                    "\f": "\\f", "\v": "\\v", "\b": "\\b", "\a": "\\a", "\x1b": "\\e"}  # fmt: skip
_RUBY_KEEPS = ("Zs", "Cf", "Co")  # no-break spaces, format characters, private use


def inspect_string(text: str) -> str:
    """``String#inspect`` of UTF-8 text: escapes as Ruby writes them; a character beyond ASCII
    is kept unless Ruby escapes it (a C1 control but NEL, a line or paragraph separator, a
    surrogate, an unassigned code point)."""
    out = []
    for index, char in enumerate(text):
        code = ord(char)
        if char in _INSPECT_ESCAPES:
            out.append(_INSPECT_ESCAPES[char])
        elif char == "#" and text[index + 1 : index + 2] in ("{", "$", "@"):
            out.append("\\#")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif code < 0x80 or char.isprintable() or char == "\x85":
            out.append(char)
        elif unicodedata.category(char) in _RUBY_KEEPS:
            out.append(char)
        else:
            out.append(f"\\u{code:04X}" if code <= 0xFFFF else f"\\u{{{code:X}}}")
    return '"' + "".join(out) + '"'
