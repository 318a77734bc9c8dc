"""Files kamal-proxy and accessories read (issue #15): custom certificates, error pages, an
accessory's route, ``.erb`` accessory files and file owners, as steps and shell words compared
with the commands of Kamal 2.11 (its source at v2.11.0 and kamal-internals.md, verified with
the real binary)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backstaff.planner import operations
from backstaff.planner.changes import Action
from backstaff.planner.commands import accessory as accessory_cmd
from backstaff.planner.commands import proxy as proxy_cmd
from backstaff.planner.commands.words import render
from backstaff.planner.diff import diff
from backstaff.planner.graph import build_graph
from backstaff.planner.plan import _command_from_dict, _command_to_dict
from backstaff.planner.steps import (
    AccessoryTemplate,
    EnvFile,
    ErrorPages,
    LocalFile,
    SecretFile,
    Upload,
)
from backstaff.runtime import error_pages
from backstaff.schemas import ConfigErrors
from tests.planner.kamal_recorded import words
from tests.planner.scenarios import example, live


def _configured(data: dict[str, Any]) -> None:
    data["proxy"]["ssl"] = {"certificate_pem": "TLS_CERT", "private_key_pem": "TLS_KEY"}
    data["proxy"]["host"] = "tb.test"
    data["error_pages_path"] = "public/errors"
    cache = data["accessories"]["cache"]
    cache["proxy"] = {"host": "cache.test", "app_port": 8080}
    cache["files"] = [
        "config/cache.conf.erb:/etc/cache.conf",
        {"local": "config/up", "remote": "/srv/up", "mode": "0600", "owner": "999:999"},
    ]
    cache["directories"] = [{"local": "data", "remote": "/data", "mode": "0700", "owner": "cache"}]


def _rendered(actions: tuple[Any, ...]) -> list[str]:
    return [a.describe() if isinstance(a, Upload) else render(a) for a in actions]


def test_certificate_and_error_pages_before_boot() -> None:
    app = example("v1", _configured)
    step = operations.proxy_files(app, "10.254.0.11")
    assert step is not None
    assert _rendered(step.commands) == [
        "mkdir -p .kamal/proxy/apps-config/tb/error_pages/v1",
        "# upload .kamal/proxy/apps-config/tb/error_pages/v1 (mode 0644, from the 4xx/5xx pages"
        " of local public/errors)",
        "mkdir -p .kamal/proxy/apps-config/tb/tls/web",  # Kamal's create_ssl_directory
        "# upload .kamal/proxy/apps-config/tb/tls/web/cert.pem (mode 0644, from the secret TLS_CERT)",
        "# upload .kamal/proxy/apps-config/tb/tls/web/key.pem (mode 0640, from the secret TLS_KEY)",
        'docker exec --user root kamal-proxy chgrp "$(docker exec kamal-proxy id -g)"'
        " /home/kamal-proxy/.apps-config/tb/tls/web/key.pem",
    ]
    # where --tls-certificate-path/--tls-private-key-path/--error-pages point (Kamal's flags)
    deploy = render(proxy_cmd.deploy(app, "tb-web", app.roles[0].proxy, "cid", "web"))  # type: ignore[arg-type]
    assert "--tls-certificate-path=/home/kamal-proxy/.apps-config/tb/tls/web/cert.pem" in deploy
    assert "--tls-private-key-path=/home/kamal-proxy/.apps-config/tb/tls/web/key.pem" in deploy
    assert "--error-pages=/home/kamal-proxy/.apps-config/tb/error_pages/v1" in deploy
    # the workers host runs no proxy role: only the error pages (Kamal: every app host)
    workers = operations.proxy_files(app, "10.254.0.13")
    assert workers is not None and len(workers.commands) == 2
    assert operations.proxy_files(example("v1"), "10.254.0.11") is None


def test_clean_up_error_pages_is_kamals() -> None:
    app = example("v2", _configured)
    kamal = (
        "find .kamal/proxy/apps-config/tb/error_pages -mindepth 1 -maxdepth 1 ! -name v2"
        " -exec rm -rf {} +"
    )  # Kamal 2.11 clean_up_error_pages (kamal-internals.md 5.6)
    assert words(render(proxy_cmd.clean_up_error_pages(app))) == words(kamal)
    step = operations.app_stop_old(app, app.roles[0], "10.254.0.11", {"container": "tb-web-v1"})
    assert step is not None  # after the old container stopped, as Kamal's stop_old_version
    assert render(proxy_cmd.clean_up_error_pages(app)) == render(step.commands[-1])  # type: ignore[arg-type]


def test_accessory_route_files_and_owners() -> None:
    app = example("v1", _configured)
    cache = app.accessories[0]
    step = operations.accessory_boot(app, cache, "10.254.0.13", Action.CREATE)
    text = _rendered(step.commands)
    erb = "# upload tb-cache/etc/cache.conf (mode 0755, from local config/cache.conf.erb rendered"
    assert erb + " with ERB)" in text
    assert "# upload tb-cache/srv/up (mode 0600, from local config/up)" in text
    # Kamal: chmod/chown of directories, chown of the uploaded files
    assert 'chmod 0700 "$PWD"/tb-cache/data' in text
    assert 'chown cache "$PWD"/tb-cache/data' in text
    assert "chown 999:999 tb-cache/srv/up" in text
    run = text.index(next(t for t in text if t.startswith("docker run")))
    assert text[run + 1 :] == [
        "docker exec kamal-proxy kamal-proxy deploy tb-cache"
        " --target=\"$(docker container ls --filter 'name=^tb-cache$' --quiet)\":8080"
        " --host=cache.test --deploy-timeout=30s --drain-timeout=30s --buffer-requests"
        " --buffer-responses --log-request-header=Cache-Control"
        " --log-request-header=Last-Modified --log-request-header=User-Agent"
        " --error-pages=/home/kamal-proxy/.apps-config/tb/error_pages/v1"
    ]
    # Kamal's container_id_for(container_name:, only_running: true)
    assert words(render(accessory_cmd.running_container_id(cache))) == words(
        "docker container ls --filter 'name=^tb-cache$' --quiet"
    )
    reboot = _rendered(operations.accessory_reboot(app, cache, "10.254.0.13").commands)
    assert reboot[-1] == text[-1]


def test_graph_orders_files_before_boots_and_routes() -> None:
    app = example("v1", _configured)
    graph = build_graph(app, diff(app, live("fresh")))
    for host in ("10.254.0.11", "10.254.0.12"):
        assert graph.has_edge(f"proxy.boot[{host}]", f"proxy.files[{host}]")
        assert graph.has_edge(f"proxy.files[{host}]", f"app.boot.web[{host}]")
    assert graph.has_edge("proxy.boot[10.254.0.13]", "accessory.boot.cache[10.254.0.13]")
    assert graph.has_edge("proxy.files[10.254.0.13]", "accessory.boot.cache[10.254.0.13]")


@pytest.mark.parametrize(
    "source",
    [
        EnvFile("role", "web"),
        LocalFile("config/a"),
        SecretFile("TLS_KEY"),
        AccessoryTemplate("cache", "config/a.erb"),
        ErrorPages("public/errors"),
    ],
)
def test_upload_sources_survive_a_saved_plan(source: Any) -> None:
    upload = Upload("some/path", "0600", source)
    assert _command_from_dict(_command_to_dict(upload)) == upload


def test_error_pages_are_kamals_glob(tmp_path: Path) -> None:
    for name in ("404.html", "503.html", "500.htm", "notes.html", "4040.html", "42.html"):
        (tmp_path / name).write_text(name)
    assert list(error_pages(tmp_path)) == ["404.html", "503.html"]
    assert error_pages(tmp_path / "missing") == {}


def test_two_accessories_with_a_certificate_are_refused() -> None:
    def two(data: dict[str, Any]) -> None:
        ssl = {"certificate_pem": "C", "private_key_pem": "K"}
        data["accessories"]["cache"]["proxy"] = {"host": "a.test", "ssl": ssl}
        data["accessories"]["other"] = {
            "image": "x", "host": "10.254.0.13", "proxy": {"host": "b.test", "ssl": ssl},
        }  # fmt: skip

    with pytest.raises(ConfigErrors) as caught:
        example("v1", two)
    assert "accessories/other/proxy/ssl: only one accessory may have a custom certificate" in str(
        caught.value
    )
