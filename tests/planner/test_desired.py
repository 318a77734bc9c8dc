"""The desired model: names, labels, env split, proxy defaults, accessories, host order."""

from __future__ import annotations

import pytest

from backstaff.executors.config_files import read_sources
from backstaff.planner.desired import build_desired
from backstaff.planner.filters import FilterError, select
from backstaff.planner.model import App
from backstaff.schemas import load_config
from tests.conftest import FIXTURES


def app_of(case: str, version: str = "v1", destination: str | None = None) -> App:
    path = FIXTURES / case / "config" / "deploy.yml"
    return build_desired(load_config(read_sources(path, destination, {})), version)


def test_example_roles_names_and_paths() -> None:
    app = app_of("example")
    web, workers = app.roles
    assert (web.name, web.primary, workers.name) == ("web", True, "workers")
    assert web.container_name("v1") == "tb-web-v1"
    assert app.image == "10.254.0.2:5000/tb/app:v1"
    assert app.latest_image == "10.254.0.2:5000/tb/app:latest"
    assert app.primary_host == "10.254.0.11"
    assert app.all_hosts == ("10.254.0.11", "10.254.0.12", "10.254.0.13")
    assert app.lock_directory == ".kamal/lock-tb"
    assert app.audit_log == ".kamal/tb-audit.log"
    assert web.env_file == ".kamal/apps/tb/env/roles/web.env"
    assert app.labels_for(web) == (("service", "tb"), ("role", "web"), ("destination", ""))
    assert workers.cmd == "tb-worker 5" and workers.proxy is None


def test_env_is_split_into_clear_and_secret() -> None:
    web = app_of("example").roles[0]
    assert web.env.clear == (("TB_GREETING", "hello"), ("TB_MODE", "testbed"))
    assert web.env.secrets == (("SECRET_TOKEN", "SECRET_TOKEN"),)


def test_proxy_defaults_follow_kamal() -> None:
    route = app_of("example").roles[0].proxy
    assert route is not None
    assert (route.app_port, route.deploy_timeout, route.drain_timeout) == (80, 30, 30)
    assert (route.healthcheck_path, route.healthcheck_interval, route.healthcheck_timeout) == (
        "/up",
        1,
        3,
    )
    assert route.buffer_requests and route.buffer_responses
    assert route.log_request_headers == ("Cache-Control", "Last-Modified", "User-Agent")
    assert route.response_timeout is None and not route.ssl


def test_accessory() -> None:
    (cache,) = app_of("example").accessories
    assert cache.service_name == "tb-cache"
    assert cache.image == "10.254.0.2:5000/tb/busybox:1.35"
    assert cache.hosts == ("10.254.0.13",)
    assert cache.port == "127.0.0.1:8080:8080"
    assert cache.env_file == ".kamal/apps/tb/env/accessories/cache.env"
    assert (
        cache.files[0].local == "config/cache.conf" and cache.files[0].remote == "/etc/cache.conf"
    )
    assert cache.env.secrets == (("CACHE_PASSWORD", "CACHE_PASSWORD"),)


def test_destination_names_and_tags() -> None:
    app = app_of("configs/ok-destination-merge", destination="staging")
    assert app.roles[0].container_prefix == "app-web-staging"
    assert app.roles[0].hosts == ("10.1.0.1",)
    assert app.latest_image == "acme/app:latest-staging"
    assert app.lock_directory == ".kamal/lock-app-staging"
    assert app.roles[0].env_file == ".kamal/apps/app-staging/env/roles/web.env"
    assert dict(app.labels_for(app.roles[0]))["destination"] == "staging"


def test_role_env_with_host_tags_and_aliased_secrets() -> None:
    app = app_of("configs/ok-roles-tags-env")
    web = app.roles[0]
    assert dict(app.env_for(web, "10.0.0.2").clear)["CANARY"] == "1"
    assert "CANARY" not in dict(app.env_for(web, "10.0.0.1").clear)
    assert ("DB_PASSWORD", "MAIN_DB_PASSWORD") in web.env.secrets
    jobs = app.roles[1]
    assert dict(jobs.env.clear) == {"RAILS_ENV": "production", "QUEUE": "default"}
    assert dict(jobs.options) == {"memory": "1g", "cap-add": True}
    assert jobs.proxy is None and web.proxy is not None


def test_filters_with_wildcards_and_primary() -> None:
    app = app_of("example")
    assert select(app, None, "work*", False).hosts == ("10.254.0.13",)
    assert select(app, "*.12,*.13", None, False).hosts == ("10.254.0.12", "10.254.0.13")
    assert select(app, None, None, True).hosts == ("10.254.0.11",)
    with pytest.raises(FilterError, match="No --roles match for db"):
        select(app, None, "db", False)


def test_logging_root_and_default() -> None:
    assert app_of("example").logging == (("--log-opt", "max-size=10m"),)
    app = app_of("configs/ok-full-sections")
    assert app.logging == (("--log-driver", "journald"), ("--log-opt", "tag=app"))
    assert app.roles[0].logging == app.logging
    assert app.ssh.port == 2222 and app.ssh.keys_only and app.boot.limit == "25%"


@pytest.mark.parametrize("case", ["ok-ssl-null-pems", "ok-ssl-empty-hash"])
def test_an_ssl_hash_without_a_certificate_is_automatic_tls(case: str) -> None:
    """As Kamal: any ssl hash is true (Ruby), a custom certificate needs both settings present."""
    (route,) = {role.proxy for role in app_of(f"configs/{case}").roles if role.proxy}
    assert route.ssl and route.custom_certificate is None
