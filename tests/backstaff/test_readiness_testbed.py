"""The boot of a role without the proxy (the example's workers) on the test bed: running through
``readiness_delay`` and still running after it, as Kamal's poller has it
(``planner/commands/app.wait_ready``). The delay's timer runs while the first status check
does; these tests hold what that must not change: the delay is waited in full, a container
stopped during it fails the boot (the old one keeps running), a healthy container is ready at
once, and the timer in the background never keeps the boot's SSH session open."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backstaff.projects import enter, fresh_project, run_cli
from tests.conftest import FIXTURES
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
WORKER = "10.254.0.13"
BOOT = f"app.boot.workers[{WORKER}]"


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from fresh_project(testbed, tmp_path_factory, "readiness")


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


def configure(project: Path, workers: str, settings: str) -> None:
    """The example's config with these lines for the workers role, and these settings."""
    example = (FIXTURES / "example" / "config" / "deploy.yml").read_text()
    assert "    cmd: tb-worker 5\n" in example
    deploy = project / "config" / "deploy.yml"
    deploy.write_text(example.replace("    cmd: tb-worker 5\n", workers) + settings)


def apply(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, float], str]:
    """The verb's exit status, the seconds of each step that finished, and its stderr."""
    code, out, err = run_cli(capsys, *args, "--format", "json")
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return code, {e["step"]: e["seconds"] for e in events if e["event"] == "done"}, err


def workers(testbed: Testbed) -> str:
    host = next(h for h in testbed.hosts if h.address == WORKER)
    return testbed.docker(
        host, "ps", "--filter", "name=tb-workers", "--format", "{{.Names}}"
    ).strip()


def test_the_delay_is_waited_in_full(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(project, "    cmd: tb-worker 5\n", "readiness_delay: 3\n")
    code, seconds, err = apply(capsys, "--version", "v1", "setup", "-P")
    assert code == 0, err
    assert seconds[BOOT] >= 3.0
    assert workers(testbed) == "tb-workers-v1"


def test_a_container_stopping_during_the_delay_fails_the_boot(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Running at the first check, exited at the second (stopped from outside while the delay
    runs: a container that exits on its own is restarted, ``--restart unless-stopped``): not
    ready, retried until ``deploy_timeout``, then the new container is stopped and the old one
    keeps running."""
    configure(project, "    cmd: tb-worker 5\n", "readiness_delay: 3\ndeploy_timeout: 5\n")
    host = next(h for h in testbed.hosts if h.address == WORKER)

    def stop_once_running() -> None:
        for _ in range(200):
            if testbed.docker(host, "ps", "-q", "--filter", "name=^tb-workers-v2$").strip():
                time.sleep(0.5)
                testbed.docker(host, "stop", "-t", "0", "tb-workers-v2")
                return
            time.sleep(0.05)

    stopper = threading.Thread(target=stop_once_running)
    stopper.start()
    try:
        code, _, err = apply(capsys, "--version", "v2", "deploy", "-P", "-r", "workers")
    finally:
        stopper.join()
    assert code == 1
    assert "container not ready after 5 seconds (exited)" in err
    assert workers(testbed) == "tb-workers-v1"


def test_a_healthy_container_is_ready_without_the_delay(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docker's own health check passes within a few seconds; the boot ends then, not after the
    delay: the timer left in the background is stopped, and with its output closed it never
    held the SSH session open until it ran out."""
    role = (
        '    cmd: tb-worker 5\n    options:\n      health-cmd: "true"\n      health-interval: 1s\n'
    )
    configure(project, role, "readiness_delay: 30\ndeploy_timeout: 60\n")
    code, seconds, err = apply(capsys, "--version", "v3", "deploy", "-P", "-r", "workers")
    assert code == 0, err
    assert seconds[BOOT] < 20
    assert workers(testbed) == "tb-workers-v3"
