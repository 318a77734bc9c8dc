"""Desired vs live over real captures: each scenario gives exactly the expected changes."""

from __future__ import annotations

from typing import Any

from backstaff.planner.changes import Action, Change
from backstaff.planner.diff import diff
from tests.planner.scenarios import example, live


def summary(changes: tuple[Change, ...]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.action.symbol, c.address, c.reasons) for c in changes]


def test_fresh_hosts_everything_to_create() -> None:
    changes = diff(example(), live("fresh"))
    assert all(c.action is Action.CREATE for c in changes)
    assert [c.address for c in changes] == [
        "network.kamal[10.254.0.11]", "registry.login[10.254.0.11]", "proxy.kamal-proxy[10.254.0.11]",
        "app.web[10.254.0.11]",
        "network.kamal[10.254.0.12]", "registry.login[10.254.0.12]", "proxy.kamal-proxy[10.254.0.12]",
        "app.web[10.254.0.12]",
        "network.kamal[10.254.0.13]", "registry.login[10.254.0.13]", "accessory.cache[10.254.0.13]",
        "app.workers[10.254.0.13]",
    ]  # fmt: skip


def test_hosts_deployed_by_kamal_are_up_to_date() -> None:
    """No false drift on containers Kamal started (no backstaff digest on them)."""
    assert diff(example("v1"), live("deployed-v1")) == ()


def test_new_version() -> None:
    assert summary(diff(example("v2"), live("deployed-v1"))) == [
        ("-/+", "app.web[10.254.0.11]", ("new version v1 → v2",)),
        ("-/+", "app.web[10.254.0.12]", ("new version v1 → v2",)),
        ("-/+", "app.workers[10.254.0.13]", ("new version v1 → v2",)),
    ]


def change_env(data: dict[str, Any]) -> None:
    data["env"]["clear"]["TB_MODE"] = "changed"
    data["env"]["clear"]["TB_NEW"] = "1"
    del data["env"]["clear"]["TB_GREETING"]


def test_env_changed() -> None:
    changes = diff(example("v1", change_env), live("deployed-v1"))
    assert {c.address for c in changes} == {
        "app.web[10.254.0.11]", "app.web[10.254.0.12]", "app.workers[10.254.0.13]",
    }  # fmt: skip
    assert changes[0].action is Action.REPLACE
    assert changes[0].reasons == (
        "env changed: TB_MODE",
        "env added: TB_NEW",
        "env removed: TB_GREETING",
    )


def test_secret_value_changed_is_seen_through_the_env_file_digest() -> None:
    envfiles = {(".kamal/apps/tb/env/roles/web.env", "10.254.0.11"): "0" * 64}
    (change,) = diff(example("v1"), live("deployed-v1"), envfiles)
    assert change.address == "app.web[10.254.0.11]"
    assert change.reasons == ("secrets changed (env file differs)",)


def test_role_removed() -> None:
    def drop_workers(data: dict[str, Any]) -> None:
        del data["servers"]["workers"]

    assert summary(diff(example("v1", drop_workers), live("deployed-v1"))) == [
        ("-", "app.workers[10.254.0.13]", ("role removed from config",)),
    ]


def test_host_removed() -> None:
    def drop_h2(data: dict[str, Any]) -> None:
        data["servers"]["web"]["hosts"] = ["10.254.0.11"]

    changes = diff(example("v1", drop_h2), live("deployed-v1"))
    assert summary(changes) == [("-", "app.web[10.254.0.12]", ("host removed from role",))]
    assert changes[0].downtime  # its route is removed too


def test_accessory_image_changed() -> None:
    def new_image(data: dict[str, Any]) -> None:
        data["accessories"]["cache"]["image"] = "10.254.0.2:5000/tb/busybox:1.36"

    (change,) = diff(example("v1", new_image), live("deployed-v1"))
    assert change.address == "accessory.cache[10.254.0.13]" and change.action is Action.REPLACE
    assert change.reasons == (
        "image 10.254.0.2:5000/tb/busybox:1.35 → 10.254.0.2:5000/tb/busybox:1.36",
    )
    assert change.downtime


def test_accessory_removed_from_config() -> None:
    def drop_cache(data: dict[str, Any]) -> None:
        del data["accessories"]

    assert summary(diff(example("v1", drop_cache), live("deployed-v1"))) == [
        ("-", "accessory.cache[10.254.0.13]", ("accessory removed from config",)),
    ]


def test_proxy_missing() -> None:
    assert summary(diff(example("v1"), live("proxy-missing"))) == [
        ("+", "proxy.kamal-proxy[10.254.0.11]", ("not running",)),
    ]


def test_lock_held_is_not_a_change() -> None:
    assert diff(example("v1"), live("lock-held")) == ()


def test_cmd_and_route_drift() -> None:
    def new_cmd(data: dict[str, Any]) -> None:
        data["servers"]["workers"]["cmd"] = "tb-worker 9"
        data["proxy"]["host"] = "tb.example.com"

    changes = summary(diff(example("v1", new_cmd), live("deployed-v1")))
    assert ("~", "route.web[10.254.0.11]", ("hosts changed",)) in changes
    assert (
        "-/+",
        "app.workers[10.254.0.13]",
        ("cmd changed: tb-worker 5 → tb-worker 9",),
    ) in changes


def test_unreachable_host_is_left_out() -> None:
    from dataclasses import replace

    state = live("fresh")
    state = replace(state, hosts=tuple(replace(h, error="down") if h.host == "10.254.0.12" else h
                                       for h in state.hosts))  # fmt: skip
    assert all(c.host != "10.254.0.12" for c in diff(example(), state))


def test_accessory_env_changed() -> None:
    def new_mode(data: dict[str, Any]) -> None:
        data["accessories"]["cache"]["env"]["clear"]["CACHE_MODE"] = "lfu"

    (change,) = diff(example("v1", new_mode), live("deployed-v1"))
    assert change.address == "accessory.cache[10.254.0.13]" and change.action is Action.REPLACE
    assert any("CACHE_MODE" in reason for reason in change.reasons)


def test_a_new_secret_env_var_replaces_the_containers() -> None:
    def new_secret(data: dict[str, Any]) -> None:
        data["env"]["secret"].append("NEW_TOKEN")

    changes = diff(example("v1", new_secret), live("deployed-v1"))
    assert {c.address for c in changes} == {
        "app.web[10.254.0.11]", "app.web[10.254.0.12]", "app.workers[10.254.0.13]",
    }  # fmt: skip
    assert all(c.action is Action.REPLACE for c in changes)
    assert all(any("NEW_TOKEN" in r for r in c.reasons) for c in changes)
