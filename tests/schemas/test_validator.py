"""``check``: validators are reused per rule, one caller at a time, and keep nothing from one
value to the next."""

from __future__ import annotations

from typing import Any

from backstaff.schemas import validator
from backstaff.schemas.validator import check, section, text


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
