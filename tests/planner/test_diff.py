"""Desired vs live over real captures: each scenario gives exactly the expected changes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from backstaff.planner.changes import Action, Change, Difference
from backstaff.planner.diff import diff
from backstaff.planner.live import LiveState
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


def test_a_blank_clear_value_is_whatever_docker_passed_on() -> None:
    """``TB_EMPTY: ""`` boots as ``--env TB_EMPTY`` (Kamal's argumentize): docker passes on its
    own environment's variable, usually none. Absent from the container, or there with any
    value, is what was asked; a variable the config does not name is still removed."""

    def blank(data: dict[str, Any]) -> None:
        data["env"]["clear"]["TB_EMPTY"] = ""
        data["env"]["clear"]["TB_MODE"] = "  "  # the container has TB_MODE=testbed

    assert diff(example("v1", blank), live("deployed-v1")) == ()

    def blank_and_removed(data: dict[str, Any]) -> None:
        blank(data)
        del data["env"]["clear"]["TB_GREETING"]

    (first, *_) = diff(example("v1", blank_and_removed), live("deployed-v1"))
    assert first.reasons == ("env removed: TB_GREETING",)


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


def attributes(change: Change) -> dict[str, tuple[str, object, object, bool, bool]]:
    return {
        a.path: (a.change.value, a.before, a.after, a.sensitive, a.forces_replacement)
        for a in change.attributes
    }


def test_an_old_value_is_shown_only_where_the_host_shows_it_was_clear() -> None:
    def edit(data: dict[str, Any]) -> None:
        data["env"]["clear"]["TB_GREETING"] = "hello there"

    for scenario, before in (("deployed-v1-envkeys", "hello"), ("deployed-v1", None)):
        (web, *_) = diff(example("v1", edit), live(scenario))
        assert attributes(web)["env.clear.TB_GREETING"] == (
            "changed", before, "hello there", False, True)  # fmt: skip


def test_every_difference_rides_with_a_new_version() -> None:
    def edits(data: dict[str, Any]) -> None:
        data["env"]["clear"]["TB_GREETING"] = "hello there"
        data["servers"]["workers"]["cmd"] = "tb-worker 9"
        data["servers"]["workers"]["options"] = {"memory": "1g", "cpus": "1.5"}

    changes = {c.address: c for c in diff(example("v2", edits), live("deployed-v1-envkeys"))}
    workers = changes["app.workers[10.254.0.13]"]
    assert workers.reasons == (
        "new version v1 → v2", "env changed: TB_GREETING", "cmd changed: tb-worker 5 → tb-worker 9",
        "option changed: cpus", "option changed: memory",
    )  # fmt: skip
    assert attributes(workers) == {
        "version": ("changed", "v1", "v2", False, True),
        "env.clear.TB_GREETING": ("changed", "hello", "hello there", False, True),
        "cmd": ("changed", "tb-worker 5", "tb-worker 9", False, True),
        "options.cpus": ("added", None, "1.5", False, True),
        "options.memory": ("added", None, "1g", False, True),
    }


def test_secrets_are_named_never_shown() -> None:
    from backstaff.planner.live import value_digest

    secrets = {"SECRET_TOKEN": value_digest("rotated"), "CACHE_PASSWORD": value_digest("x")}
    envfiles = {(".kamal/apps/tb/env/roles/web.env", "10.254.0.11"): "0" * 64}
    changes = {c.address: c for c in diff(example("v1"), live("deployed-v1"), envfiles, secrets)}
    web = changes["app.web[10.254.0.11]"]
    assert web.reasons == ("secret changed: SECRET_TOKEN",)
    assert attributes(web) == {"env.secret.SECRET_TOKEN": ("changed", None, None, True, True)}
    cache = changes["accessory.cache[10.254.0.13]"]
    assert attributes(cache) == {"env.secret.CACHE_PASSWORD": ("changed", None, None, True, True)}
    # the same secret value: nothing to say
    same = {"SECRET_TOKEN": value_digest("s3cr3t-token-123"), "CACHE_PASSWORD": value_digest(
        "cache-pass-456")}  # fmt: skip
    assert diff(example("v1"), live("deployed-v1"), None, same) == ()


def test_a_secret_made_clear_shows_only_its_new_value() -> None:
    def to_clear(data: dict[str, Any]) -> None:
        data["env"]["secret"] = []
        data["env"]["clear"]["SECRET_TOKEN"] = "public"

    (web, *_) = diff(example("v1", to_clear), live("deployed-v1-envkeys"))
    assert attributes(web)["env.clear.SECRET_TOKEN"] == ("changed", None, "public", False, True)


def test_a_clear_value_made_secret_is_sensitive() -> None:
    from backstaff.planner.live import value_digest

    def to_secret(data: dict[str, Any]) -> None:
        del data["env"]["clear"]["TB_GREETING"]
        data["env"]["secret"].append("TB_GREETING")

    secrets = {"TB_GREETING": value_digest("a secret now"),
               "SECRET_TOKEN": value_digest("s3cr3t-token-123")}  # fmt: skip
    (web, *_) = diff(example("v1", to_secret), live("deployed-v1"), None, secrets)
    assert attributes(web) == {"env.secret.TB_GREETING": ("changed", None, None, True, True)}


def test_route_settings() -> None:
    def edits(data: dict[str, Any]) -> None:
        data["servers"]["web"]["hosts"] = ["10.254.0.11"]  # SSL: one server
        data["proxy"]["host"] = "tb.example.com"
        data["proxy"]["ssl"] = True
        data["proxy"]["path_prefix"] = "/api"

    changes = {c.address: c for c in diff(example("v1", edits), live("deployed-v1"))}
    route = changes["route.web[10.254.0.11]"]
    assert route.action is Action.UPDATE
    assert attributes(route) == {
        "hosts": ("changed", "*", "tb.example.com", False, False),
        "path_prefixes": ("changed", "/", "/api", False, False),
        "tls": ("changed", "no", "yes", False, False),
    }


def test_accessory_files_directories_labels_and_network() -> None:
    def edits(data: dict[str, Any]) -> None:
        cache = data["accessories"]["cache"]
        cache["files"] = ["config/cache.conf:/etc/other.conf"]
        cache["directories"] = []
        cache["labels"] = {"tier": "cache"}

    (cache,) = diff(example("v1", edits), live("deployed-v1"))
    assert attributes(cache) == {
        "labels.tier": ("added", None, "cache", False, True),
        "files": ("changed", ("/etc/cache.conf",), ("/etc/other.conf",), False, True),
        "directories": ("removed", ("/data",), None, False, True),
    }


def _without_ids(changes: tuple[Change, ...]) -> list[tuple[Any, ...]]:
    return [
        (c.action, c.address, c.reasons, tuple(kv for kv in c.before if kv[0] != "id"), c.after)
        for c in changes
    ]


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_one_inspect_answer_plans_as_the_answer_before_it(version: str) -> None:
    """Issue #14: the same hosts read by the three-docker-call gather plan the same changes
    as read by the older one (captures made on the test bed, same scenario)."""
    assert _without_ids(diff(example(version), live("inspect-deployed-v1"))) == _without_ids(
        diff(example(version), live("deployed-v1"))
    )
    assert diff(example(version), live("inspect-fresh")) == diff(example(version), live("fresh"))


def _with_image_env(names: tuple[str, ...]) -> LiveState:
    """deployed-v1 where 10.254.0.11's web container also has PATH, and its image sets ``names``."""
    state = live("deployed-v1")
    host = state.host("10.254.0.11")
    web = next(c for c in host.containers if c.name == "tb-web-v1")
    extended = replace(web, env=(*web.env, ("PATH", "0" * 16)))
    image_env = tuple(
        (image, names if image == web.image_id else env) for image, env in host.image_env
    )
    changed = replace(host, containers=tuple(extended if c is web else c for c in host.containers),
                      image_env=image_env)  # fmt: skip
    return LiveState(tuple(changed if h is host else h for h in state.hosts))


def test_a_variable_the_image_sets_is_not_removed_from_the_config() -> None:
    assert diff(example("v1"), _with_image_env(("PATH",))) == ()
    for unknown_image in (_with_image_env(()), _without_image_env()):
        (change,) = diff(example("v1"), unknown_image)
        assert change.address == "app.web[10.254.0.11]"
        assert change.reasons == ("env removed: PATH",)


def _without_image_env() -> LiveState:
    """As above, the image's env not read at all."""
    state = _with_image_env(())
    return LiveState(tuple(replace(h, image_env=()) for h in state.hosts))


def test_a_changed_env_file_is_a_sensitive_attribute() -> None:
    envfiles = {(".kamal/apps/tb/env/roles/web.env", "10.254.0.11"): "0" * 64}
    (change,) = diff(example("v1"), live("deployed-v1"), envfiles)
    (attribute,) = change.attributes
    assert (attribute.path, attribute.change, attribute.sensitive) == (
        "env_file",
        Difference.CHANGED,
        True,
    )
    assert attribute.before is None and attribute.after is None
