"""Issue #13 on real hosts: ``refresh``, then a config change, then ``plan --live`` with SSH
made impossible gives the same changes and exit code 2 as the live plan, and the
recording holds no secret value."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.backstaff.projects import SECRETS, enter, fresh_project, run_cli
from tests.json_schemas import errors
from tests.schemas.helpers import kamal_yaml
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
CLOSED_PORT = 9  # discard: nothing listens there on the test bed's hosts


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    made = fresh_project(testbed, tmp_path_factory, "recordings")
    yield next(made)
    next(made, None)


def edit(project: Path, change: Any) -> None:
    path = project / "config" / "deploy.yml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(kamal_yaml(data, sort_keys=False))


def test_plan_from_a_recording_is_the_live_plan_without_ssh(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    enter(project, monkeypatch)
    code, _, err = run_cli(capsys, "--version", "v1", "setup", "-P")
    assert code == 0, err

    code, out, err = run_cli(capsys, "refresh", "--out", "state.json")
    assert code == 0, err
    assert out.startswith("Recorded 3 of 3 host(s) at ")
    text = (project / "state.json").read_text()
    assert [secret for secret in SECRETS if secret in text] == []
    recording = json.loads(text)
    assert errors("refresh", recording) == [] and recording["unread_hosts"] == []
    assert any(c["name"] == "tb-web-v1" for c in recording["live"][0]["containers"])

    edit(project, lambda d: d["env"]["clear"].update(TB_GREETING="hello from the recording"))
    code, out, err = run_cli(capsys, "--version", "v1", "plan", "--format", "json",
                             "--detailed-exitcode")  # fmt: skip
    assert code == 2, err
    live = json.loads(out)

    # SSH made impossible: every host's SSH port now points at a closed port
    edit(project, lambda d: d["ssh"].update(port=CLOSED_PORT))
    code, out, _ = run_cli(capsys, "--version", "v1", "plan")
    assert code == 1 and f"cannot connect on port {CLOSED_PORT}" in out  # it is impossible
    before = testbed.command_counts()
    code, out, err = run_cli(capsys, "--version", "v1", "plan", "--live", "state.json",
                             "--format", "json", "--detailed-exitcode")  # fmt: skip
    assert code == 2, err
    assert testbed.command_counts() == before  # nothing ran on any host
    recorded = json.loads(out)
    assert recorded["changes"] == live["changes"]
    assert [c["address"] for c in recorded["changes"] if c["action"] != "no-op"] == [
        "app.web[10.254.0.11]", "app.web[10.254.0.12]", "app.workers[10.254.0.13]",
    ]  # fmt: skip
    assert recorded["steps"] == live["steps"]
    assert recorded["live_source"]["kind"] == "recording" and live["live_source"]["kind"] == "hosts"
    assert errors("plan", recorded) == [] and errors("plan", live) == []
    code, out, _ = run_cli(capsys, "--version", "v1", "plan", "--live", "state.json",
                           "--format", "markdown", "--detailed-exitcode")  # fmt: skip
    assert code == 2 and "Planned from a recording, not from the hosts: state.json" in out
    assert "hello from the recording" in out
