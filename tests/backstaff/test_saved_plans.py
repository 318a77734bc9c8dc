"""A plan file is read back as written, and runs only if it is exactly the plan made now."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backstaff.errors import BackstaffError
from backstaff.planner.plan import SavedPlan, plan_from_dict
from backstaff.planner.recording import KIND as RECORDING
from backstaff.planner.render import render
from backstaff.saved_plans import check_saved, load_saved
from tests.planner.render.test_snapshots import build

SECRETS = ["TB_GREETING"]  # a text the plan holds, standing for a secret value


def _saved(name: str) -> SavedPlan:
    data = json.loads(render(build(name), "json", secrets=SECRETS))
    return SavedPlan(data, plan_from_dict(data))


def test_a_file_saved_with_the_secrets_masked_is_the_plan_made_now() -> None:
    saved = _saved("new-version")
    assert "TB_GREETING" not in json.dumps(saved.data)
    check_saved(saved, build("new-version"), SECRETS)  # accepted: nothing raised


def test_another_plan_is_refused_naming_the_difference() -> None:
    with pytest.raises(BackstaffError) as refused:
        check_saved(_saved("new-version"), build("fresh"), SECRETS)
    assert str(refused.value).startswith("refusing the saved plan: ")
    assert str(refused.value).endswith("; run `backstaff plan` again")


def test_a_file_is_read_as_written(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    data = json.loads(render(build("new-version"), "json"))
    data["notes"] = ["é—😀"]  # any text: the file is UTF-8 whatever the locale
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    saved = load_saved(path)
    assert saved.data == data and saved.plan.version == build("new-version").version


@pytest.mark.parametrize("content", [None, "{not json", '{"format_version": 1}'])
def test_a_file_that_cannot_be_read_is_one_error_naming_it(
    content: str | None, tmp_path: Path
) -> None:
    path = tmp_path / "plan.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(BackstaffError, match=f"^cannot read the plan {path}: ."):
        load_saved(path)


def test_a_recording_of_the_hosts_is_not_a_plan(tmp_path: Path) -> None:
    path = tmp_path / "hosts.json"
    path.write_text(json.dumps({"kind": RECORDING}))
    with pytest.raises(BackstaffError) as refused:
        load_saved(path)
    assert str(refused.value) == (
        f"cannot read the plan {path}: it is a recording of the hosts: "
        f"plan from it with `plan --live {path}`"
    )


def test_a_missing_file_is_named_with_the_reason_only(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(BackstaffError) as refused:
        load_saved(path)
    assert str(refused.value) == f"cannot read the plan {path}: No such file or directory"
