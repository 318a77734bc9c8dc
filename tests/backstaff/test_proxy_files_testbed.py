"""Files kamal-proxy and accessories read, on real hosts (issue #15): a role's custom TLS
certificate and key where kamal-proxy reads them (the key 0640, in the proxy's group), the
version's error pages (a stopped service answers with its 503 page; older versions removed),
an accessory's route served through kamal-proxy, and an accessory ``.erb`` file rendered with
the accessory's env, its owner set. kamal-proxy is the test double (tests/testbed/files): its
deploy fails, as the real one does, when a certificate, key or error pages cannot be read."""

from __future__ import annotations

import http.client
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.backstaff.projects import enter, fresh_project, run_cli
from tests.schemas.helpers import kamal_yaml
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
WEB = ("10.254.0.11", "10.254.0.12")
# PEMs as .kamal/secrets holds them for Kamal 2.11 (dotenv 3.2): double-quoted over several lines
# (there, a backslash and an n in double quotes stay a backslash and an n)
CERT = "-----BEGIN CERTIFICATE-----\nMIIBtestcert\n-----END CERTIFICATE-----"
KEY = "-----BEGIN PRIVATE KEY-----\nMIIEtestkey\n-----END PRIVATE KEY-----"


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    made = fresh_project(testbed, tmp_path_factory, "proxy-files")
    path = next(made)
    config = path / "config" / "deploy.yml"
    data = yaml.safe_load(config.read_text())
    data["proxy"]["ssl"] = {"certificate_pem": "TLS_CERT", "private_key_pem": "TLS_KEY"}
    data["proxy"]["host"] = "tb.test"
    data["error_pages_path"] = "public/errors"
    cache = data["accessories"]["cache"]
    cache["cmd"] = "tb-httpd 8080 /srv"
    cache["proxy"] = {"host": "cache.test", "app_port": 8080}
    cache["files"].append(
        {"local": "config/up.erb", "remote": "/srv/up", "mode": "0644", "owner": "65534:65534"}
    )
    config.write_text(kamal_yaml(data, sort_keys=False))
    (path / "config" / "up.erb").write_text(
        'mode=<%= ENV["CACHE_MODE"] %> password=<%= ENV.fetch("CACHE_PASSWORD").size %>\n'
    )
    errors = path / "public" / "errors"
    errors.mkdir(parents=True)
    (errors / "503.html").write_text("<h1>tb is resting</h1>\n")
    (errors / "404.html").write_text("<h1>tb lost it</h1>\n")
    (errors / "notes.html").write_text("not an error page\n")
    secrets = path / ".kamal" / "secrets"
    secrets.write_text(secrets.read_text() + f'TLS_CERT="{CERT}"\nTLS_KEY="{KEY}"\n')
    yield path
    next(made, None)


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


def get(address: str, host: str, path: str = "/") -> tuple[int, str]:
    connection = http.client.HTTPConnection(address, 80, timeout=10)
    connection.request("GET", path, headers={"Host": host})
    response = connection.getresponse()
    return response.status, response.read().decode()


def home(testbed: Testbed, index: int) -> Path:
    return Path(testbed.hosts[index].directory) / "root"


def test_certificates_error_pages_and_accessory_route(
    testbed: Testbed, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "--version", "v1", "setup", "-P")
    assert code == 0, err
    for index in (0, 1):
        host = testbed.hosts[index]
        tls = "/home/kamal-proxy/.apps-config/tb/tls/web"
        inside = testbed.docker(
            host, "exec", "kamal-proxy", "cat", f"{tls}/cert.pem", f"{tls}/key.pem"
        )
        assert inside == CERT + KEY
        on_host = home(testbed, index) / ".kamal/proxy/apps-config/tb/tls/web"
        assert oct((on_host / "key.pem").stat().st_mode & 0o777) == "0o640"
        assert oct((on_host / "cert.pem").stat().st_mode & 0o777) == "0o644"
        gid = testbed.docker(host, "exec", "kamal-proxy", "id", "-g").strip()
        assert (on_host / "key.pem").stat().st_gid == int(gid)
        pages = "/home/kamal-proxy/.apps-config/tb/error_pages/v1"
        listed = testbed.docker(host, "exec", "kamal-proxy", "ls", pages).split()
        assert listed == ["404.html", "503.html"]  # notes.html is not an error page
    assert [get(h, "tb.test", "/up")[0] for h in WEB] == [200, 200]

    # the accessory's route: served through kamal-proxy on its host, from the rendered file
    assert get("10.254.0.13", "cache.test", "/up") == (200, "mode=lru password=14\n")
    rendered = home(testbed, 2) / "tb-cache/srv/up"
    assert (rendered.stat().st_uid, rendered.stat().st_gid) == (65534, 65534)
    assert "<%" not in rendered.read_text()

    code, _, err = run_cli(capsys, "--version", "v1", "app", "maintenance")
    assert code == 0, err
    assert get(WEB[0], "tb.test") == (503, "<h1>tb is resting</h1>")  # the 503 page
    code, _, err = run_cli(capsys, "--version", "v1", "app", "live")
    assert code == 0, err

    code, _, err = run_cli(capsys, "--version", "v2", "deploy", "-P")
    assert code == 0, err
    for index in (0, 1):
        pages = home(testbed, index) / ".kamal/proxy/apps-config/tb/error_pages"
        assert sorted(os.listdir(pages)) == ["v2"]  # v1's removed once its container stopped
    assert run_cli(capsys, "--version", "v2", "plan", "--detailed-exitcode")[0] == 0
