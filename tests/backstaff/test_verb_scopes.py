"""What Kamal's redeploy and rollback plan: the app only; rollback pulls nothing; neither prunes."""

from __future__ import annotations

from backstaff.commands_apply import app_only
from backstaff.planner.changes import Change
from backstaff.planner.plan import make_plan
from tests.planner.scenarios import example, live


def kinds(ids: list[str]) -> set[str]:
    return {i.split("[", 1)[0].split(".")[0] for i in ids}


def redeploy(change: Change) -> bool:  # as commands_apply.redeploy
    return app_only(change) or change.kind == "registry"


def test_redeploy_boots_the_app_only_and_prunes_nothing() -> None:
    plan = make_plan(example("v2"), live("deployed-v1"), "digest", keep=redeploy, prune=False)
    ids = [s.id for s in plan.steps]
    assert kinds(ids) == {"lock", "image", "app", "barrier"}
    assert "image.pull[10.254.0.11]" in ids and "image.tag_latest[10.254.0.11]" in ids
    deploy = [s.id for s in make_plan(example("v2"), live("deployed-v1"), "digest").steps]
    assert "prune[10.254.0.11]" in deploy


def test_redeploy_on_fresh_hosts_boots_no_proxy_nor_accessory() -> None:
    plan = make_plan(example("v2"), live("fresh"), "digest", keep=redeploy, prune=False)
    ids = [s.id for s in plan.steps]
    assert not [i for i in ids if i.startswith(("proxy", "accessory", "network", "host", "prune"))]
    assert "registry.login[10.254.0.11]" in ids and "app.boot.web[10.254.0.11]" in ids


def test_rollback_boots_from_the_image_on_the_hosts() -> None:
    plan = make_plan(example("v2"), live("deployed-v1"), "digest", keep=app_only, pull=False,
                     prune=False)  # fmt: skip
    ids = [s.id for s in plan.steps]
    assert not [i for i in ids if i.startswith(("image.pull", "prune", "registry", "proxy"))]
    assert [i for i in ids if i.startswith("app.boot")] == [
        "app.boot.web[10.254.0.11]", "app.boot.web[10.254.0.12]",
        "app.boot.workers[10.254.0.13]",
    ]  # fmt: skip
    commands = "\n".join(line for s in plan.steps for line in s.rendered())
    assert "docker pull" not in commands and "docker image prune" not in commands
