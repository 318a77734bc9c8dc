"""The example project with the hosts' answers taken from states recorded on the test bed
(fixtures/live/), so backstaff's real commands make the plans and drift reports the CI
scripts post, with no host."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

from backstaff import planning
from backstaff.cli import main
from backstaff.planner.live import LiveState
from backstaff.planner.model import App
from tests.conftest import FIXTURES
from tests.planner.scenarios import live
from tests.schemas.helpers import kamal_yaml


class Project:
    """``backstaff`` run in process in a copy of fixtures/example, its hosts recorded."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root = root
        self.capsys = capsys
        self.scenario = "deployed-v1"

    def gather(self, app: App, hosts: Iterable[str], pool: object) -> LiveState:
        return live(self.scenario)

    def backstaff(self, *args: str) -> tuple[int, str]:
        """Exit code and standard output of ``backstaff ARGS``."""
        self.capsys.readouterr()
        code = main(list(args))
        return code, self.capsys.readouterr().out

    def edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        path = self.root / "config" / "deploy.yml"
        data = yaml.safe_load(path.read_text())
        change(data)
        path.write_text(kamal_yaml(data, sort_keys=False))


@pytest.fixture
def project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Project:
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "example", root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("VERSION", raising=False)
    answers = Project(root, capsys)
    monkeypatch.setattr(planning, "gather", answers.gather)
    return answers
