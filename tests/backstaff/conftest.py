"""Fixtures shared by the CLI tests of tests/backstaff/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from backstaff import applying, planning
from backstaff.executors.deploy_lock import DeployLock
from tests.backstaff.test_exit_codes import Hosts
from tests.conftest import FIXTURES


@pytest.fixture
def hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hosts:
    """The example project in ``tmp_path``; the hosts (and the deploy lock) answer as recorded in
    fixtures/live."""
    shutil.copytree(FIXTURES / "example", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VERSION", raising=False)
    answers = Hosts()
    monkeypatch.setattr(planning, "gather", answers.gather)
    monkeypatch.setattr(applying, "gather", answers.gather)
    monkeypatch.setattr(
        DeployLock,
        "take",
        lambda lock, unreachable=frozenset(): answers.take_lock(lock, unreachable),
    )
    monkeypatch.setattr(DeployLock, "give_back", lambda lock: answers.give_back_lock(lock))
    return answers
