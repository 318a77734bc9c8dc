"""Real deploys on the test bed with backstaff, and interop with the real Kamal 2.11 both ways."""

from __future__ import annotations

import re
import signal
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.backstaff.projects import enter, fresh_project, real_kamal, run_cli
from tests.backstaff.terminal import Pane, tmux_server
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
WEB = ("10.254.0.11", "10.254.0.12")


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from fresh_project(testbed, tmp_path_factory, "apply")


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


backstaff = run_cli


kamal = real_kamal


tmux_session = contextmanager(tmux_server)


def served(host: str) -> str:
    with urllib.request.urlopen(f"http://{host}/", timeout=10) as response:
        return response.read().decode().strip()


def test_00_a_missing_accessory_file_stops_before_any_step(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kamal raises "Missing file" at the upload, after the proxy and the app booted; backstaff's
    plan says so, apply refuses it before any step runs (the lock given back), and nothing on the
    hosts changes."""
    conf = project / "config" / "cache.conf"
    kept = conf.read_bytes()
    conf.unlink()
    try:
        planned = backstaff(capsys, "--version", "v1", "plan")
        code, _, err = backstaff(capsys, "--version", "v1", "setup", "-P")
    finally:
        conf.write_bytes(kept)
    missing = "accessory.boot.cache[10.254.0.13]: missing file config/cache.conf"
    assert planned[0] == 0 and f"! {missing}" in planned[1]
    assert code == 1
    assert f"cannot apply: {missing}" in err
    assert "Traceback" not in err
    for host in testbed.hosts:
        assert testbed.docker(host, "ps", "-aq") == ""
        assert not (Path(host.directory) / "root/.kamal/lock-tb").exists()


def test_00b_an_unreadable_secret_stops_before_any_step(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kamal finds a missing secret where it writes the env file (the accessory's, after the
    proxy booted); backstaff refuses the plan before any step runs, in Kamal's words."""
    secrets = project / ".kamal" / "secrets"
    kept = secrets.read_text()
    secrets.write_text(kept.replace("CACHE_PASSWORD=", "OTHER="))
    try:
        code, _, err = backstaff(capsys, "--version", "v1", "setup", "-P")
    finally:
        secrets.write_text(kept)
    assert code == 1
    assert "cannot apply: Secret 'CACHE_PASSWORD' not found in .kamal/secrets" in err
    assert "ConfigErrors" not in err and "Traceback" not in err
    for host in testbed.hosts:
        assert testbed.docker(host, "ps", "-aq") == ""
        assert not (Path(host.directory) / "root/.kamal/lock-tb").exists()


def test_01_setup(testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = backstaff(capsys, "--version", "v1", "setup", "-P")
    assert code == 0, err
    assert [served(h) for h in WEB] == ["tb v1", "tb v1"]
    env_file = Path(testbed.hosts[0].directory) / "root/.kamal/apps/tb/env/roles/web.env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    assert env_file.read_text() == "SECRET_TOKEN=s3cr3t-token-123\n"
    audit = (Path(testbed.hosts[0].directory) / "root/.kamal/tb-audit.log").read_text()
    assert "[web] Booted app version v1" in audit
    assert backstaff(capsys, "--version", "v1", "plan", "--detailed-exitcode")[0] == 0


def test_02_kamal_reads_what_backstaff_deployed(project: Path) -> None:
    details = kamal(project, "app", "details")
    assert details.returncode == 0 and "tb-web-v1" in details.stdout
    status = kamal(project, "lock", "status")
    assert status.returncode == 0 and "There is no deploy lock" in status.stdout


def audit_lines(testbed: Testbed) -> list[list[str]]:
    """Each host's audit log, a line a list item."""
    logs = [Path(h.directory) / "root/.kamal/tb-audit.log" for h in testbed.hosts]
    return [log.read_text().splitlines() for log in logs]


def written(before: list[list[str]], testbed: Testbed) -> list[list[str]]:
    """The lines each host's audit log got since ``before``, without their time and user, and
    with the random part of a renamed version left out."""
    after = audit_lines(testbed)
    lines = [host[len(old) :] for old, host in zip(before, after, strict=True)]
    return [[re.sub(r"_replaced_[0-9a-f]{16}\b", "_replaced_*", line.split("] ", 2)[2])
             for line in host] for host in lines]  # fmt: skip


KAMAL_ROLLBACK: list[list[str]] = []  # what Kamal's rollback wrote to the audit logs


def test_03_deploy_and_kamal_rollback(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert backstaff(capsys, "--version", "v2", "deploy", "-P")[0] == 0
    assert [served(h) for h in WEB] == ["tb v2", "tb v2"]
    before = audit_lines(testbed)
    rolled = kamal(project, "rollback", "v1")
    assert rolled.returncode == 0, rolled.stdout[-2000:]
    KAMAL_ROLLBACK[:] = written(before, testbed)
    assert [served(h) for h in WEB] == ["tb v1", "tb v1"]
    assert backstaff(capsys, "--version", "v1", "plan", "--detailed-exitcode")[0] == 0


def test_04_backstaff_rollback(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert backstaff(capsys, "--version", "v2", "deploy", "-P")[0] == 0
    before = audit_lines(testbed)
    code, out, err = backstaff(capsys, "rollback", "v1")
    assert code == 0, err
    assert [served(h) for h in WEB] == ["tb v1", "tb v1"]
    # Kamal's lines, in Kamal's order: the rename of the version's stopped container first
    assert written(before, testbed) == KAMAL_ROLLBACK
    assert KAMAL_ROLLBACK[2][:2] == ["[workers] Renaming container v1 to v1_replaced_*",
                                     "[workers] Booted app version v1"]  # fmt: skip
    code, _, err = backstaff(capsys, "rollback", "v9")
    assert code == 1 and "The app version 'v9' is not available as a container" in err


def test_05_failed_health_check_keeps_the_old_version(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = backstaff(capsys, "--version", "bad", "deploy", "-P")
    assert code == 1
    assert "target failed to become healthy" in err
    assert "Run `backstaff plan` to see what is left." in err
    assert [served(h) for h in WEB] == ["tb v1", "tb v1"]
    assert "There is no deploy lock" in backstaff(capsys, "lock", "status")[1]
    code, out, _ = backstaff(capsys, "--version", "bad", "plan", "--detailed-exitcode")
    assert code == 2 and "app.web[10.254.0.11]  new version v1 → bad" in out


def test_06_lock_held_refuses_apply(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert backstaff(capsys, "--version", "v1", "lock", "acquire", "-m", "Investigating")[0] == 0
    try:
        status = kamal(project, "lock", "status")
        assert "Message: Investigating" in status.stdout
        code, _, err = backstaff(capsys, "--version", "v2", "deploy", "-P")
        assert code == 1 and "Deploy lock found" in err
        code, _, err = backstaff(capsys, "lock", "acquire", "-m", "again")
        assert code == 1 and "Deploy lock already in place!" in err
    finally:
        assert backstaff(capsys, "lock", "release")[0] == 0
    assert [served(h) for h in WEB] == ["tb v1", "tb v1"]


@pytest.mark.parametrize("leaving", ["no at the prompt", "SIGTERM at the prompt"])
def test_06b_the_lock_is_held_from_the_read_through_the_prompt(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str], leaving: str
) -> None:
    """Kamal takes the lock before it reads the hosts, and so does backstaff: while a plan waits
    at the prompt, no other deploy can run and make it stale. Leaving at the prompt (no, or a CI
    runner's cancel) gives the lock back and changes nothing."""
    with tmux_session():
        pane = Pane(project, "apply", "--version", "v2", "apply", prompt=False)
        pane.wait_for(r"Apply these changes\? \[y/N\]")
        status = kamal(project, "lock", "status")
        assert "Version: v2" in status.stdout and "Message: Automatic deploy lock" in status.stdout
        code, _, err = backstaff(capsys, "--version", "v3", "deploy", "-P")
        assert code == 1 and "Deploy lock found" in err
        if leaving == "no at the prompt":
            pane.finish("n", 130)
        else:
            pane.signal(signal.SIGTERM)
            pane.ended(130)
    assert "There is no deploy lock" in backstaff(capsys, "lock", "status")[1]
    assert [served(h) for h in WEB] == ["tb v1", "tb v1"]
    assert backstaff(capsys, "--version", "v1", "plan", "--detailed-exitcode")[0] == 0


def test_07_apply_needs_confirmation_or_a_current_plan(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = backstaff(capsys, "--version", "v2", "apply")
    assert code == 1 and "pass -y/--auto-approve" in err
    assert backstaff(capsys, "--version", "v2", "plan", "--out", "v2.json")[0] == 0
    testbed.docker(testbed.hosts[2], "stop", "tb-cache")
    code, _, err = backstaff(capsys, "apply", "v2.json", "-y")
    assert code == 1 and "stale plan" in err
    assert backstaff(capsys, "--version", "v1", "apply", "-y")[0] == 0  # restarts the accessory
    assert backstaff(capsys, "--version", "v2", "plan", "--out", "v2.json")[0] == 0
    code, out, err = backstaff(capsys, "apply", "v2.json", "-y")
    assert code == 0, err
    assert [served(h) for h in WEB] == ["tb v2", "tb v2"]


def test_08_backstaff_deploys_onward_from_kamal(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    testbed.reset()
    setup = kamal(project, "setup", "-P", "--version=v1")
    assert setup.returncode == 0, setup.stdout[-2000:]
    code, _, err = backstaff(capsys, "--version", "v2", "deploy", "-P")
    assert code == 0, err
    assert [served(h) for h in WEB] == ["tb v2", "tb v2"]
    assert kamal(project, "app", "details").returncode == 0
