"""Snapshot tests of the three renderings (fixtures/plans/). Regenerate after an intended
change with ``UPDATE_SNAPSHOTS=1 python -m pytest tests/planner/render``, then review the diff."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from typing import Any

import pytest

from backstaff.planner.live import LiveHost, LiveState, value_digest
from backstaff.planner.plan import Plan, Recorded, make_plan, plan_from_dict, plan_to_dict
from backstaff.planner.render import render
from tests.conftest import FIXTURES
from tests.json_schemas import errors
from tests.planner.scenarios import HOSTS, example, live

SNAPSHOTS = FIXTURES / "plans"


def _env(data: dict[str, Any]) -> None:
    data["env"]["clear"]["TB_MODE"] = "changed"


def _drop_workers(data: dict[str, Any]) -> None:
    del data["servers"]["workers"]


def _everything(data: dict[str, Any]) -> None:
    """A new version riding with env, label, option, volume and proxy edits (issue #16)."""
    data["env"]["clear"]["TB_GREETING"] = "hello there"
    data["env"]["clear"]["TB_NEW"] = "1"
    del data["env"]["clear"]["TB_MODE"]
    data["env"]["secret"].append("NEW_TOKEN")
    data["labels"] = {"team": "web"}
    data["servers"]["web"]["options"] = {"memory": "512m", "cap-add": "NET_ADMIN"}
    data["volumes"] = ["tb-data:/data"]
    data["proxy"]["host"] = "tb.example.com"
    data["proxy"]["path_prefix"] = "/app"
    data["accessories"]["cache"]["env"]["clear"]["CACHE_MODE"] = "lfu"


SCENARIOS: dict[str, tuple[str, str, Callable[[dict[str, Any]], None] | None]] = {
    "fresh": ("fresh", "v1", None),
    "up-to-date": ("deployed-v1", "v1", None),
    "new-version": ("deployed-v1", "v2", None),
    "new-version-attributes": ("deployed-v1-envkeys", "v2", _everything),
    "env-changed": ("deployed-v1", "v1", _env),
    "role-removed": ("deployed-v1", "v1", _drop_workers),
    "proxy-missing": ("proxy-missing", "v1", None),
    "lock-held": ("lock-held", "v2", None),
    "host-unread": ("deployed-v1", "v2", None),
    "nothing-read": ("deployed-v1", "v1", None),
}
REFUSED = "cannot connect on port 22: connection refused (nothing listens on that port)"
UNREAD = {"host-unread": {"10.254.0.13": REFUSED}, "nothing-read": dict.fromkeys(HOSTS, REFUSED)}
# The secrets' values as .kamal/secrets holds them now (digests only reach the planner):
# SECRET_TOKEN rotated, CACHE_PASSWORD as deployed.
SECRET_DIGESTS = {
    "new-version-attributes": {
        "SECRET_TOKEN": value_digest("rotated-token-789"),
        "CACHE_PASSWORD": value_digest("cache-pass-456"),
        "NEW_TOKEN": value_digest("new-token-000"),
    }
}


def build(name: str) -> Plan:
    scenario, version, change = SCENARIOS[name]
    state = live(scenario)
    unread = UNREAD.get(name, {})
    state = LiveState(
        tuple(
            LiveHost(h.host, error=unread[h.host]) if h.host in unread else h for h in state.hosts
        )
    )
    secrets = SECRET_DIGESTS.get(name)
    return make_plan(example(version, change), state, "config-digest", secrets=secrets)


def check(name: str, suffix: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.{suffix}"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        # a snapshot rewritten in CI would pass whatever it holds
        assert not os.environ.get("CI"), (
            "UPDATE_SNAPSHOTS is set in CI: snapshots would pass trivially"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"missing snapshot {path.name}: run with UPDATE_SNAPSHOTS=1"
    assert text == path.read_text()


@pytest.mark.parametrize("name", SCENARIOS)
def test_text(name: str) -> None:
    check(name, "txt", render(build(name), "text"))


@pytest.mark.parametrize("name", SCENARIOS)
def test_markdown(name: str) -> None:
    check(name, "md", render(build(name), "markdown"))


@pytest.mark.parametrize("name", SCENARIOS)
def test_json(name: str) -> None:
    text = render(build(name), "json")
    check(name, "json", text)
    assert errors("plan", json.loads(text)) == []


def recorded(name: str) -> Plan:
    """The plan as ``plan --live state.json`` makes it from a recording two hours old."""
    at = Recorded("state.json", "2026-12-04T01:00:00Z", 7260)
    return dataclasses.replace(build(name), recorded=at)


@pytest.mark.parametrize("suffix", ["txt", "md", "json"])
def test_a_plan_from_a_recording_says_so(suffix: str) -> None:
    fmt = {"txt": "text", "md": "markdown", "json": "json"}[suffix]
    text = render(recorded("env-changed"), fmt)
    check("env-changed-recorded", suffix, text)
    if fmt == "json":
        assert errors("plan", json.loads(text)) == []
    else:
        assert "state.json, recorded at 2026-12-04T01:00:00Z (2h 1m old when planned)" in text


def test_every_json_snapshot_validates_against_the_plan_schema() -> None:
    """Every JSON file among the snapshots, whichever test wrote it."""
    snapshots = sorted(SNAPSHOTS.glob("*.json"))
    assert len(snapshots) == len(SCENARIOS) + 1
    for path in snapshots:
        assert errors("plan", json.loads(path.read_text())) == [], path.name


def test_verbose_text_lists_every_step_and_command() -> None:
    check("new-version-verbose", "txt", render(build("new-version"), "text", verbose=True))


@pytest.mark.parametrize("plan", [build("fresh"), build("new-version-attributes"),
                                  recorded("env-changed")], ids=["fresh", "attributes", "recorded"])  # fmt: skip
def test_json_round_trip(plan: Plan) -> None:
    assert plan_from_dict(json.loads(render(plan, "json"))) == plan


EVERY_EDIT = (
    ('~ version: "v1" → "v2"', "version", "v1", "v2"),
    ('~ env.clear.TB_GREETING: "hello" → "hello there"', "env.clear.TB_GREETING", "hello",
     "hello there"),
    ('+ env.clear.TB_NEW: "1"', "env.clear.TB_NEW", None, "1"),
    ("- env.TB_MODE: (removed)", "env.TB_MODE", None, None),
    ("~ env.secret.SECRET_TOKEN: (secret changed)", "env.secret.SECRET_TOKEN", None, None),
    ("+ env.secret.NEW_TOKEN: (secret added)", "env.secret.NEW_TOKEN", None, None),
    ('+ labels.team: "web"', "labels.team", None, "web"),
    ('+ options.memory: "512m"', "options.memory", None, "512m"),
    ('+ options.cap-add: "NET_ADMIN"', "options.cap-add", None, "NET_ADMIN"),
    ('+ volumes: ["tb-data:/data"]', "volumes", None, ["tb-data:/data"]),
    ('~ proxy.hosts: "*" → "tb.example.com"', "proxy.hosts", "*", "tb.example.com"),
    ('~ proxy.path_prefixes: "/" → "/app"', "proxy.path_prefixes", "/", "/app"),
)  # fmt: skip


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_every_edit_riding_with_a_new_version_is_shown(fmt: str) -> None:
    text = render(build("new-version-attributes"), fmt)
    web = text.split("10.254.0.12")[0]  # the first host's section
    for line, *_ in EVERY_EDIT:
        assert line in web
    assert '~ env.clear.CACHE_MODE: "lru" → "lfu"' in text


def test_every_edit_is_in_the_json_attribute_list() -> None:
    data = plan_to_dict(build("new-version-attributes"))
    web = next(c for c in data["changes"] if c["address"] == "app.web[10.254.0.11]")
    attributes = {a["path"]: a for a in web["attributes"]}
    for _, path, before, after in EVERY_EDIT:
        assert (attributes[path]["before"], attributes[path]["after"]) == (before, after)
    assert attributes["env.secret.SECRET_TOKEN"]["sensitive"] is True
    assert attributes["env.secret.SECRET_TOKEN"]["change"] == "changed"
    assert attributes["version"]["forces_replacement"] is True
    assert attributes["proxy.hosts"]["forces_replacement"] is False


def test_json_is_versioned_with_steps_and_fingerprint() -> None:
    data = plan_to_dict(build("new-version"))
    assert data["format_version"] == 4
    assert data["summary"] == {"add": 0, "change": 0, "replace": 3, "destroy": 0}
    assert data["steps"][0]["id"] == "lock.acquire[10.254.0.11]"
    assert len(data["live_fingerprint"]) == 64


def test_no_secret_in_any_rendering() -> None:
    for name in SCENARIOS:
        plan = build(name)
        for fmt in ("text", "json", "markdown"):
            for secret in ("tbpass", "s3cr3t-token-123", "cache-pass-456", "rotated-token-789"):
                assert secret not in render(plan, fmt, verbose=True)


def test_masking_replaces_known_values() -> None:
    text = render(build("new-version"), "text", verbose=True, secrets=["TB_GREETING"])
    assert "TB_GREETING" not in text and "[REDACTED]" in text


def test_markdown_is_truncated_under_the_limit() -> None:
    from backstaff.planner.render.markdown import render_markdown

    text = render_markdown(build("fresh"), limit=1500)
    assert len(text) < 1500 and "truncated: " in text


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_an_incomplete_plan_says_so_and_names_the_hosts(fmt: str) -> None:
    for name, unread in UNREAD.items():
        text = render(build(name), fmt)
        assert "The hosts match the configuration" not in text
        if fmt == "json":
            data = json.loads(text)
            assert data["complete"] is False and data["unread_hosts"] == sorted(unread)
        else:
            assert "This plan is incomplete" in text
            assert f"could not be read ({', '.join(sorted(unread))})" in text
    complete = json.loads(render(build("up-to-date"), "json"))
    assert complete["complete"] is True and complete["unread_hosts"] == []
