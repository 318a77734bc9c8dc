"""``accessory upgrade`` as Kamal 2.11's: a reboot (registry login, kamal network, pull, stop,
remove, boot) of the accessory on every accessory host at once, or host by host with
--rolling; ``upgrade`` and ``accessory upgrade`` ask first unless -y."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from backstaff.cli import main
from tests.conftest import FIXTURES


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURES / "example", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_accessory_upgrade_reboots_on_the_kamal_network(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["accessory", "upgrade", "all", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Upgrading all accessories on 10.254.0.13..." in out
    order = [line.split(":")[0].split(". ", 1)[1] for line in out.splitlines()
             if line.startswith("  ") and ". " in line and "[" in line]  # fmt: skip
    assert order == ["lock.acquire[10.254.0.11]", "registry.login[10.254.0.13]",
                     "network.kamal[10.254.0.13]", "accessory.reboot.cache[10.254.0.13]",
                     "lock.release[10.254.0.11]"]  # fmt: skip
    assert "--network kamal" in out


def test_upgrades_ask_first(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["upgrade"]) != 0  # no terminal to answer: aborted, nothing done
    assert "replace Traefik with kamal-proxy" in capsys.readouterr().out
    assert main(["accessory", "upgrade", "cache"]) != 0
    assert "This will restart all accessories" in capsys.readouterr().out
