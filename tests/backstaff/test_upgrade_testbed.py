"""``upgrade`` from Kamal 1 on real hosts (issue #15), as Kamal 2.11's: hosts left as Kamal 1
leaves them (Traefik on port 80, the app and the accessory on docker's default network, the
image tagged latest) become Kamal 2 hosts: Traefik gone, kamal-proxy booted, the app booted
at ``latest`` on the kamal network and served through kamal-proxy, the accessory rebooted on
the kamal network. The kamal-proxy test double cannot be pulled, so a running placeholder
keeps its image through the upgrade's image prune (the real image would be pulled again)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backstaff.projects import enter, fresh_project, run_cli
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
APP = "10.254.0.2:5000/tb/app"
BUSYBOX = "10.254.0.2:5000/tb/busybox:1.35"
TRAEFIK = "org.opencontainers.image.title=Traefik"


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from fresh_project(testbed, tmp_path_factory, "upgrade")


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


def ok(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = run_cli(capsys, *args)
    assert code == 0, out[-2000:] + err
    return out


def kamal1(bed: Testbed, index: int, role: str) -> None:
    """What Kamal 1 left on a host: Traefik, the role's v1 container, the latest tag."""
    host = bed.hosts[index]
    bed.docker(host, "tag", f"{APP}:v1", f"{APP}:latest")
    bed.docker(host, "run", "--detach", "--name", "traefik", "--label", TRAEFIK, "--publish",
               "80:80", BUSYBOX, "busybox", "httpd", "-f", "-p", "80", "-h", "/")  # fmt: skip
    bed.docker(host, "run", "--detach", "--name", f"tb-{role}-v1", "--label", "service=tb",
               "--label", f"role={role}", f"{APP}:v1",
               *(["tb-worker", "5"] if role == "workers" else []))  # fmt: skip
    bed.docker(host, "run", "--detach", "--name", "keep-proxy-image", "--entrypoint", "sleep",
               "basecamp/kamal-proxy:v0.9.2", "600")  # fmt: skip


def names(bed: Testbed, index: int, *filters: str) -> list[str]:
    return bed.docker(bed.hosts[index], "ps", "--format", "{{.Names}}", *filters).split()


def networks(bed: Testbed, index: int, container: str) -> list[str]:
    found = json.loads(bed.docker(bed.hosts[index], "inspect", container))[0]
    return sorted(found["NetworkSettings"]["Networks"])


def test_upgrade_from_kamal_1(testbed: Testbed, capsys: pytest.CaptureFixture[str]) -> None:
    ok(capsys, "registry", "login", "-L")
    for index in (0, 1, 2):
        testbed.docker(testbed.hosts[index], "pull", f"{APP}:v1")
        testbed.docker(testbed.hosts[index], "pull", BUSYBOX)
    for index, role in ((0, "web"), (1, "web"), (2, "workers")):
        kamal1(testbed, index, role)
    testbed.docker(testbed.hosts[2], "run", "--detach", "--name", "tb-cache", "--label",
                   "service=tb-cache", BUSYBOX, "tb-httpd", "8080", "/data")  # fmt: skip
    assert networks(testbed, 2, "tb-cache") == ["bridge"]

    out = ok(capsys, "upgrade", "-y")
    assert "Upgraded all hosts" in out
    for index in (0, 1, 2):
        assert names(testbed, index, "--filter", f"label={TRAEFIK}") == []
    for index, role in ((0, "web"), (1, "web"), (2, "workers")):
        running = names(testbed, index)
        assert f"tb-{role}-latest" in running and f"tb-{role}-v1" not in running
        assert networks(testbed, index, f"tb-{role}-latest") == ["kamal"]
    for address in ("10.254.0.11", "10.254.0.12"):
        with urllib.request.urlopen(f"http://{address}/", timeout=10) as response:
            assert response.read().decode().strip() == "tb v1"  # latest: Kamal 1's last deploy
    assert "kamal-proxy" in names(testbed, 0) and "kamal-proxy" not in names(testbed, 2)
    assert networks(testbed, 2, "tb-cache") == ["kamal"]
    assert "tb-cache" in names(testbed, 2)
