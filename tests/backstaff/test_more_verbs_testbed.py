"""The remaining Kamal verbs, each run for real on the test bed and checked for its effect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backstaff.cli import main
from tests.backstaff.projects import enter, fresh_project
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from fresh_project(testbed, tmp_path_factory, "more")


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


def ok(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, f"{args}: {err}"
    assert "tbpass" not in out + err
    return out


def names(bed: Testbed, host: int, *filters: str) -> list[str]:
    return bed.docker(bed.hosts[host], "ps", "--format", "{{.Names}}", *filters).split()


def test_registry_server_and_setup(testbed: Testbed, capsys: pytest.CaptureFixture[str]) -> None:
    ok(
        capsys, "registry", "login", "-L"
    )  # -L: the local docker client cannot log in to a plain-http registry off loopback
    config = Path(testbed.hosts[0].directory) / "root/.docker/config.json"
    assert "10.254.0.2:5000" in config.read_text()
    ok(capsys, "registry", "logout", "-L")
    assert "10.254.0.2:5000" not in config.read_text()
    assert "h3" in ok(capsys, "-h", "10.254.0.13", "server", "exec", "hostname")
    ok(capsys, "server", "bootstrap")
    ok(capsys, "--version", "v1", "setup", "-P")


def test_app_stop_start_and_listings(testbed: Testbed, capsys: pytest.CaptureFixture[str]) -> None:
    ok(capsys, "-r", "workers", "app", "stop")
    assert "tb-workers-v1" not in names(testbed, 2)
    assert "tb-workers-v1" in ok(capsys, "app", "containers")
    ok(capsys, "-r", "workers", "app", "start")
    assert "tb-workers-v1" in names(testbed, 2)
    assert "10.254.0.2:5000/tb/app" in ok(capsys, "app", "images")
    assert "worker hello" in ok(capsys, "-r", "workers", "app", "logs", "-n", "5")
    assert "No stale" not in ok(capsys, "app", "stale_containers")


def test_accessory_stop_start_restart_logs_exec(
    testbed: Testbed, capsys: pytest.CaptureFixture[str]
) -> None:
    ok(capsys, "accessory", "stop", "cache")
    assert "tb-cache" not in names(testbed, 2)
    ok(capsys, "accessory", "start", "cache")
    ok(capsys, "accessory", "restart", "cache")
    assert "tb-cache" in names(testbed, 2)
    assert "maxmemory 16mb" in ok(capsys, "accessory", "exec", "cache", "cat /etc/cache.conf")
    ok(capsys, "accessory", "logs", "cache")
    assert "cache-pass-456" not in ok(capsys, "accessory", "exec", "cache", "echo ok")


def test_proxy_verbs(testbed: Testbed, capsys: pytest.CaptureFixture[str]) -> None:
    assert "tb-web" in ok(capsys, "proxy", "details")
    ok(capsys, "proxy", "stop")
    assert "kamal-proxy" not in names(testbed, 0)
    ok(capsys, "proxy", "start")
    ok(capsys, "proxy", "restart")
    ok(capsys, "proxy", "boot")
    ok(capsys, "proxy", "reboot", "--rolling", "-y")
    assert "kamal-proxy" in names(testbed, 0) and "kamal-proxy" in names(testbed, 1)
    ok(capsys, "proxy", "logs")
    ok(capsys, "proxy", "boot_config", "set", "--http-port", "8080")
    assert "--publish 8080:80" in ok(capsys, "proxy", "boot_config", "get")
    ok(capsys, "proxy", "boot_config", "reset")
    assert "options:" not in ok(capsys, "proxy", "boot_config", "get")
    out = ok(capsys, "proxy", "remove", "--dry-run")
    assert "Not removing the proxy, as other apps are installed" in out


def test_prune_keeps_rollback_candidates(
    testbed: Testbed, capsys: pytest.CaptureFixture[str]
) -> None:
    for version in ("v2", "v3", "v1"):
        ok(capsys, "--version", version, "deploy", "-P")
    ok(capsys, "prune", "containers", "--retain", "1")
    stopped = testbed.docker(testbed.hosts[0], "ps", "-a", "--filter", "status=exited",
                             "--format", "{{.Names}}").split()  # fmt: skip
    assert len([n for n in stopped if n.startswith("tb-web")]) == 1
    ok(capsys, "prune", "images")
    ok(capsys, "prune", "all")


def test_secrets_print_and_build_dry_run(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["secrets", "print"])
    out, _ = capsys.readouterr()
    assert code == 0 and "SECRET_TOKEN=s3cr3t-token-123" in out  # asked for explicitly
    out = ok(capsys, "--version", "v9", "build", "push", "--dry-run")
    assert "-t 10.254.0.2:5000/tb/app:v9" in out
