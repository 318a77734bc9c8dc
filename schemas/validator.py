"""Cerberus with Kamal's types and Kamal's error wording.

Kamal validates against example YAML: strings accept numbers and booleans ("stringish"),
integers are strict, and errors read ``path: should be a string`` / ``path: unknown key: x``.
Here each section is a Cerberus schema built from the helpers below; ``check`` runs one value
against one rule and translates Cerberus' error tree into ``ConfigError`` lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cerberus import SchemaError, TypeDefinition, Validator
from cerberus import errors as cerr
from cerberus.schema import DefinitionSchema

from backstaff.schemas.errors import ConfigError, join

Rule = dict[str, Any]

_PHRASES = {
    "text": "a string",
    "strict_text": "a string",
    "int": "an integer",
    "flag": "a boolean",
    "array": "an array",
    "hash": "a hash",
}


class KamalValidator(Validator):
    """Cerberus validator knowing Kamal's five value types."""

    types_mapping = dict(Validator.types_mapping)
    types_mapping.update(
        {
            "text": TypeDefinition("text", (str, int, float, bool), ()),
            "strict_text": TypeDefinition("strict_text", (str,), ()),
            "int": TypeDefinition("int", (int,), (bool,)),
            "flag": TypeDefinition("flag", (bool,), ()),
            "array": TypeDefinition("array", (list,), ()),
            "hash": TypeDefinition("hash", (dict,), ()),
        }
    )


# ---- schema helpers: keep section schemas short and readable -------------------------------


def text(doc: str = "", **extra: Any) -> Rule:
    return {"type": "text", "meta": {"doc": doc}, **extra}


def integer(doc: str = "", **extra: Any) -> Rule:
    return {"type": "int", "meta": {"doc": doc}, **extra}


def flag(doc: str = "", **extra: Any) -> Rule:
    return {"type": "flag", "meta": {"doc": doc}, **extra}


def array(item: Rule | None = None, doc: str = "", **extra: Any) -> Rule:
    return {"type": "array", "schema": item or text(), "meta": {"doc": doc}, **extra}


def free_hash(values: Rule | None = None, doc: str = "", **extra: Any) -> Rule:
    """A hash with any keys (docker options, build args, labels)."""
    rule: Rule = {"type": "hash", "meta": {"doc": doc}, **extra}
    if values is not None:
        rule["valuesrules"] = values
    return rule


def section(fields: Mapping[str, Rule], doc: str = "", **extra: Any) -> Rule:
    """A hash with a fixed set of keys: anything else is an unknown key."""
    return {"type": "hash", "schema": dict(fields), "meta": {"doc": doc}, **extra}


def nested(types: list[str], doc: str = "") -> Rule:
    """Only the type is checked here; the section's own module validates the inside."""
    return {"type": types if len(types) > 1 else types[0], "meta": {"doc": doc, "nested": True}}


def present(value: Any) -> bool:
    """Rails' ``present?``, which Kamal's checks use: not nil, false, a blank string or an
    empty list or hash."""
    if value is None or value is False:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return not (isinstance(value, (list, dict)) and not value)


# ---- running and translating ----------------------------------------------------------------


def check(value: Any, rule: Rule, path: str) -> list[ConfigError]:
    """Validate ``value`` against ``rule``; errors are addressed under ``path``."""
    key = repr(rule)  # plain data: equal rules share a validator
    validator = _idle.pop(key, None)  # taken while in use, so no two callers share one
    if validator is None:
        validator = _validator_for(rule)
    validator.validate({"v": value})
    errors = _translate(validator, rule, value, path)
    _idle[key] = validator
    return errors


# Validators not in use, by rule: a config checks the same rule once per host entry. A
# validator keeps nothing from one ``validate`` to the next.
_idle: dict[str, KamalValidator] = {}


class _OwnSchema(DefinitionSchema):
    """A schema written in this package, taken as it is: Cerberus checks every schema against
    its own meta-schema when a validator is made for it, which cost about 60 ms of each
    command's start (three quarters of loading a config) for rules that never change between
    runs. The tests make that check instead, on every rule (``rule_problem``)."""

    def validate(self, schema: Any = None) -> None:
        """Cerberus' check of the schema, not made at run time (see the class)."""


def _validator_for(rule: Rule) -> KamalValidator:
    validator = KamalValidator()
    validator.schema = _OwnSchema(validator, {"v": rule})
    return validator


def rule_problem(rule: Rule) -> str | None:
    """What Cerberus finds wrong with ``rule`` as a schema, or None: the check ``check`` does
    not make at run time, for the tests to make on every rule."""
    try:
        KamalValidator({"v": rule})
    except SchemaError as exc:
        return str(exc)
    return None


def _translate(validator: KamalValidator, rule: Rule, value: Any, path: str) -> list[ConfigError]:
    """Leaf errors in Kamal's order; unknown keys of one hash become one ``unknown keys:`` line."""
    located: list[tuple[tuple[int, ...], ConfigError | tuple[Any, ...]]] = []
    unknown: dict[tuple[Any, ...], list[str]] = {}
    for error in _leaves(validator._errors):
        where = tuple(error.document_path[1:])
        if error.code == cerr.UNKNOWN_FIELD.code:
            parent = where[:-1]
            if parent not in unknown:
                unknown[parent] = []
                located.append(((*_position(value, parent), -1), parent))
            unknown[parent].append(str(where[-1]))
        else:
            entry = ConfigError(join(path, *where), _message(error, rule))
            located.append((_position(value, where), entry))
    located.sort(key=lambda pair: pair[0])
    return [
        entry if isinstance(entry, ConfigError) else _unknown(path, value, entry, unknown[entry])
        for _, entry in located
    ]


def _position(value: Any, where: tuple[Any, ...]) -> tuple[int, ...]:
    """Where a path sits in the document, as indexes: Kamal checks a hash's type, then its
    unknown keys (sorted with -1 after the hash's own position), then each key in the order
    the config lists them."""
    positions: list[int] = []
    node = value
    for key in where:
        if isinstance(node, dict):
            keys = list(node)
            positions.append(keys.index(key) if key in keys else len(keys))
            node = node.get(key)
        elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
            positions.append(key)
            node = node[key]
        else:
            positions.append(0)
            node = None
    return tuple(positions)


def _unknown(path: str, value: Any, parent: tuple[Any, ...], keys: list[str]) -> ConfigError:
    ordered = _document_order(value, parent, keys)
    label = "unknown key" if len(ordered) == 1 else "unknown keys"
    return ConfigError(join(path, *parent), f"{label}: {', '.join(ordered)}")


def _leaves(errors: Any) -> list[Any]:
    found = []
    for error in errors:
        if error.is_group_error:
            found.extend(_leaves(error.child_errors))
        else:
            found.append(error)
    return found


def _message(error: Any, rule: Rule) -> str:
    if error.code == cerr.BAD_TYPE.code:
        return _should_be(error.constraint)
    if error.code == cerr.NOT_NULLABLE.code:
        field_rule = _rule_at(rule, error.schema_path[1:-1])
        return _should_be(field_rule.get("type", "text"))
    if error.code == cerr.REQUIRED_FIELD.code:
        return "is required"
    if error.info and isinstance(error.info[0], str):
        return str(error.info[0])
    return f"is invalid ({error.rule})"


def _should_be(types: str | list[str]) -> str:
    names = [types] if isinstance(types, str) else list(types)
    return "should be " + " or ".join(_PHRASES.get(n, n) for n in names)


def _rule_at(rule: Rule, schema_path: tuple[Any, ...]) -> Rule:
    node: Any = rule
    for part in schema_path:
        node = node[part]
    return node if isinstance(node, dict) else {}


def _document_order(value: Any, parent: tuple[Any, ...], keys: list[str]) -> list[str]:
    node = value
    for part in parent:
        node = node[part]
    if isinstance(node, dict):
        wanted = set(keys)
        return [str(k) for k in node if str(k) in wanted]
    return keys
