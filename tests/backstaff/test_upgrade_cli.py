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


def test_rolling_upgrade_goes_host_by_host(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kamal's --rolling: each host in turn, its proxy part where it is an app host, then its
    accessories where it is an accessory host (the parts run for real on the test bed in
    test_upgrade_testbed.py; here only what runs where)."""
    from backstaff import commands_accessory, commands_upgrade

    calls: list[tuple[str, ...]] = []

    def steps(ctx: object, app: object, steps: list[object], **_: object) -> None:
        calls.append(("steps", *(s.id for s in steps)))  # type: ignore[attr-defined]

    def apply(ctx: object, app: object, **options: object) -> int:
        calls.append(("apply", *ctx.selection.hosts))  # type: ignore[attr-defined]
        return 0

    monkeypatch.setattr(commands_upgrade, "run_steps", steps)
    monkeypatch.setattr(commands_accessory, "run_steps", steps)
    monkeypatch.setattr(commands_upgrade, "run_apply", apply)
    assert main(["upgrade", "--rolling", "-y"]) == 0
    assert calls == [
        ("steps", "registry.login[10.254.0.11]", "proxy.upgrade[10.254.0.11]"),
        ("apply", "10.254.0.11"),
        ("steps", "registry.login[10.254.0.12]", "proxy.upgrade[10.254.0.12]"),
        ("apply", "10.254.0.12"),
        ("steps", "registry.login[10.254.0.13]", "proxy.upgrade[10.254.0.13]"),
        ("apply", "10.254.0.13"),
        ("steps", "registry.login[10.254.0.13]", "network.kamal[10.254.0.13]",
         "accessory.reboot.cache[10.254.0.13]"),
    ]  # fmt: skip
    out = capsys.readouterr().out
    assert out.index("Upgrading 10.254.0.11...") < out.index("Upgraded 10.254.0.13")
