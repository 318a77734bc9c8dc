"""asset_path on real hosts (Kamal 2.11's bridging): each version's assets are extracted from
its image, its volume is filled, new and old volumes get each other's files (nothing
overwritten) so pages of either version find their assets during the switch, and older
versions' directories are removed once the old container stopped."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.backstaff.projects import enter, fresh_project, run_cli
from tests.schemas.helpers import kamal_yaml
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
WEB = ("10.254.0.11", "10.254.0.12")


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    made = fresh_project(testbed, tmp_path_factory, "assets")
    path = next(made)
    config = path / "config" / "deploy.yml"
    data = yaml.safe_load(config.read_text())
    data["asset_path"] = "/www/assets"
    config.write_text(kamal_yaml(data, sort_keys=False))
    yield path
    next(made, None)


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


def asset(host: str, version: str) -> str | int:
    """The asset of ``version`` as served through kamal-proxy, or the HTTP status."""
    try:
        with urllib.request.urlopen(f"http://{host}/assets/app-{version}.css", timeout=10) as r:
            return str(r.read().decode().strip())
    except urllib.error.HTTPError as exc:
        return exc.code


def listing(testbed: Testbed, kind: str) -> list[str]:
    root = Path(testbed.hosts[0].directory) / f"root/.kamal/apps/tb/assets/{kind}"
    return sorted(p.name for p in root.iterdir())


def test_assets_of_both_versions_are_served_and_older_ones_removed(
    testbed: Testbed, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "--version", "v1", "setup", "-P")
    assert code == 0, err
    assert [asset(h, "v1") for h in WEB] == ["v1 css", "v1 css"]
    code, _, err = run_cli(capsys, "--version", "v2", "deploy", "-P")
    assert code == 0, err
    for host in WEB:
        assert (asset(host, "v2"), asset(host, "v1")) == ("v2 css", "v1 css")
    assert listing(testbed, "extracted") == ["web-v2"]  # v1's removed after its container stopped
    assert listing(testbed, "volumes") == ["web-v2"]
    code, _, err = run_cli(capsys, "--version", "v3", "deploy", "-P")
    assert code == 0, err
    for host in WEB:
        assert (asset(host, "v3"), asset(host, "v2"), asset(host, "v1")) == (
            "v3 css",
            "v2 css",
            404,
        )
    assert listing(testbed, "extracted") == ["web-v3"]
    assert run_cli(capsys, "--version", "v3", "plan", "--detailed-exitcode")[0] == 0
