"""Every difference, with its values, on real hosts (issue #16): after a deploy, an edited
clear env value plans with its old and new value; a rotated secret plans as "secret changed"
with no value in any output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.backstaff.projects import enter, fresh_project, run_cli
from tests.schemas.helpers import kamal_yaml
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
ROTATED = "rotated-token-789"
FORMATS = ("text", "markdown", "json")


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    made = fresh_project(testbed, tmp_path_factory, "attributes")
    yield next(made)
    next(made, None)


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


def edit(project: Path, change: Any) -> None:
    path = project / "config" / "deploy.yml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(kamal_yaml(data, sort_keys=False))


def plans(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, str]:
    outputs = {}
    for fmt in FORMATS:
        code, out, err = run_cli(capsys, *args, "plan", "--format", fmt, "--detailed-exitcode")
        assert code == 2, out + err
        assert ROTATED not in out + err
        outputs[fmt] = out
    return outputs


def web_attributes(json_plan: str) -> dict[str, dict[str, Any]]:
    change = next(c for c in json.loads(json_plan)["changes"]
                  if c["address"] == "app.web[10.254.0.11]")  # fmt: skip
    return {a["path"]: a for a in change["attributes"]}


def test_1_deploy(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "--version", "v1", "setup", "-P")
    assert code == 0, err
    code, out, _ = run_cli(capsys, "--version", "v1", "plan", "--detailed-exitcode")
    assert code == 0 and "No changes." in out


def test_2_a_clear_env_edit_plans_with_its_old_and_new_value(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(project, lambda d: d["env"]["clear"].update(TB_GREETING="hello there"))
    out = plans(capsys, "--version", "v1")
    line = '~ env.clear.TB_GREETING: "hello" → "hello there"  # forces replacement'
    assert "-/+  app.web[10.254.0.11]  env changed: TB_GREETING" in out["text"]
    assert line in out["text"] and line in out["markdown"]
    assert web_attributes(out["json"])["env.clear.TB_GREETING"] == {
        "path": "env.clear.TB_GREETING", "change": "changed", "before": "hello",
        "after": "hello there", "sensitive": False, "forces_replacement": True,
    }  # fmt: skip
    # with a new version too: both are listed
    out = plans(capsys, "--version", "v2")
    assert "new version v1 → v2; env changed: TB_GREETING" in out["text"]
    assert '~ version: "v1" → "v2"' in out["text"] and line in out["text"]
    # and at the version running now: only the config's change
    out = plans(capsys, "--version", "running")
    assert "new version" not in out["text"] and line in out["text"]
    edit(project, lambda d: d["env"]["clear"].update(TB_GREETING="hello"))


def test_3_a_rotated_secret_plans_as_secret_changed_with_no_value(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = project / ".kamal" / "secrets"
    original = secrets.read_text()
    secrets.write_text(original.replace("s3cr3t-token-123", ROTATED))
    try:
        out = plans(capsys, "--version", "v1")  # run_cli checks the old values too
    finally:
        secrets.write_text(original)
    line = "~ env.secret.SECRET_TOKEN: (secret changed)  # forces replacement"
    assert "-/+  app.web[10.254.0.11]  secret changed: SECRET_TOKEN" in out["text"]
    assert line in out["text"] and line in out["markdown"]
    assert web_attributes(out["json"]) == {
        "env.secret.SECRET_TOKEN": {
            "path": "env.secret.SECRET_TOKEN", "change": "changed", "before": None,
            "after": None, "sensitive": True, "forces_replacement": True,
        }
    }  # fmt: skip
    for text in out.values():
        assert ROTATED not in text and "s3cr3t" not in text and "cache-pass" not in text
