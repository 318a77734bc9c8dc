"""``check``: validators are reused per rule, one caller at a time, and keep nothing from one
value to the next; the rules are taken as written, and Cerberus' own check of every rule the
sections use is made here instead."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from cerberus.schema import DefinitionSchema

import backstaff.schemas
from backstaff.schemas import validator
from backstaff.schemas.validator import Rule, array, check, rule_problem, section, text
from tests.conftest import FIXTURES
from tests.test_kamal_verdicts import CASES as VERDICT_CASES
from tests.test_kamal_verdicts import _backstaff_errors


def test_a_reused_validator_keeps_no_errors_from_the_value_before() -> None:
    rule = section({"host": text()})
    first = check({"host": ["not", "a", "string"], "other": 1}, rule, "servers/web")
    assert [str(e) for e in first] == [
        "servers/web: unknown key: other",
        "servers/web/host: should be a string",
    ]
    reused = validator._idle[repr(rule)]
    assert check({"host": "10.0.0.1"}, section({"host": text()}), "servers/web") == []
    assert [str(e) for e in check({"x": 1}, rule, "servers/db")] == ["servers/db: unknown key: x"]
    assert validator._idle[repr(rule)] is reused


def test_a_validator_in_use_is_not_handed_to_another_caller(monkeypatch: Any) -> None:
    """A check that starts while another of the same rule runs (another thread) gets its own."""
    rule = text()
    check("warm", rule, "a")
    seen: list[object] = []
    original = validator._translate

    def nested(v: Any, *args: Any) -> Any:
        seen.append(v)
        if len(seen) == 1:
            assert check(["not a string"], rule, "b") != []
        return original(v, *args)

    monkeypatch.setattr(validator, "_translate", nested)
    assert check("x", rule, "a") == []
    assert len(seen) == 2 and seen[0] is not seen[1]


def _module_rules() -> dict[str, Rule]:
    """The rules the schema modules keep at module level (RULE, SSL, ROLE...), by name."""
    found: dict[str, Rule] = {}
    for info in pkgutil.iter_modules(backstaff.schemas.__path__):
        module = importlib.import_module(f"backstaff.schemas.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, dict) and "type" in value and "meta" in value:
                found[f"{info.name}.{name}"] = value
    return found


def _within(rule: Rule, container: Any) -> bool:
    """``rule`` is ``container`` or one of the rules inside it (the very object)."""
    if rule is container:
        return True
    if isinstance(container, dict):
        return any(_within(rule, v) for v in container.values())
    if isinstance(container, list):
        return any(_within(rule, v) for v in container)
    return False


def _rules_used_by_the_recorded_configs(monkeypatch: pytest.MonkeyPatch) -> list[Rule]:
    """Every rule ``check`` runs while loading the configs whose verdicts Kamal recorded
    (fixtures/configs: accepted and refused, every section) and the example."""
    used: list[Rule] = []
    original = validator._validator_for

    def recording(rule: Rule) -> validator.KamalValidator:
        used.append(rule)
        return original(rule)

    monkeypatch.setattr(validator, "_validator_for", recording)
    monkeypatch.setattr(validator, "_idle", {})  # every rule goes through _validator_for
    for case in [*VERDICT_CASES, FIXTURES / "example"]:
        _backstaff_errors(case)  # loads it as the verdict test does; the errors do not matter
    return used


def test_every_rule_the_sections_use_passes_cerberus_own_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``check`` skips Cerberus' check of a schema (60 ms a command); this makes it, on every
    rule the recorded configs reach and every rule a schema module defines."""
    used = _rules_used_by_the_recorded_configs(monkeypatch)
    module_rules = _module_rules()
    assert len(module_rules) >= 10 and len(used) >= 20
    unreached = [
        name for name, rule in module_rules.items() if not any(_within(rule, u) for u in used)
    ]
    # the registry's documented rule (schemas/docs.py); ``check`` runs SHAPE, made from it
    assert unreached == ["registry.RULE"], "add a fixtures/configs case reaching these rules"
    problems = {repr(rule)[:80]: rule_problem(rule) for rule in [*used, *module_rules.values()]}
    assert {k: v for k, v in problems.items() if v is not None} == {}


def test_a_rule_cerberus_would_refuse_is_found() -> None:
    assert rule_problem(array(text())) is None
    problem = rule_problem({"type": "no-such-type", "meta": {}})
    assert problem is not None and "no-such-type" in problem
    assert rule_problem(section({"x": {"maxlength": "ten"}})) is not None


def test_check_does_not_make_cerberus_check_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any) -> None:
        raise AssertionError("Cerberus checked a schema at run time")

    monkeypatch.setattr(DefinitionSchema, "validate", refuse)
    monkeypatch.setattr(validator, "_idle", {})
    rule = section({"host": text(), "tags": array(text())})
    assert [str(e) for e in check({"host": 1, "tags": [[]]}, rule, "servers/web")] == [
        "servers/web/tags/0: should be a string"
    ]
