"""An accessory with ``proxy:`` on real hosts (issue #15), as Kamal 2.11's accessory verbs:
its route is served through kamal-proxy after boot, taken out by ``stop``, deployed again by
``start`` and ``restart``, and gone with ``remove``."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.backstaff.projects import enter, fresh_project, run_cli
from tests.schemas.helpers import kamal_yaml
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
CACHE = "10.254.0.13"


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    made = fresh_project(testbed, tmp_path_factory, "accessory-route")
    path = next(made)
    config = path / "config" / "deploy.yml"
    data = yaml.safe_load(config.read_text())
    cache = data["accessories"]["cache"]
    cache["cmd"] = "tb-httpd 8080 /srv"
    cache["proxy"] = {"host": "cache.test", "app_port": 8080}
    cache["files"].append({"local": "config/up", "remote": "/srv/up", "mode": "0644"})
    config.write_text(kamal_yaml(data, sort_keys=False))
    (path / "config" / "up").write_text("cache up\n")
    yield path
    next(made, None)


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


def served(path: str = "/up") -> tuple[int, str]:
    connection = http.client.HTTPConnection(CACHE, 80, timeout=10)
    connection.request("GET", path, headers={"Host": "cache.test"})
    response = connection.getresponse()
    return response.status, response.read().decode()


def routes(testbed: Testbed) -> str:
    return testbed.docker(testbed.hosts[2], "exec", "kamal-proxy", "kamal-proxy", "list")


def ok(capsys: pytest.CaptureFixture[str], *args: str) -> None:
    code, _, err = run_cli(capsys, "--version", "v1", *args)
    assert code == 0, err


def test_route_follows_the_accessory(testbed: Testbed, capsys: pytest.CaptureFixture[str]) -> None:
    ok(capsys, "setup", "-P")
    assert served() == (200, "cache up\n")
    ok(capsys, "accessory", "stop", "cache")
    assert "tb-cache" not in routes(testbed)
    assert served()[0] != 200
    ok(capsys, "accessory", "stop", "cache")  # again: already stopped, no route: fine
    ok(capsys, "accessory", "start", "cache")
    assert "tb-cache" in routes(testbed) and served() == (200, "cache up\n")
    ok(capsys, "accessory", "restart", "cache")
    assert served() == (200, "cache up\n")
    ok(capsys, "accessory", "remove", "cache", "-y")
    assert "tb-cache" not in routes(testbed)
    assert "tb-cache" not in testbed.docker(testbed.hosts[2], "ps", "-a", "--format", "{{.Names}}")


def test_own_registry_logged_in_before_boot_and_reboot(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kamal's accessory prepare: a log in to the accessory's ``registry:`` (here with the
    password written in deploy.yml) before its boot and reboot pull the image."""
    config = project / "config" / "deploy.yml"
    data = yaml.safe_load(config.read_text())
    cache = data["accessories"]["cache"]
    cache["image"] = "tb/busybox:1.35"
    cache["registry"] = {"server": "10.254.0.2:5000", "username": "tb", "password": "tbpass"}
    config.write_text(kamal_yaml(data, sort_keys=False))
    image = "10.254.0.2:5000/tb/busybox:1.35"
    for verb in ("boot", "reboot"):
        ok(capsys, "registry", "logout", "-L")
        testbed.docker(testbed.hosts[2], "rm", "-f", "tb-cache")
        testbed.docker(testbed.hosts[2], "image", "rm", "-f", image)
        ok(capsys, "accessory", verb, "cache")
        assert served() == (200, "cache up\n")
        docker_config = Path(testbed.hosts[2].directory) / "root/.docker/config.json"
        assert "10.254.0.2:5000" in docker_config.read_text()
