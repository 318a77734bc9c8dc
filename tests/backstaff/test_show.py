"""``show PLAN.json``: a saved plan rendered offline, with no config and no SSH."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from backstaff import planning
from tests.backstaff.test_exit_codes import Hosts, run
from tests.json_schemas import errors


def _refuse(*_: object) -> None:
    raise AssertionError("connected")


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_show_renders_a_saved_plan_as_plan_did(
    hosts: Hosts, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    code, planned, _ = run(capsys, "--version", "v2", "plan", "--out", "plan.json", "--format", fmt)
    assert code == 0
    shutil.rmtree("config")  # no config needed
    shutil.rmtree(".kamal")
    monkeypatch.setattr(planning, "connection_pool", _refuse)
    code, shown, err = run(capsys, "show", "plan.json", "--format", fmt)
    assert (code, err) == (0, "")
    assert shown == planned and ("3 to replace" in shown or '"replace": 3' in shown)
    if fmt == "json":
        assert json.loads(shown) == json.loads(Path("plan.json").read_text())
        assert errors("plan", json.loads(shown)) == []


def test_show_defaults_to_text_and_shows_steps_with_v(
    hosts: Hosts, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "--version", "v2", "plan", "--out", "plan.json")[0] == 0
    code, out, _ = run(capsys, "show", "plan.json")
    assert code == 0 and out.startswith("backstaff plan: tb version v2\n")
    assert "Steps, in order:" not in out
    code, out, _ = run(capsys, "show", "-v", "plan.json")
    assert code == 0 and "Steps, in order:\n  1. lock.acquire[10.254.0.11]" in out


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("{", "Expecting property name"),
        ("[1]", "not a backstaff plan"),
        (json.dumps({"format_version": 3}), "unsupported plan format_version 3 (expected 4)"),
        (json.dumps({"format_version": 4}), "not a backstaff plan: 'changes'"),
        ("\udcff", "cannot read the plan"),
        (
            json.dumps({"kind": "backstaff-refresh", "format_version": 1}),
            "it is a recording of the hosts: plan from it with `plan --live plan.json`",
        ),
    ],
)
def test_a_bad_or_old_plan_file_is_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    content: str, said: str,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    Path("plan.json").write_bytes(content.encode("utf-8", "surrogateescape"))
    code, out, err = run(capsys, "show", "plan.json")
    assert code == 1 and out == "" and len(err.splitlines()) == 1
    assert err.startswith("  ERROR: cannot read the plan plan.json: ") and said in err
    code, _, err = run(capsys, "show", "missing.json")
    assert (
        code == 1
        and err == "  ERROR: cannot read the plan missing.json: No such file or directory\n"
    )
