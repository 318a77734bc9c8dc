"""The JSON contract (docs/schemas/): every JSON output validates against its schema, and the
schemas are strict enough to refuse what the outputs never hold. The plan snapshots are
validated in tests/planner/render/test_snapshots.py, the CLI's outputs in
tests/backstaff/test_recordings.py and test_show.py."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from backstaff import planning
from backstaff.cli import main
from backstaff.console import ConsoleReporter
from backstaff.executors.apply import StepResult
from backstaff.planner.live import LiveHost, LiveState
from backstaff.planner.recording import Recording, recording_to_dict, shareable
from backstaff.planner.steps import Step
from tests.backstaff.test_exit_codes import Hosts
from tests.conftest import FIXTURES
from tests.json_schemas import SCHEMAS, errors
from tests.planner.scenarios import example, live

SCENARIOS = sorted(p.name for p in (FIXTURES / "live").iterdir() if p.is_dir())


def test_every_schema_is_a_valid_draft_2020_12_schema() -> None:
    names = sorted(p.name for p in SCHEMAS.glob("*.schema.json"))
    assert names == ["events.schema.json", "plan.schema.json", "refresh.schema.json"]
    for name in ("events", "plan", "refresh"):
        assert errors(name, {}) != []  # checks the schema, and an empty object is refused


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_recording_validates(scenario: str) -> None:
    state = live(scenario)
    state = LiveState((*state.hosts, LiveHost("10.254.0.99", error="connection refused")))
    data = recording_to_dict(Recording("tb", None, "2026-12-04T01:45:12Z", shared(state)))
    assert errors("refresh", json.loads(json.dumps(data))) == []
    raw = recording_to_dict(Recording("tb", None, "2026-12-04T01:45:12Z", state))
    if any(host.envfiles for host in state.hosts):  # the hosts' own digests: never recorded
        assert errors("refresh", json.loads(json.dumps(raw))) != []


def shared(state: LiveState) -> LiveState:
    """The state as ``refresh`` records it (secret and env file digests left out)."""
    return shareable(state, example())


def _recording() -> dict[str, Any]:
    return recording_to_dict(
        Recording("tb", "staging", "2026-12-04T01:45:12Z", shared(live("deployed-v1")))
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(recorded_at="2026-12-04 01:45"),
        lambda d: d["live"][0]["containers"][0]["env"].append(["TOKEN", "plain-secret-value"]),
        lambda d: d["live"][0].update(routes="none"),
        lambda d: d.update(extra=1),
        lambda d: d["unread_hosts"].append({"host": "h"}),
    ],
    ids=["time", "env value not a digest", "routes", "unknown field", "unread without error"],
)
def test_the_refresh_schema_refuses_what_a_recording_never_holds(change: Any) -> None:
    data = _recording()
    assert errors("refresh", data) == []
    change(data)
    assert errors("refresh", data) != []


def _plan() -> dict[str, Any]:
    return json.loads((FIXTURES / "plans" / "new-version-attributes.json").read_text())  # type: ignore[no-any-return]


def _secret_with_value(d: dict[str, Any]) -> None:
    attribute = next(a for c in d["changes"] for a in c["attributes"] if a["sensitive"])
    attribute["after"] = "s3cr3t"


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(format_version=2),
        _secret_with_value,
        lambda d: d["changes"][0].update(action="explode"),
        lambda d: d["steps"][0]["commands"].append({"words": [{"value": 1}]}),
        lambda d: d.update(live_source={"kind": "recording"}),
        lambda d: d.pop("summary"),
    ],
    ids=["old version", "secret with a value", "action", "word", "source", "summary missing"],
)
def test_the_plan_schema_refuses_what_a_plan_never_holds(change: Any) -> None:
    data = _plan()
    assert errors("plan", data) == []
    change(data)
    assert errors("plan", data) != []


def test_apply_events_validate(capsys: pytest.CaptureFixture[str]) -> None:
    """The events ``apply --format json`` prints, from the reporter apply uses."""
    step = Step("app.boot.web[10.0.0.1]", "10.0.0.1", "app", "boot web", 7)
    reporter = ConsoleReporter(json_events=True, quiet=False)
    reporter.started(step)
    reporter.finished(StepResult(step, "ok", 1.234))
    reporter.started(step)
    reporter.finished(StepResult(step, "failed", 0.5, "10.0.0.1: exit status 1"))
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["event"] for e in events] == ["start", "done", "start", "FAILED"]
    for event in events:
        assert errors("events", event) == [], event
    broken = [
        {**events[0], "seconds": 1.0},  # a start has no duration
        {**events[1], "error": "x"},  # done has no error
        {**events[3], "error": None},  # a failure says why
        {k: v for k, v in events[1].items() if k != "step"},
        {**events[0], "event": "started"},
    ]
    for event in broken:
        assert errors("events", copy.deepcopy(event)) != [], event


def test_drift_json_validates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``drift --format json`` prints a plan too: drifted and not."""
    shutil.copytree(FIXTURES / "example", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VERSION", raising=False)
    monkeypatch.setattr(planning, "gather", Hosts().gather)
    for expected in (0, 2):
        code = main(["drift", "--format", "json"])
        data = json.loads(capsys.readouterr().out)
        assert code == expected and data["has_changes"] is bool(expected)
        assert errors("plan", data) == []
        deploy = tmp_path / "config" / "deploy.yml"
        deploy.write_text(deploy.read_text().replace("TB_MODE: testbed", "TB_MODE: drifted"))
