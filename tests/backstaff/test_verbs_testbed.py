"""Kamal's verbs on the test bed: maintenance/live, accessory reboot, version, audit, dry runs,
build (docker build + push, the local docker talking to a test host's daemon), remove."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.backstaff.projects import enter, fresh_project, run_cli
from tests.schemas.helpers import kamal_yaml
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from fresh_project(testbed, tmp_path_factory, "verbs")


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


backstaff = run_cli


def fetch(host: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://{host}/", timeout=10) as response:
            return response.status, response.read().decode().strip()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode().strip()


def test_1_setup(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert backstaff(capsys, "--version", "v1", "setup", "-P")[0] == 0
    assert fetch("10.254.0.11") == (200, "tb v1")


def test_2_maintenance_and_live(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = backstaff(capsys, "app", "maintenance", "--message", "Back soon", "--dry-run")
    assert code == 0 and "kamal-proxy stop tb-web" in out and fetch("10.254.0.11")[0] == 200
    assert backstaff(capsys, "app", "maintenance", "--message", "Back soon")[0] == 0
    assert fetch("10.254.0.11") == (503, "Back soon") and fetch("10.254.0.12") == (503, "Back soon")
    code, out, _ = backstaff(capsys, "--version", "v1", "plan")
    assert "route is stopped (maintenance)" in out
    assert backstaff(capsys, "app", "live")[0] == 0
    assert fetch("10.254.0.11") == (200, "tb v1")


def test_3_accessory_reboot(testbed: Testbed, capsys: pytest.CaptureFixture[str]) -> None:
    h3 = testbed.hosts[2]
    before = testbed.docker(h3, "ps", "-q", "--filter", "name=^tb-cache$").strip()
    code, _, err = backstaff(capsys, "accessory", "reboot", "cache")
    assert code == 0, err
    after = testbed.docker(h3, "ps", "-q", "--filter", "name=^tb-cache$").strip()
    assert after and after != before
    code, out, _ = backstaff(capsys, "accessory", "details", "all")
    assert "tb-cache" in out
    code, _, err = backstaff(capsys, "accessory", "reboot", "nope")
    assert code == 1 and "No accessory by the name of 'nope'" in err


def test_4_version_audit_details(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = backstaff(capsys, "app", "version")
    assert code == 0 and out.count("\nv1\n") == 3
    code, out, _ = backstaff(capsys, "audit")
    assert "[web] Booted app version v1" in out and "Booted cache accessory" in out
    code, out, _ = backstaff(capsys, "app", "details")
    assert "tb-web-v1" in out
    code, out, _ = backstaff(capsys, "app", "exec", "cat /www/index.html")
    assert out.count("tb v1") == 3


def test_5_build_push_and_deploy(testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """`deploy` without -P builds and pushes with the local docker client (pointed at a test
    host's dockerd, as there is no local daemon here), then deploys what it built."""
    monkeypatch.setenv("DOCKER_HOST", testbed.hosts[0].docker_socket)
    monkeypatch.setenv("DOCKER_CONFIG", str(project.parent / "docker-config"))
    (project / "Dockerfile").write_text(
        "FROM 10.254.0.2:5000/tb/app:v1\nCOPY index.html /www/index.html\n"
    )
    (project / "index.html").write_text("tb built\n")
    config = project / "config" / "deploy.yml"
    data = yaml.safe_load(config.read_text())
    data["builder"]["driver"] = "docker"
    config.write_text(kamal_yaml(data, sort_keys=False))
    code, out, err = backstaff(capsys, "--version", "built1", "deploy", "--no-cache")
    assert code == 0, err
    assert fetch("10.254.0.11") == (200, "tb built")
    assert "docker build --platform linux/amd64 -t 10.254.0.2:5000/tb/app:built1" in out
    assert "--no-cache ." in out  # deploy --no-cache reaches the build, as in Kamal


def test_5b_hooks_and_json_events(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hooks = project / ".kamal" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    for name in ("pre-connect", "pre-deploy", "pre-app-boot", "post-app-boot", "post-deploy"):
        hook = hooks / name
        hook.write_text(f'#!/bin/sh\necho "{name} $KAMAL_COMMAND $KAMAL_VERSION $KAMAL_SERVICE_VERSION'
                        f' $KAMAL_HOSTS $KAMAL_LOCK ${{KAMAL_RUNTIME:-}}" >> "{project}/hooks.log"\n')  # fmt: skip
        hook.chmod(0o755)
    code, out, _ = backstaff(capsys, "--version", "v2", "deploy", "-P", "--format", "json")
    assert code == 0
    events = [line for line in out.splitlines() if line.startswith("{")]
    assert '"event": "start"' in events[0] and any(
        '"step": "app.boot.web[10.254.0.11]"' in e for e in events
    )
    lines = (project / "hooks.log").read_text().splitlines()
    assert [line.split()[0] for line in lines] == [
        "pre-connect", "pre-deploy", "pre-app-boot", "post-app-boot", "post-deploy",
    ]  # fmt: skip
    assert lines[1].startswith("pre-deploy deploy v2 tb@v2 ") and " true" in lines[1]
    assert lines[-1].split()[-1].isdigit()  # KAMAL_RUNTIME
    code, _, _ = backstaff(capsys, "-H", "--version", "v1", "deploy", "-P")
    assert code == 0 and len((project / "hooks.log").read_text().splitlines()) == 5  # skipped


def test_6_remove(testbed: Testbed, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = backstaff(capsys, "remove", "--dry-run")
    assert code == 0 and "docker logout 10.254.0.2:5000" in out
    assert backstaff(capsys, "remove", "-y")[0] == 0
    for host in testbed.hosts:
        assert testbed.docker(host, "ps", "-aq").strip() == ""
    code, out, _ = backstaff(capsys, "--version", "v1", "plan", "--format", "json")
    assert '"action": "delete"' not in out and '"app.web[10.254.0.11]"' in out
