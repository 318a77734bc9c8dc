"""Fixtures shared by the CLI tests of tests/backstaff/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from backstaff import applying, planning
from tests.backstaff.test_exit_codes import Hosts
from tests.conftest import FIXTURES


@pytest.fixture
def hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Hosts:
    """The example project in ``tmp_path``; the hosts answer as recorded in fixtures/live."""
    shutil.copytree(FIXTURES / "example", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VERSION", raising=False)
    answers = Hosts()
    monkeypatch.setattr(planning, "gather", answers.gather)
    monkeypatch.setattr(applying, "gather", answers.gather)
    return answers
