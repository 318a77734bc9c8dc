"""``refresh --out`` and ``plan --live`` through ``main()``, the gather fed from the live
states recorded on the test bed (fixtures/live/: raw answers, secret values included)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from backstaff import planning
from backstaff.planner.live import value_digest
from tests.backstaff.test_exit_codes import REFUSED, Hosts, edit, run
from tests.conftest import FIXTURES
from tests.json_schemas import errors

SECRETS = ("tbpass", "s3cr3t-token-123", "cache-pass-456")
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
HOSTS = ["10.254.0.11", "10.254.0.12", "10.254.0.13"]


def refresh(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = run(capsys, *args, "refresh", "--out", "state.json")
    assert code == 0, err
    assert re.fullmatch(rf"Recorded 3 of 3 host\(s\) at {TIME} in state.json\n", out)
    return json.loads(Path("state.json").read_text())  # type: ignore[no-any-return]


def test_refresh_records_every_host_with_no_secret_value(
    hosts: Hosts, capsys: pytest.CaptureFixture[str]
) -> None:
    captured = "".join(p.read_text() for p in (FIXTURES / "live" / "deployed-v1").iterdir())
    # what the hosts answered holds the env secrets (the registry password never reaches them)
    assert "s3cr3t-token-123" in captured and "cache-pass-456" in captured
    data = refresh(capsys)
    text = Path("state.json").read_text()
    assert [secret for secret in SECRETS if secret in text] == []
    assert errors("refresh", data) == []
    assert (data["format_version"], data["kind"]) == (1, "backstaff-refresh")
    assert (data["service"], data["destination"]) == ("tb", None)
    assert re.fullmatch(TIME, data["recorded_at"])
    assert data["hosts"] == data["hosts_read"] == HOSTS and data["unread_hosts"] == []
    web = next(c for c in data["live"][0]["containers"] if c["name"].startswith("tb-web-"))
    env = dict(web["env"])
    # a clear value's digest is kept; a secret's is not even a digest (a recording may be
    # public, and a short digest of a weak secret can be reversed), nor the env files'
    assert re.fullmatch("[0-9a-f]{16}", env["TB_MODE"])
    assert env["SECRET_TOKEN"] == "(not recorded)"
    digests = {value_digest(s) for s in SECRETS} | {value_digest(s)[:8] for s in SECRETS}
    assert [d for d in digests if d in text] == []
    files = [f for host in data["live"] for f in host["envfiles"]]
    assert files and {digest for _, digest in files} == {"(not recorded)"}


def test_refresh_names_an_unread_host_and_exits_1(
    hosts: Hosts, capsys: pytest.CaptureFixture[str]
) -> None:
    hosts.unreachable = frozenset({"10.254.0.13"})
    code, out, err = run(capsys, "refresh", "--out", "state.json")
    assert code == 1 and f"! 10.254.0.13: {REFUSED}" in err and "Recorded 2 of 3 host(s)" in out
    data = json.loads(Path("state.json").read_text())
    assert data["hosts_read"] == HOSTS[:2]
    assert data["unread_hosts"] == [{"host": "10.254.0.13", "error": REFUSED}]
    assert errors("refresh", data) == []


def test_plan_live_gives_the_live_plan_without_connecting(
    hosts: Hosts, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    refresh(capsys)
    edit(lambda d: d["env"]["clear"].update(TB_MODE="changed"))
    code, out, _ = run(capsys, "--version", "v1", "plan", "--format", "json", "--detailed-exitcode")
    assert code == 2
    live = json.loads(out)
    monkeypatch.setattr(planning, "connection_pool", _refuse)
    code, out, _ = run(capsys, "--version", "v1", "plan", "--live", "state.json", "--format",
                       "json", "--detailed-exitcode")  # fmt: skip
    assert code == 2
    recorded = json.loads(out)
    assert recorded["changes"] == live["changes"] and recorded["changes"]
    assert recorded["steps"] == live["steps"]
    assert errors("plan", live) == [] and errors("plan", recorded) == []
    assert live["live_source"] == {"kind": "hosts"}
    source = recorded["live_source"]
    assert (source["kind"], source["file"]) == ("recording", "state.json")
    assert re.fullmatch(TIME, source["recorded_at"]) and 0 <= source["age_seconds"] < 60


def _refuse(*_: object) -> None:
    raise AssertionError("connected")


@pytest.mark.parametrize(
    ("fmt", "said"),
    [
        ("text", "! Planned from a recording, not from the hosts: state.json, recorded at "),
        ("markdown", "> :floppy_disk: **Planned from a recording, not from the hosts: state.json"),
    ],
)
def test_every_format_says_it_used_a_recording_and_how_old(
    hosts: Hosts, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    fmt: str, said: str,
) -> None:  # fmt: skip
    refresh(capsys)
    monkeypatch.setattr(planning, "connection_pool", _refuse)
    code, out, _ = run(capsys, "--version", "v2", "plan", "--live", "state.json", "--format", fmt)
    assert code == 0 and said in out
    assert re.search(r"\(\d+s old when planned\)\. Apply reads the hosts again", out)


def test_plan_live_runs_no_pre_connect_hook(
    hosts: Hosts, capsys: pytest.CaptureFixture[str]
) -> None:
    refresh(capsys)
    hook = Path(".kamal/hooks/pre-connect")
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\ntouch pre-connect-ran\n")
    hook.chmod(0o755)
    assert run(capsys, "--version", "v1", "plan", "--live", "state.json")[0] == 0
    assert not Path("pre-connect-ran").exists()
    assert run(capsys, "--version", "v1", "plan")[0] == 0
    assert Path("pre-connect-ran").exists()  # the hook does run before a live read


def test_plan_live_at_the_running_version(
    hosts: Hosts, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    refresh(capsys)
    monkeypatch.setattr(planning, "connection_pool", _refuse)
    code, out, _ = run(capsys, "--version", "running", "plan", "--live", "state.json")
    assert code == 0 and "backstaff plan: tb version v1" in out and "No changes." in out


def test_a_host_the_recording_lacks_is_unread(
    hosts: Hosts, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    refresh(capsys)
    monkeypatch.setattr(planning, "connection_pool", _refuse)
    code, out, _ = run(capsys, "--version", "v1", "plan", "--live", "state.json",
                       "--include-hosts", "10.254.0.99")  # fmt: skip
    assert code == 1 and "This plan is incomplete" in out
    assert "! 10.254.0.99: not in the recording state.json" in out


def test_a_recording_of_another_service_or_destination_is_refused(
    hosts: Hosts, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = refresh(capsys)
    monkeypatch.setattr(planning, "connection_pool", _refuse)
    Path("other.json").write_text(json.dumps({**data, "service": "other"}))
    code, out, err = run(capsys, "plan", "--live", "other.json")
    assert code == 1 and out == ""
    assert err == ("  ERROR: the recording other.json is of service other (no destination), not"
                   " of service tb (no destination): record it with `backstaff refresh` for"
                   " this one\n")  # fmt: skip
    Path("staging.json").write_text(json.dumps({**data, "destination": "staging"}))
    code, _, err = run(capsys, "plan", "--live", "staging.json")
    assert code == 1 and "is of service tb destination staging, not of service tb" in err


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("{", "not JSON"),
        ("[]", "not a backstaff recording"),
        (json.dumps({"kind": "backstaff-refresh", "format_version": 0}),
         "unsupported recording format_version 0 (expected 1)"),
        (json.dumps({"kind": "backstaff-refresh", "format_version": 1, "service": "tb",
                     "recorded_at": "x", "live": [{"host": 1}]}), "host: should be a string"),
        (json.dumps({"kind": "backstaff-refresh", "format_version": 1, "service": "tb",
                     "recorded_at": "yesterday", "live": []}), "recorded_at 'yesterday'"),
    ],
)  # fmt: skip
def test_a_bad_recording_is_one_clear_line(
    hosts: Hosts, capsys: pytest.CaptureFixture[str], content: str, said: str
) -> None:
    Path("bad.json").write_text(content)
    code, _, err = run(capsys, "plan", "--live", "bad.json")
    assert code == 1 and err.startswith("  ERROR: cannot read the recording bad.json: ")
    assert said in err and len(err.splitlines()) == 1 and "Traceback" not in err
    code, _, err = run(capsys, "plan", "--live", "missing.json")
    assert code == 1 and "cannot read the recording missing.json: No such file" in err


def test_apply_of_a_plan_from_a_recording_reads_the_hosts_and_refuses_a_change(
    hosts: Hosts, capsys: pytest.CaptureFixture[str]
) -> None:
    refresh(capsys)
    assert (
        run(capsys, "--version", "v2", "plan", "--live", "state.json", "--out", "plan.json")[0] == 0
    )
    assert json.loads(Path("plan.json").read_text())["live_source"]["kind"] == "recording"
    hosts.scenario = "lock-held"  # the hosts changed since the recording
    code, _, err = run(capsys, "apply", "-y", "plan.json")
    assert code == 1 and "refusing the saved plan: stale plan: the hosts changed" in err
    hosts.scenario = "deployed-v1"  # as recorded: the plan passes the check (then needs -y)
    code, _, err = run(capsys, "apply", "plan.json")
    assert code == 1 and "no terminal to confirm on" in err


def test_a_plan_from_a_recording_cannot_see_a_secret_change_so_apply_refuses_it(
    hosts: Hosts, capsys: pytest.CaptureFixture[str]
) -> None:
    """The recording keeps no secret digest: a rotated secret is not in a plan from it, and
    apply, which sees it, refuses that plan as not what is planned now."""
    refresh(capsys)
    secrets = Path(".kamal/secrets")
    secrets.write_text(secrets.read_text().replace("s3cr3t-token-123", "rotated-token-789"))
    code, out, _ = run(capsys, "--version", "v1", "plan", "--live", "state.json",
                       "--out", "plan.json")  # fmt: skip
    assert code == 0 and "SECRET_TOKEN" not in out
    code, out, _ = run(capsys, "--version", "v1", "plan")
    assert code == 0 and "secret changed: SECRET_TOKEN" in out  # what the hosts show
    code, _, err = run(capsys, "--version", "v1", "apply", "-y", "plan.json")
    assert code == 1 and "refusing the saved plan:" in err and "stale plan" not in err
