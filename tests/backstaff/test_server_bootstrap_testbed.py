"""``server bootstrap`` and ``setup`` against the real Kamal 2.11 (issue #15): docker is present
on the test bed's hosts, so neither installs anything, and both run the docker-setup hook once,
inside the lock, with the environment Kamal gives it (compared variable by variable). The
install and docker-group logic itself: tests/planner/commands/test_host_bootstrap.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backstaff.projects import enter, fresh_project, real_kamal, run_cli
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from fresh_project(testbed, tmp_path_factory, "bootstrap")


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


def hook_runs(project: Path, out: Path, run: object) -> list[dict[str, str]]:
    """Each docker-setup run's KAMAL_* variables (time and performer checked by shape)."""
    out.mkdir()
    hook = project / ".kamal" / "hooks" / "docker-setup"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(f"#!/bin/sh\nenv | sort > {out}/$(ls {out} | wc -l).env\n")
    hook.chmod(0o755)
    try:
        run()  # type: ignore[operator]
    finally:
        hook.unlink()
    runs = []
    for path in sorted(out.glob("*.env")):
        env = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        got = {k: v for k, v in env.items() if k.startswith("KAMAL_")}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", got.pop("KAMAL_RECORDED_AT"))
        assert got.pop("KAMAL_PERFORMER")
        runs.append(got)
    return runs


def kamal(project: Path, *args: str) -> None:
    done = real_kamal(project, *args)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr


def backstaff(capsys: pytest.CaptureFixture[str], *args: str) -> None:
    code, _, err = run_cli(capsys, *args)
    assert code == 0, err


@pytest.mark.parametrize("command", [["server", "bootstrap"], ["setup", "-P"]])
def test_docker_setup_hook_as_kamal(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    # backstaff first: on hosts with nothing deployed its setup has work to do (with nothing to
    # change it runs no hook at all; Kamal's always deploys again)
    ours = hook_runs(project, tmp_path / "backstaff",
                     lambda: backstaff(capsys, "--version", "v1", *command))  # fmt: skip
    theirs = hook_runs(project, tmp_path / "kamal", lambda: kamal(project, *command))
    assert len(theirs) == 1 and ours == theirs
    assert ours[0]["KAMAL_LOCK"] == "true"
    assert ours[0]["KAMAL_HOSTS"] == "10.254.0.11,10.254.0.12,10.254.0.13"
