"""plan, drift and details against real hosts: fresh, then deployed by the real Kamal 2.11."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from backstaff.cli import main
from tests.backstaff.projects import real_kamal
from tests.conftest import FIXTURES
from tests.schemas.helpers import kamal_yaml
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
SECRETS = ("tbpass", "s3cr3t-token-123", "cache-pass-456")


@pytest.fixture(scope="module")
def bed(testbed: Testbed) -> Iterator[Testbed]:
    testbed.reset()
    yield testbed
    testbed.reset()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURES / "example", tmp_path / "app")
    monkeypatch.chdir(tmp_path / "app")
    monkeypatch.setenv("BACKSTAFF_KNOWN_HOSTS", str(tmp_path / "known_hosts"))
    monkeypatch.delenv("VERSION", raising=False)
    return tmp_path / "app"


def backstaff(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    for secret in SECRETS:
        assert secret not in out + err
    return code, out, err


def edit(project: Path, change: Any) -> None:
    path = project / "config" / "deploy.yml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(kamal_yaml(data, sort_keys=False))


def test_1_plan_on_fresh_hosts(
    bed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = bed.command_counts()
    code, out, _ = backstaff(
        capsys, "--version", "v1", "plan", "--format", "json", "--detailed-exitcode"
    )
    after = bed.command_counts()
    assert code == 2
    plan = json.loads(out)
    assert {c["action"] for c in plan["changes"]} == {"create"}
    assert {c["address"] for c in plan["changes"]} >= {
        "app.web[10.254.0.11]", "app.web[10.254.0.12]", "app.workers[10.254.0.13]",
        "accessory.cache[10.254.0.13]", "proxy.kamal-proxy[10.254.0.11]",
    }  # fmt: skip
    assert {h: after[h] - before[h] for h in after} == {"h1": 1, "h2": 1, "h3": 1}


def test_2_plan_after_kamal_setup_is_empty(
    bed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = real_kamal(project, "setup", "-P", "--version=v1")
    assert done.returncode == 0, done.stdout[-2000:]
    code, out, _ = backstaff(capsys, "--version", "v1", "plan", "--detailed-exitcode")
    assert code == 0, out
    assert "No changes." in out
    code, out, err = backstaff(capsys, "drift")
    assert (code, out.splitlines()[-1:]) == (0, ["No drift: the hosts match the configuration."]), (
        err
    )


def _plan_in_a_new_process(version: str) -> tuple[int, bool]:
    """``plan``'s exit code from a fresh interpreter, and whether it loaded networkx."""
    code = (
        "import sys; from backstaff.cli import main;"
        f" code = main(['--version', {version!r}, 'plan', '--detailed-exitcode']);"
        " print(code, 'networkx' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    exit_code, loaded = done.stdout.split()[-2:]
    return int(exit_code), loaded == "True"


def test_2_a_plan_without_changes_does_not_load_networkx(bed: Testbed, project: Path) -> None:
    """Nothing to order (a drift check's plan): networkx's 0.07 s of CPU is not spent, and a
    plan with changes loads it."""
    assert _plan_in_a_new_process("v1") == (0, False)
    assert _plan_in_a_new_process("v2") == (2, True)


def test_3_changed_env_var(bed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(project, lambda d: d["env"]["clear"].update(TB_MODE="changed"))
    code, out, _ = backstaff(capsys, "--version", "v1", "plan", "--detailed-exitcode")
    assert code == 2
    for line in ("-/+  app.web[10.254.0.11]  env changed: TB_MODE",
                 "-/+  app.web[10.254.0.12]  env changed: TB_MODE",
                 "-/+  app.workers[10.254.0.13]  env changed: TB_MODE"):  # fmt: skip
        assert line in out
    assert "Plan: 0 to add, 0 to change, 3 to replace, 0 to destroy." in out


def test_4_removed_role(bed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def drop(data: dict[str, Any]) -> None:
        del data["servers"]["workers"]
        del data["accessories"]

    edit(project, drop)
    code, out, _ = backstaff(capsys, "--version", "v1", "plan", "--detailed-exitcode",
                             "--include-hosts", "10.254.0.13")  # fmt: skip
    assert code == 2
    assert "-  accessory.cache[10.254.0.13]  accessory removed from config [downtime]" in out
    assert "-  app.workers[10.254.0.13]      role removed from config" in out
    assert "Plan: 0 to add, 0 to change, 0 to replace, 2 to destroy." in out


def test_5_drift_after_a_manual_change(
    bed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h3 = bed.hosts[2]
    bed.docker(h3, "stop", "tb-workers-v1")
    try:
        code, out, _ = backstaff(capsys, "drift")
        assert code == 2
        assert "+ app.workers[10.254.0.13]: container tb-workers-v1 is exited" in out
    finally:
        bed.docker(h3, "start", "tb-workers-v1")


def test_6_unreachable_host_is_named_and_others_report(
    bed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(project, lambda d: d["env"]["clear"].update(TB_MODE="changed"))
    code, out, _ = backstaff(capsys, "--version", "v1", "plan", "--include-hosts", "10.254.0.99")
    assert code == 1
    assert "! 10.254.0.99: cannot connect on port 22" in out
    assert "app.web[10.254.0.11]  env changed: TB_MODE" in out


def test_7_saved_plan_and_details(
    bed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = backstaff(capsys, "--version", "v2", "plan", "--out", "plan.json")
    saved = json.loads((project / "plan.json").read_text())
    assert saved["format_version"] == 4 and len(saved["live_fingerprint"]) == 64
    assert not any(s in (project / "plan.json").read_text() for s in SECRETS)
    code, out, _ = backstaff(capsys, "details")
    assert code == 0
    assert "tb-web-v1" in out and "tb-workers-v1" in out and "tb-cache" in out and "tb-web" in out


def test_8_hosts_filter(bed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = backstaff(capsys, "-r", "workers", "--version", "v2", "plan")
    assert "app.workers[10.254.0.13]" in out and "app.web" not in out
