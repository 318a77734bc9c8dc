"""A saved plan runs only if it is exactly the plan made now: any edit of any field of any step
of the file is refused, naming the step; an unedited file is accepted (and then the plan made
now is what runs, never the file's steps: backstaff/applying.py ``run_apply``, backstaff/saved_plans.py)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from backstaff.planner.plan import PlanFormatError, config_digest, first_difference, plan_from_dict
from backstaff.planner.render import render
from tests.planner.render.test_snapshots import build

HOSTILE_WORD = {"shell": "touch /tmp/pwned"}


def saved(name: str = "fresh") -> dict[str, Any]:
    return json.loads(render(build(name), "json"))


def _edits(value: Any) -> Iterator[Any]:
    """Ways to change one JSON value (each gives a different value)."""
    if isinstance(value, bool):
        yield not value
    elif isinstance(value, int):
        yield value + 1
    elif isinstance(value, str):
        yield value + " x"
        yield ""
    elif value is None:
        yield "x"
    elif isinstance(value, list):
        yield [*value, HOSTILE_WORD]
        if value:
            yield value[:-1]
    elif isinstance(value, dict):
        yield {**value, "extra": 1}


def _refused(edited: dict[str, Any], fresh: dict[str, Any]) -> str | None:
    try:
        plan_from_dict(edited)  # what `apply PLAN` reads first
    except PlanFormatError as exc:
        return str(exc)
    return first_difference(edited, fresh)


def test_the_unedited_file_is_accepted() -> None:
    for name in ("fresh", "new-version", "role-removed"):
        assert first_difference(saved(name), saved(name)) is None


@pytest.mark.parametrize("name", ["fresh", "new-version"])
def test_editing_any_field_of_any_step_is_refused(name: str) -> None:
    fresh = saved(name)
    count = 0
    for index, step in enumerate(fresh["steps"]):
        for key, value in step.items():
            for changed in _edits(value):
                edited = copy.deepcopy(fresh)
                edited["steps"][index][key] = changed
                reason = _refused(edited, fresh)
                assert reason, f"edit of steps[{index}].{key} accepted"
                count += 1
    assert count > 100


def test_a_command_word_turned_into_shell_is_refused_naming_the_step() -> None:
    fresh = saved("new-version")
    edited = copy.deepcopy(fresh)
    boot = next(i for i, s in enumerate(edited["steps"]) if s["kind"] == "app")
    run = next(c for c in edited["steps"][boot]["commands"] if "words" in c and "run" in c["words"])
    run["words"][-1] = HOSTILE_WORD
    reason = first_difference(edited, fresh)
    assert reason == (f"step {boot + 1} ({fresh['steps'][boot]['id']}) is not the step planned"
                      " now (commands differ)")  # fmt: skip


@pytest.mark.parametrize(
    "edit",
    [
        lambda p: p["steps"].append(copy.deepcopy(p["steps"][0])),
        lambda p: p["steps"].pop(),
        lambda p: p["steps"].reverse(),
        lambda p: p["steps"][0].update(host="local"),
        lambda p: p["steps"][1]["commands"].append({"upload": {"path": "/root/.ssh/authorized_keys",
                                                   "mode": "0600", "source": {"local_file": "/etc/shadow"}}}),
        lambda p: p["steps"][1].update(stdin_secrets=["SECRET_TOKEN"]),
        lambda p: p.update(version="v9"),
        lambda p: p["changes"].pop(),
        lambda p: p.update(live_fingerprint="0" * 64),
        lambda p: p.update(config_digest="other"),
    ],
    ids=["extra step", "dropped step", "reordered", "run locally", "upload a local file",
         "secret to a host", "version", "changes", "fingerprint", "config"],
)  # fmt: skip
def test_plan_level_edits_are_refused(edit: Any) -> None:
    fresh = saved("fresh")
    edited = copy.deepcopy(fresh)
    edit(edited)
    assert _refused(edited, fresh)


def test_stale_and_other_config_have_their_own_words() -> None:
    fresh = saved("fresh")
    assert first_difference({**fresh, "live_fingerprint": "x"}, fresh) == (
        "stale plan: the hosts changed since it was made"
    )
    assert first_difference({**fresh, "config_digest": "x"}, fresh) == (
        "this plan was made for another config or destination"
    )


def test_the_config_digest_is_the_config_whatever_its_key_order() -> None:
    config = {"service": "tb", "env": {"clear": {"A": "1", "B": "2"}}}
    reordered = {"env": {"clear": {"B": "2", "A": "1"}}, "service": "tb"}
    assert config_digest(config, None) == config_digest(reordered, None)
    assert config_digest(config, None) != config_digest(config, "staging")
    assert config_digest(config, None) != config_digest({**config, "service": "tc"}, None)
    # YAML gives dates and times too
    assert config_digest({"d": date(2026, 1, 1)}, None) != config_digest(
        {"d": date(2026, 1, 2)}, None
    )


def test_a_differing_step_is_named_with_the_fields_that_differ() -> None:
    fresh = saved("fresh")
    first = fresh["steps"][0]
    edited = {**fresh, "steps": [{**first, "host": "other", "extra": 1}, *fresh["steps"][1:]]}
    assert first_difference(edited, fresh) == (
        f"step 1 ({first['id']}) is not the step planned now (extra, host differ)"
    )
    missing = {k: v for k, v in first.items() if k != "id"}  # named from the plan made now
    assert first_difference({**fresh, "steps": [missing, *fresh["steps"][1:]]}, fresh) == (
        f"step 1 ({first['id']}) is not the step planned now (id differ)"
    )
    renamed = {**fresh, "steps": [{**first, "id": "other[h]"}, *fresh["steps"][1:]]}
    assert first_difference(renamed, fresh) == (
        "step 1 (other[h]) is not the step planned now (id differ)"  # as the file names it
    )
    not_a_step = {**fresh, "steps": ["rm -rf /", *fresh["steps"][1:]]}
    assert first_difference(not_a_step, fresh) == (
        f"step 1 ({first['id']}) is not the step planned now (the step differ)"
    )


def test_any_file_is_refused_with_a_reason_never_an_exception() -> None:
    fresh = saved("fresh")
    without = {k: v for k, v in fresh.items() if k != "steps"}
    assert first_difference(without, fresh) == "the plan file has no list of steps"
    assert first_difference(fresh, without) == (
        f"the plan file has {len(fresh['steps'])} steps, 0 are planned now"
    )
    assert first_difference({**fresh, "added": 1}, fresh) == "its added is not what is planned now"
    assert first_difference(fresh, {**fresh, "added": 1}) == "its added is not what is planned now"
    # where the state came from (hosts read now or a recording) is not the plan
    sourceless = {k: v for k, v in fresh.items() if k != "live_source"}
    assert first_difference(sourceless, fresh) is None
    assert first_difference(fresh, sourceless) is None
