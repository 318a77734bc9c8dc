"""``plan`` lists every difference with its values (issue #16), through ``main()`` with the
gather fed from the live states recorded on the test bed; ``plan --version running``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.backstaff.test_exit_codes import Hosts, edit, run


def test_a_clear_env_edit_riding_with_a_new_version_shows_both_values(
    hosts: Hosts, capsys: pytest.CaptureFixture[str]
) -> None:
    hosts.scenario = "deployed-v1-envkeys"
    edit(lambda d: d["env"]["clear"].update(TB_GREETING="hello there"))
    code, out, _ = run(capsys, "--version", "v2", "plan")
    assert code == 0
    assert "-/+  app.web[10.254.0.11]  new version v1 → v2; env changed: TB_GREETING" in out
    assert '~ env.clear.TB_GREETING: "hello" → "hello there"  # forces replacement' in out
    data = json.loads(run(capsys, "--version", "v2", "plan", "--format", "json")[1])
    change = next(c for c in data["changes"] if c["address"] == "app.web[10.254.0.11]")
    assert {"path": "env.clear.TB_GREETING", "change": "changed", "before": "hello",
            "after": "hello there", "sensitive": False,
            "forces_replacement": True} in change["attributes"]  # fmt: skip


def test_a_rotated_secret_is_named_and_never_shown(
    hosts: Hosts, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = Path(".kamal/secrets")
    secrets.write_text(secrets.read_text().replace("s3cr3t-token-123", "rotated-token-789"))
    for fmt in ("text", "markdown", "json"):
        code, out, err = run(capsys, "--version", "v1", "plan", "--format", fmt)
        assert code == 0
        assert "SECRET_TOKEN" in out and "secret changed" in out.replace('"changed"', "changed")
        for value in ("rotated-token-789", "s3cr3t-token-123", "tbpass", "cache-pass-456"):
            assert value not in out + err
    out = run(capsys, "--version", "v1", "plan")[1]
    assert "~ env.secret.SECRET_TOKEN: (secret changed)" in out


def test_a_key_secret_on_the_host_and_clear_now_shows_only_its_new_value(
    hosts: Hosts, capsys: pytest.CaptureFixture[str]
) -> None:
    hosts.scenario = "deployed-v1-envkeys"

    def to_clear(data: dict) -> None:  # type: ignore[type-arg]
        data["env"]["secret"] = []
        data["env"]["clear"]["SECRET_TOKEN"] = "now-public"

    edit(to_clear)
    out = run(capsys, "--version", "v1", "plan")[1]
    assert '~ env.clear.SECRET_TOKEN: (not shown) → "now-public"' in out
    assert "s3cr3t-token-123" not in out


def test_plan_at_the_running_version(hosts: Hosts, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version", "running", "plan", "--detailed-exitcode")
    assert code == 0 and "backstaff plan: tb version v1" in out and "No changes." in out
    hosts.scenario = "deployed-v1-envkeys"
    edit(lambda d: d["env"]["clear"].update(TB_MODE="changed"))
    code, out, _ = run(capsys, "plan", "--version", "running", "--detailed-exitcode")
    assert code == 2 and "new version" not in out
    assert '~ env.clear.TB_MODE: "testbed" → "changed"' in out
    data = json.loads(run(capsys, "--version", "running", "plan", "--format", "json")[1])
    assert data["version"] == "v1" and data["summary"]["replace"] == 3


def test_running_is_for_plan_and_drift_only(
    hosts: Hosts, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "--version", "running", "drift")[0] == 0
    code, _, err = run(capsys, "--version", "running", "config")
    assert code == 1 and "--version running is read by `plan` and `drift` only" in err
    assert "Traceback" not in err
