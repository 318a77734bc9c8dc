"""YAML read as Kamal reads deploy.yml: Psych's ``YAML.unsafe_load`` (Ruby 3.3, Psych 5).

PyYAML and Psych parse the same YAML 1.1 syntax, but they give an unquoted (plain) scalar
different types, and a merge key ``<<`` a different meaning. Read with PyYAML's own rules,
``TIMEOUT: 1:30`` was 90 where Kamal has 5400, ``PORTS: 80,443`` stayed text where Kamal has
the number 80443, ``:web`` kept its colon, and ``DAY: 2024-02-30`` stopped the load with
Python's "day is out of range" where Kamal reads text. Here a plain scalar's type is
``Psych::ScalarScanner#tokenize``'s (strict integers off, as ``unsafe_load`` calls it), and a
merge key merges in place, as Psych's ``Hash#merge!`` does. Quoted and block scalars stay text.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import yaml

MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAG = "tag:backstaff,2026:psych-plain"


class RubySymbol(str):
    """A plain ``:name`` scalar, which Psych makes a Ruby Symbol. Its text is the name: Kamal
    writes a Symbol into a command or a file with ``to_s``, which has no colon. Only ``inspect``
    (a Symbol inside a list or a hash given as a docker option) shows the colon."""


class PsychValueError(ValueError):
    """A plain scalar Psych reads as a number but Ruby's ``Integer()``/``Float()`` refuses:
    Kamal stops with this ArgumentError too."""


_ALPHA = r"[^\W\d_]"  # Ruby's [[:alpha:]]
_LOOKS_LIKE_TEXT = re.compile(
    rf"^[^\d.:-]?(?:{_ALPHA}|[_ \t\r\n\f\v!@#$%^&*(){{}}<>|/\\~;=])+", re.MULTILINE
)
_TIME = re.compile(
    r"^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|[ \t\r\n\f\v]+)\d{1,2}:\d\d:\d\d(?:\.\d*)?"
    r"(?:[ \t\r\n\f\v]*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$",
    re.MULTILINE | re.ASCII,
)
_DATE = re.compile(r"^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$", re.MULTILINE | re.ASCII)
_FLOAT = re.compile(r"^(?:[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?)$", re.MULTILINE)
_INTEGER = re.compile(
    r"^(?:[-+]?0b[0-1_,]+|[-+]?0[0-7_,]+|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)"
    r"|[-+]?0x[0-9a-fA-F_,]+)$",
    re.MULTILINE,
)
_BASE_60_INTEGER = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$", re.MULTILINE)
_BASE_60_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}\.[0-9_]*$", re.MULTILINE)
_QUOTED_SYMBOL = re.compile(r"^:([\"'])(.*)\1", re.MULTILINE)


def tokenize(text: str) -> Any:
    """``Psych::ScalarScanner#tokenize``: the Ruby value of a plain scalar, as Python's."""
    if not text:
        return None
    if _LOOKS_LIKE_TEXT.search(text) or "\n" in text:
        if len(text) > 5 or re.search(r"^[^ytonf~]", text, re.MULTILINE | re.IGNORECASE):
            return text
        if text == "~" or re.search(r"^null$", text, re.MULTILINE | re.IGNORECASE):
            return None
        if re.search(r"^(yes|true|on)$", text, re.MULTILINE | re.IGNORECASE):
            return True
        if re.search(r"^(no|false|off)$", text, re.MULTILINE | re.IGNORECASE):
            return False
        return text
    if _TIME.search(text):
        return _time(text)
    if _DATE.search(text):
        year, month, day = (int(part) for part in text.split("-"))
        try:
            return datetime.date(year, month, day)
        except ValueError:
            return text  # Date.strptime refuses it: Psych keeps the text
    if re.search(r"^\+?\.inf$", text, re.MULTILINE | re.IGNORECASE):
        return float("inf")
    if re.search(r"^-\.inf$", text, re.MULTILINE | re.IGNORECASE):
        return float("-inf")
    if re.search(r"^\.nan$", text, re.MULTILINE | re.IGNORECASE):
        return float("nan")
    if re.search(r"^:.", text, re.MULTILINE):
        quoted = _QUOTED_SYMBOL.search(text)
        name = quoted.group(2) if quoted else text
        return RubySymbol(name[1:] if name.startswith(":") else name)
    if _BASE_60_INTEGER.search(text):
        return _base_60(text, _to_i)
    if _BASE_60_FLOAT.search(text):
        return _base_60(text, _to_f)
    if _FLOAT.search(text):
        if re.fullmatch(r"[-+]?\.", text):
            return text
        number = re.sub(r"\.([Ee]|$)", r"\1", text.replace(",", "").replace("_", ""))
        return _ruby_float(number)
    if _INTEGER.search(text):
        return _ruby_integer(text.replace(",", "").replace("_", ""))
    return text


def _base_60(text: str, number: Any) -> Any:
    """Psych's base 60, as it computes it: the first part counts 60 ** 2, the second 60, the
    third 1 (``1:30`` is 5400, ``1:30:00`` also 5400), each part read by ``to_i``/``to_f``."""
    total: Any = 0
    for index, part in enumerate(text.split(":")):
        total += number(part) * 60 ** abs(index - 2)
    return total


def _to_i(text: str) -> int:
    """``String#to_i``: the leading decimal number, underscores between digits."""
    found = re.match(r"[-+]?[0-9]+(?:_[0-9]+)*", text)
    return int(found.group().replace("_", "")) if found else 0


def _to_f(text: str) -> float:
    """``String#to_f``: the leading decimal number, underscores between digits."""
    found = re.match(r"[-+]?[0-9]+(?:_[0-9]+)*(?:\.[0-9]+(?:_[0-9]+)*)?", text)
    return float(found.group().replace("_", "")) if found else 0.0


def _ruby_integer(text: str) -> int:
    """``Integer()`` of what Psych's integer pattern let through (commas, underscores gone)."""
    sign, digits = (text[0], text[1:]) if text[:1] in "+-" else ("", text)
    base = 10
    if digits[:2] in ("0b", "0x"):
        base, digits = (2 if digits[1] == "b" else 16), digits[2:]
    elif digits.startswith("0") and len(digits) > 1:
        base = 8
    if not digits:
        raise PsychValueError(f'invalid value for Integer(): "{text}"')
    return int(sign + digits, base)


def _ruby_float(text: str) -> float:
    """``Float()`` of what Psych's float pattern let through: digits, one point, an exponent."""
    if not re.fullmatch(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+][0-9]+)?", text):
        raise PsychValueError(f'invalid value for Float(): "{text}"')
    return float(text)


def _time(text: str) -> datetime.datetime | str:
    """``ScalarScanner#parse_time``: UTC with ``Z``, the given offset, else this machine's zone
    (Ruby's ``Time.at``). A day past the month's end rolls over (2024-02-30 is March 1st), as
    Ruby's ``Time.utc`` rolls it; what ``Time.utc`` refuses stays text."""
    pieces = re.split(r"[ tT]", text, maxsplit=1)
    if len(pieces) < 2:  # a tab between date and time: Psych calls match on nil
        raise PsychValueError(f"undefined method `match' for nil (the time {text!r})")
    date, clock = pieces
    year, month, day = (int(part) for part in date.lstrip("-").split("-")[:3])
    year = -year if date.startswith("-") else year
    parts = re.search(r"(\d+:\d+:\d+)(?:\.(\d*))?\s*(Z|[-+]\d+(:\d\d)?)?", clock, re.ASCII)
    if parts is None:
        return text
    hour, minute, second = (int(part) for part in parts.group(1).split(":"))
    micro = int((parts.group(2) or "").ljust(6, "0")[:6])
    valid = 1 <= month <= 12 and 1 <= day <= 31 and minute <= 59 and second <= 60
    if not valid or hour > 24 or (hour == 24 and (minute or second or micro)):
        return text
    try:
        return _clock(year, month, day, (hour, minute, second, micro), parts.group(3))
    except (ValueError, OverflowError):  # a year before 1 or after 9999 (Ruby has them)
        return text


def _clock(year: int, month: int, day: int, time: tuple[int, int, int, int],
           zone: str | None) -> datetime.datetime:  # fmt: skip
    hour, minute, second, micro = time
    first = datetime.datetime(year, month, 1, tzinfo=datetime.UTC)
    utc = first + datetime.timedelta(days=day - 1, hours=hour, minutes=minute, seconds=second,
                                     microseconds=micro)  # fmt: skip
    if zone == "Z":
        return utc
    if zone is None:
        local = utc.astimezone()
        offset = local.utcoffset() or datetime.timedelta(0)
        return local.replace(tzinfo=datetime.timezone(offset, _offset_name(offset)))
    hours_text, minutes_text = re.fullmatch(r"([+\-]?\d{1,2}):?(\d{1,2})?", zone).groups()  # type: ignore[union-attr]
    seconds = int(hours_text) * 3600  # "-00:30" is +00:30 in Psych: the sign is the hours'
    seconds += -int(minutes_text or 0) * 60 if seconds < 0 else int(minutes_text or 0) * 60
    offset = datetime.timedelta(seconds=seconds)  # beyond a day: timezone() refuses it
    wall = utc.replace(tzinfo=None)  # the clock time as written, in that zone
    return wall.replace(tzinfo=datetime.timezone(offset, _offset_name(offset)))


def _offset_name(offset: datetime.timedelta) -> str:
    """Ruby's ``%z`` (``+0530``): the zone's name, so that a zero offset is not "UTC"."""
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


class PsychLoader(yaml.SafeLoader):
    """PyYAML's parser with Psych's types for plain scalars and its merge keys. ``surprises``
    lists the numbers written with a colon or a comma (``05:30``, ``80,443``): Kamal reads
    them as numbers, which is rarely what was meant."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.surprises: list[str] = []

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and value == "<<" and (implicit[0] or implicit[1]):
            return MERGE_TAG  # quoted too: Psych merges any "<<" key not tagged !!str
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN_TAG
        return super().resolve(kind, value, implicit)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        """As Psych's ``revive_hash``: the pairs in order, a merge key's hash (or a list of
        hashes, the first winning) merged over what is already there (``merge!``), so a
        key after the merge key overrides it and one before it is overridden."""
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping node, but found {node.id}", node.start_mark
            )
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG and isinstance(key_node, yaml.ScalarNode):
                merged = self._merged(value_node)
                if merged is not None:
                    mapping.update(merged)
                    continue
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, "found unhashable key",
                    key_node.start_mark,
                ) from None  # fmt: skip
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def _merged(self, node: Any) -> dict[Any, Any] | None:
        """What a merge key's value merges in; None when it is no hash (Psych then keeps
        ``<<`` as an ordinary key)."""
        value = self.construct_object(node, deep=True)
        if isinstance(node, yaml.MappingNode) and isinstance(value, dict):
            return value
        if isinstance(node, yaml.SequenceNode) and all(isinstance(v, dict) for v in value):
            merged: dict[Any, Any] = {}
            for item in reversed(value):
                merged.update(item)
            return merged
        return None


def _construct_plain(loader: PsychLoader, node: yaml.ScalarNode) -> Any:
    try:
        value = tokenize(node.value)
    except PsychValueError as exc:
        raise yaml.constructor.ConstructorError(None, None, str(exc), node.start_mark) from None
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if number and (":" in node.value or "," in node.value):
        loader.surprises.append(
            f"line {node.start_mark.line + 1}: {node.value} is the number {value!r}, as Kamal"
            " reads it (YAML 1.1: a colon counts in base 60, a comma is left out); quote it"
            " to keep the text"
        )
    return value


def _construct_merge_key(loader: PsychLoader, node: yaml.ScalarNode) -> str:
    return node.value  # a "<<" whose value is no hash: an ordinary key, as in Psych


# The tags Psych gives a meaning of its own (Psych::Visitors::ToRuby), by kind of node. backstaff
# refuses these as before; any other tag means nothing to Psych: a scalar so tagged is read as
# if untagged (its text tokenized, quoted or not), a mapping is a Hash and a sequence an Array.
_PSYCH_TAGS = {
    yaml.ScalarNode: re.compile(
        r"!binary|!(?:str|ruby/string)(?::.*)?|!ruby/object:(?:BigDecimal|DateTime|Complex"
        r"|Rational)|!ruby/(?:encoding|class|module|regexp|range)|!float|!ruby/sym(?:bol)?.*",
        re.DOTALL,
    ),
    yaml.MappingNode: re.compile(
        r"!ruby/(?:struct|object|exception).*|!(?:str|ruby/string)(?::.*)?|!ruby/array:.*"
        r"|!ruby/range|!set|!ruby/hash-with-ivars(?::.*)?|!(?:map|ruby/hash):.*|!omap"
        r"|!ruby/marshalable:.*",
        re.DOTALL,
    ),
    yaml.SequenceNode: re.compile(r"!omap|!(?:seq|ruby/array):.*", re.DOTALL),
}


def _construct_other_tag(loader: PsychLoader, node: Any) -> Any:
    """A node whose tag has no constructor: what Psych makes of it (a real config writes
    ``<<: !ruby/object:YAML.load_file config/deploy.yml``: to Psych the text
    ``config/deploy.yml``, so ``<<`` stays a key, which Kamal then refuses as unknown)."""
    if _PSYCH_TAGS[type(node)].fullmatch(node.tag):
        return loader.construct_undefined(node)  # PyYAML's error, naming the tag and line
    if isinstance(node, yaml.ScalarNode):
        return _construct_plain(loader, node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    return loader.construct_sequence(node, deep=True)


PsychLoader.add_constructor(_PLAIN_TAG, _construct_plain)
PsychLoader.add_constructor(MERGE_TAG, _construct_merge_key)
PsychLoader.add_constructor(None, _construct_other_tag)
