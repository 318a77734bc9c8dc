"""Shared by the test-bed CLI tests: a copy of the example project per module, the test
bed reset around it, and a CLI runner that fails the test if any secret value is printed."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from backstaff.cli import main
from tests.conftest import FIXTURES
from tests.testbed import Testbed, kamal_env

SECRETS = ("tbpass", "s3cr3t-token-123", "cache-pass-456")


def fresh_project(testbed: Testbed, factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    testbed.reset()
    path = factory.mktemp(name) / "app"
    shutil.copytree(FIXTURES / "example", path)
    yield path
    testbed.reset()


def enter(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    monkeypatch.setenv("BACKSTAFF_KNOWN_HOSTS", str(project.parent / "known_hosts"))
    monkeypatch.delenv("VERSION", raising=False)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    for secret in SECRETS:
        assert secret not in out + err
    return code, out, err


def real_kamal(
    project: Path, *args: str, version: str = "v1", timeout: int = 300
) -> subprocess.CompletedProcess[str]:
    """The real Kamal in the project, trusting the test bed's current host keys (not the
    user's known_hosts); outside git it needs $VERSION for anything that takes the lock."""
    return subprocess.run(["kamal", *args], cwd=project, capture_output=True, text=True,
                          timeout=timeout, env={**kamal_env(), "VERSION": version})  # fmt: skip
