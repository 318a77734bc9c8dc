"""Accessory verbs as Kamal 2.11's cli/accessory.rb runs them (issue #15): start deploys the
route of an accessory with ``proxy:``, stop (and so restart and remove) takes it out again,
and a boot or reboot logs in to the accessory's own ``registry:`` first (Kamal's prepare)."""

from __future__ import annotations

from typing import Any

from backstaff.planner import operations
from backstaff.planner.commands.host import login_stdin_secrets
from backstaff.planner.commands.words import render
from backstaff.planner.diff import diff
from backstaff.planner.graph import build_graph
from backstaff.planner.steps import Upload
from tests.planner.kamal_recorded import words
from tests.planner.scenarios import example, live

HOST = "10.254.0.13"
DEPLOY = ("docker exec kamal-proxy kamal-proxy deploy tb-cache"
          " --target=\"$(docker container ls --filter 'name=^tb-cache$' --quiet)\":8080"
          " --host=cache.test --deploy-timeout=30s --drain-timeout=30s --buffer-requests"
          " --buffer-responses --log-request-header=Cache-Control"
          " --log-request-header=Last-Modified --log-request-header=User-Agent")  # fmt: skip
# Kamal: accessory.remove (commands/accessory/proxy.rb), raise_on_non_zero_exit; ours tolerated
REMOVE = "docker exec kamal-proxy kamal-proxy remove tb-cache || true"


def _proxied(data: dict[str, Any]) -> None:
    data["accessories"]["cache"]["proxy"] = {"host": "cache.test", "app_port": 8080}


def _own_registry(data: dict[str, Any]) -> None:
    data["accessories"]["cache"]["registry"] = {
        "server": "reg.example:5000", "username": "cacheuser", "password": ["CACHE_REGISTRY"],
    }  # fmt: skip


def _rendered(actions: tuple[Any, ...]) -> list[str]:
    return [a.describe() if isinstance(a, Upload) else render(a) for a in actions]


def _cache(data_change: Any) -> Any:
    app = example("v1", data_change)
    return app, next(a for a in app.accessories if a.name == "cache")


def test_start_deploys_the_route_stop_removes_it() -> None:
    app, cache = _cache(_proxied)
    start = _rendered(operations.accessory_start(app, cache, HOST).commands)
    assert [words(c) for c in start] == [words("docker container start tb-cache"), words(DEPLOY)]
    stop = _rendered(operations.accessory_stop(cache, HOST).commands)
    assert [words(c) for c in stop] == [
        words("docker container stop tb-cache || true"), words(REMOVE),
    ]  # fmt: skip
    restart = _rendered(operations.accessory_restart(app, cache, HOST).commands)
    assert restart == stop + start  # Kamal's restart: stop, then start
    removed = _rendered(operations.accessory_remove_all(cache, HOST).commands)
    assert removed[:2] == stop and "docker container prune" in removed[2]


def test_without_proxy_no_route_commands() -> None:
    app, cache = _cache(None)
    assert _rendered(operations.accessory_start(app, cache, HOST).commands) == [
        "docker container start tb-cache"
    ]
    assert _rendered(operations.accessory_stop(cache, HOST).commands) == [
        "docker container stop tb-cache || true"
    ]


def test_remove_takes_the_accessory_route_out() -> None:
    app, _ = _cache(_proxied)
    removed = _rendered(operations.remove_app(app, HOST).commands)
    assert REMOVE in removed
    assert removed.index(REMOVE) < next(
        i for i, c in enumerate(removed) if "label=service=tb-cache" in c
    )


def test_own_registry_login_before_boot_and_reboot() -> None:
    app, cache = _cache(_own_registry)
    assert cache.image == "reg.example:5000/10.254.0.2:5000/tb/busybox:1.35"  # Kamal's join
    login = operations.accessory_registry_login(app, cache, HOST)
    assert login.id == f"registry.login.cache[{HOST}]"
    # Kamal: docker login reg.example:5000 -u "cacheuser" -p "..."; the password on stdin here
    assert _rendered(login.commands) == [
        "docker login reg.example:5000 -u cacheuser --password-stdin"
    ]
    assert login.stdin_secrets == ("CACHE_REGISTRY",)
    graph = build_graph(app, diff(app, live("fresh")))
    assert graph.has_edge(login.id, f"accessory.boot.cache[{HOST}]")


def test_plain_password_names_its_config_path() -> None:
    app, cache = _cache(lambda d: d["accessories"]["cache"].update(
        registry={"server": "reg.example", "username": "u", "password": "literal"}))  # fmt: skip
    assert cache.registry is not None
    assert login_stdin_secrets(cache.registry) == ("<accessories/cache/registry/password>",)
    assert login_stdin_secrets(app.registry) == ("KAMAL_REGISTRY_PASSWORD",)


def test_without_own_registry_the_apps_login() -> None:
    app, cache = _cache(None)
    assert operations.accessory_registry_login(app, cache, HOST) == operations.registry_login(
        app, HOST
    )
