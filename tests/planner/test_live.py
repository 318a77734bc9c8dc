"""Parsing the gather script's output: real captures, and odd output that must not crash."""

from __future__ import annotations

import pytest

from backstaff.planner.live import parse_host, parse_routes
from tests.planner.scenarios import live


def test_deployed_host() -> None:
    h1 = live("deployed-v1").host("10.254.0.11")
    assert h1.error is None and h1.docker_version == "20.10.24+dfsg1"
    assert "kamal" in h1.networks and h1.registry_login is True
    web = h1.container("tb-web-v1")
    assert web is not None and web.running and web.image == "10.254.0.2:5000/tb/app:v1"
    assert dict(web.labels) == {"destination": "", "role": "web", "service": "tb"}
    assert h1.routes and h1.routes[0].service == "tb-web"
    assert h1.routes[0].target == f"{web.short_id}:80" and h1.routes[0].hosts == ()
    assert h1.envfile_digest(".kamal/apps/tb/env/roles/web.env")
    assert h1.lock is None and h1.lock_known


def test_env_values_are_digests_never_values() -> None:
    web = live("deployed-v1").host("10.254.0.11").container("tb-web-v1")
    assert web is not None
    env = dict(web.env)
    assert "SECRET_TOKEN" in env and env["SECRET_TOKEN"] != "s3cr3t-token-123"
    assert "s3cr3t" not in repr(live("deployed-v1"))


def test_fresh_host() -> None:
    h2 = live("fresh").host("10.254.0.12")
    assert h2.docker_version and h2.containers == () and h2.routes is None
    assert h2.registry_login is False and "kamal" not in h2.networks


def test_lock_held() -> None:
    lock = live("lock-held").host("10.254.0.11").lock
    assert lock is not None and "Investigating an outage" in lock.details
    assert lock.holder.endswith("at 2026-11-22T21:08:59Z")
    assert live("lock-held").host("10.254.0.12").lock_known is False


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage\n",
        "@@backstaff@@ docker\n20.10\n",
        "@@backstaff@@ containers\n{not json\n@@backstaff@@ end\n",
    ],
)
def test_odd_output_never_raises(text: str) -> None:
    host = parse_host("h", text)
    assert host.host == "h"


def test_cut_short_answer_is_an_error() -> None:
    assert parse_host("h", "@@backstaff@@ docker\n20.10\n").error is not None


def test_docker_missing() -> None:
    host = parse_host("h", "@@backstaff@@ docker\n!missing\n@@backstaff@@ end\n")
    assert host.error is None and host.docker_version is None


def test_routes_table_with_ansi_and_unknown_output() -> None:
    table = "\x1b[3;94mService\x1b[0m  \x1b[3;94mHost\x1b[0m  Path  Target  State  TLS  \nshop-web  a.com,b.com  /api  abc:3000  stopped  yes  \n"
    (route,) = parse_routes(table) or ()
    assert route.hosts == ("a.com", "b.com") and route.paths == ("/api",) and route.tls
    assert route.state == "stopped"
    assert parse_routes("!not-running") is None
    assert parse_routes("Error: something") is None


def test_fingerprint_changes_with_state() -> None:
    assert live("deployed-v1").fingerprint() == live("deployed-v1").fingerprint()
    assert live("deployed-v1").fingerprint() != live("proxy-missing").fingerprint()
