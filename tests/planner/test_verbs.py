"""Kamal's imperative verbs produce the command lines the real Kamal 2.11 ran."""

from __future__ import annotations

from backstaff.planner.commands import accessory, verbs
from backstaff.planner.commands.base import join
from tests.planner.kamal_recorded import recorded, words
from tests.planner.scenarios import example


def test_maintenance_and_live() -> None:
    app = example("v3")
    web = app.roles[0]
    assert words(join(verbs.proxy_maintenance(app, web, None))) in recorded("02-app-maintenance")
    assert words(join(verbs.proxy_live(web))) in recorded("03-app-live")


def test_remove_commands() -> None:
    app = example("v3")
    remove = recorded("12-remove")
    for role in app.roles:
        assert words(join(verbs.app_remove_containers(app, role))) in remove
    assert words(join(verbs.app_remove_images(app))) in remove
    assert words(join(accessory.remove_container("tb-cache"))) in remove
    assert words(join(accessory.stop("tb-cache"))) in remove
    assert words("docker image rm --force 10.254.0.2:5000/tb/busybox:1.35") in remove


def test_details_and_logs() -> None:
    app = example("v3")
    assert join(verbs.app_details(app, app.roles[0])) == (
        "docker ps --filter label=service=tb --filter label=destination= --filter label=role=web"
    )
    assert join(verbs.app_logs(app, app.roles[0], 100, None)).endswith(
        "| xargs docker logs --timestamps --tail 100 2>&1"
    )
    assert words(join(verbs.accessory_details(app.accessories[0]))) in recorded(
        "09-accessory-details-all"
    )


def test_maintenance_drain_timeout_overrides_the_config() -> None:
    app = example("v3")
    command = join(verbs.proxy_maintenance(app, app.roles[0], "Back soon", 5))
    assert words(command) == (
        "docker", "exec", "kamal-proxy", "kamal-proxy", "stop", "tb-web", "--drain-timeout=5s",
        "--message=Back soon",
    )  # fmt: skip
