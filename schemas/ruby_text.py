"""Ruby's ``String#strip`` and argument-less ``#chomp``, as Kamal's Ruby reads text: for the ERB
evaluator and for dotenv's files. And ``to_s``/``inspect`` of what YAML loads, as Kamal's Ruby
(3.3) writes a config value into a command: a docker option given a list or a hash."""

from __future__ import annotations

import datetime
import functools
import math
import re
import unicodedata
from decimal import Decimal
from typing import Any

from backstaff.schemas.psych_yaml import RubySymbol

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
    """``to_s`` of a value Psych loaded (``schemas/psych_yaml.py``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, (list, dict)):
        return inspect(value)
    if isinstance(value, datetime.datetime):
        return _time(value, "")
    return str(value)  # str, a Symbol's name, int, and a date as Date#to_s writes it (2024-01-02)


def inspect(value: Any) -> str:
    """``inspect``: how Ruby 3.3 shows a value inside a list or a hash."""
    if value is None:
        return "nil"
    if isinstance(value, RubySymbol):
        return _symbol(value)
    if isinstance(value, str):
        return inspect_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(inspect(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{inspect(k)}=>{inspect(v)}" for k, v in value.items()) + "}"
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        # Ruby's Date object: its Julian day number, and Italy's calendar reform (the default)
        return f"#<Date: {value} (({value.toordinal() + 1_721_425}j,0s,0n),+0s,2299161j)>"
    if isinstance(value, datetime.datetime):
        fraction = f".{value.microsecond:06d}".rstrip("0") if value.microsecond else ""
        return _time(value, fraction)
    return to_s(value)


def _time(value: datetime.datetime, fraction: str) -> str:
    """Time#to_s (no fraction) and #inspect: ``UTC`` for a UTC time, else the offset."""
    zone = "UTC" if value.tzname() == "UTC" else value.strftime("%z")
    return f"{value:%Y-%m-%d %H:%M:%S}{fraction} {zone}"


_OPERATORS = frozenset(
    "+ - * / % ** == === =~ ! != !~ < <= > >= <=> << >> & | ^ ~ +@ -@ [] []= `".split()
)


@functools.cache
def _plain_symbol() -> re.Pattern[str]:
    """Compiled when a Symbol is first shown: its classes up to U+10FFFF take about 5 ms to
    compile, which every command paid at start-up for a value few configs hold."""
    return re.compile(r"(?:[@]{0,2}|\$)[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*")


def _symbol(name: str) -> str:
    """Symbol#inspect: ``:name`` for an identifier (``foo``, ``Foo?``, ``foo=``, ``@x``,
    ``$x``) or an operator, else the name quoted as a String (``:"a b"``)."""
    body = name[:-1] if name[-1:] in ("?", "!", "=") and name[:1] not in ("@", "$") else name
    if name in _OPERATORS or (_plain_symbol().fullmatch(body) and name.isprintable()):
        return ":" + name
    return ":" + inspect_string(name)


def _float(value: float) -> str:
    """Float#to_s: the shortest digits that read back (as repr), fixed from 0.0001 up to 1e15,
    and up to 1e16 with a fraction (``1000000000000000.5``), else ``1.0e+15``, ``1.0e-05``;
    ``Infinity``, ``NaN``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + exponent  # the value is 0.DIGITS times 10 to this power
    # Ruby's flo_to_s: fixed while the point falls inside the digits (a fraction), or up to
    # DBL_DIG (15) places, or from 0.0001 on; else the exponent
    if value == 0 or -4 < point < 16 or 0 < point < len(shown):
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
