"""The refresh recording round-trips every live state exactly (same plan, same fingerprint),
and a file that is not one is refused naming the field."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from backstaff.planner.live import LiveContainer, LiveHost, LiveRoute, LiveState
from backstaff.planner.recording import (
    Recording,
    RecordingFormatError,
    recording_from_dict,
    recording_to_dict,
)
from tests.conftest import FIXTURES, ROOT
from tests.planner.scenarios import live

SCENARIOS = sorted(p.name for p in (FIXTURES / "live").iterdir() if p.is_dir())


def _through_json(state: LiveState) -> Recording:
    data = recording_to_dict(Recording("tb", "staging", "2026-12-04T01:45:12Z", state))
    return recording_from_dict(json.loads(json.dumps(data)))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_recorded_state_round_trips_exactly(scenario: str) -> None:
    state = live(scenario)
    back = _through_json(state)
    assert back.live == state and back.live.fingerprint() == state.fingerprint()
    assert (back.service, back.destination, back.recorded_at) == (
        "tb", "staging", "2026-12-04T01:45:12Z"
    )  # fmt: skip


def test_unread_hosts_and_unknowns_round_trip() -> None:
    state = LiveState((LiveHost("a", error="refused"), LiveHost("b", routes=None,
                       registry_login=None), LiveHost("c", routes=(), registry_login=False)))  # fmt: skip
    assert _through_json(state).live == state
    data = recording_to_dict(Recording("tb", None, "t", state))
    assert data["hosts_read"] == ["b", "c"]
    assert data["unread_hosts"] == [{"host": "a", "error": "refused"}]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda d: d.update(kind="x"), "not a backstaff recording"),
        (lambda d: d.update(format_version=2), "unsupported recording format_version 2"),
        (lambda d: d["live"][0].update(networks="kamal"), "networks: should be a list of strings"),
        (lambda d: d["live"][0].update(images=[["a"]]), "images: should be a list of [name, value]"),
        (lambda d: d["live"][0].update(lock_known="yes"), "lock_known: should be true or false"),
        (lambda d: d["live"][0].update(registry_login=1), "registry_login: should be true, false"),
        (lambda d: d["live"][0]["containers"][0].pop("name"), "missing field 'name'"),
        (lambda d: d["live"][0]["routes"][0].update(tls="yes"), "tls: should be true or false"),
        (lambda d: d.pop("service"), "missing field 'service'"),
    ],
)  # fmt: skip
def test_a_bad_field_is_refused_by_name(change: object, said: str) -> None:
    data = recording_to_dict(Recording("tb", None, "t", live("deployed-v1")))
    change(data)  # type: ignore[operator]
    with pytest.raises(RecordingFormatError, match=re.escape(said)):
        recording_from_dict(data)


def test_every_field_of_the_live_state_is_recorded() -> None:
    """A field added to LiveHost, LiveContainer or LiveRoute must be added to the recording
    (and its schema), or a plan from a recording would differ from the live one."""
    host = live("deployed-v1").hosts[0]
    data = recording_to_dict(Recording("tb", None, "t", LiveState((host,))))["live"][0]
    assert set(data) == {f.name for f in dataclasses.fields(LiveHost)}
    assert set(data["containers"][0]) == {f.name for f in dataclasses.fields(LiveContainer)}
    assert set(data["routes"][0]) == {f.name for f in dataclasses.fields(LiveRoute)}
    schema = json.loads((ROOT / "docs" / "schemas" / "refresh.schema.json").read_text())
    defs = schema["$defs"]
    assert set(defs["host"]["required"]) == set(data)
    assert set(defs["container"]["required"]) == set(data["containers"][0])
    assert set(defs["route"]["required"]) == set(data["routes"][0])
