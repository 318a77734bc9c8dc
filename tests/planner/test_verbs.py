"""Kamal's imperative verbs produce the command lines the real Kamal 2.11 ran."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from backstaff.planner.commands import accessory, verbs
from backstaff.planner.commands.base import join
from tests.planner.commands.test_app import SHELLS
from tests.planner.kamal_recorded import RECORDED, recorded, words
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


# A `docker` answering `ps --latest` and `image ls` from a table (FAKE_DOCKER_STATE), as the
# real one filters: every --filter must hold; the newest created container of those is printed.
FAKE_DOCKER = """#!/usr/bin/env python3
import json, os, sys
args, state = sys.argv[1:], json.loads(os.environ["FAKE_DOCKER_STATE"])
filters = [args[i + 1] for i, word in enumerate(args) if word == "--filter"]
if args[:2] == ["image", "ls"]:
    if filters == ["reference=" + state["latest_ref"]] and state["latest_id"]:
        print(state["latest_id"])
    sys.exit(0)
assert args[:2] == ["ps", "--latest"], args
def kept(container, rule):
    kind, _, value = rule.partition("=")
    return {"label": value in container["labels"], "status": container["status"] == value,
            "ancestor": container["image"] == value}[kind]
def held(container):
    statuses = [f for f in filters if f.startswith("status=")]
    return (all(kept(container, f) for f in filters if not f.startswith("status="))
            and any(kept(container, f) for f in statuses))
found = sorted((c for c in state["containers"] if held(c)), key=lambda c: c["created"])
if found:
    print(found[-1]["name"] if "--format" in args else found[-1]["id"])
"""
WEB_LABELS = ["service=tb", "destination=", "role=web"]


def _container(version: str, created: int, image: str, status: str = "running") -> dict[str, Any]:
    return {"name": f"tb-web-{version}", "id": f"id{version}", "created": created,
            "image": image, "status": status, "labels": WEB_LABELS}  # fmt: skip


# case -> (the role's containers, the id of the image tagged latest, the one found)
CURRENT_CASES: dict[str, tuple[list[dict[str, Any]], str, str | None]] = {
    # a rollback's container runs the latest tag; a newer one was started again by hand
    "the one on the latest image": (
        [_container("v1", 1, "I1"), _container("v2", 2, "I2")], "I1", "v1"),
    "newest on the latest image": (
        [_container("v1", 1, "I1"), _container("v2", 2, "I2")], "I2", "v2"),
    "no latest image: the newest": (
        [_container("v1", 1, "I1"), _container("v2", 2, "I2")], "", "v2"),
    "latest image not running": (
        [_container("v1", 1, "I1", "exited"), _container("v2", 2, "I2")], "I1", "v2"),
    "restarting counts": ([_container("v1", 1, "I1", "restarting")], "I9", "v1"),
    "none running": ([_container("v1", 1, "I1", "exited")], "I1", None),
}  # fmt: skip


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("case", list(CURRENT_CASES))
def test_the_current_container_is_the_one_kamal_finds(
    tmp_path: Path, shell: list[str], case: str
) -> None:
    """Kamal's current container (``app logs``, ``app stop``, ``app start``'s proxy target,
    ``app exec --reuse``'s version): its recorded ``sh -c '...' | head -1``, and backstaff's
    command, run by the same shell against the same containers, find the same one."""
    containers, latest_id, version = CURRENT_CASES[case]
    (tmp_path / "docker").write_text(FAKE_DOCKER)
    (tmp_path / "docker").chmod(0o755)
    state = {"containers": containers, "latest_ref": "10.254.0.2:5000/tb/app:latest",
             "latest_id": latest_id}  # fmt: skip
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}",
           "FAKE_DOCKER_STATE": json.dumps(state)}  # fmt: skip
    app = example("v3")
    web = app.roles[0]
    kamal_lines = (RECORDED / "12-remove.txt").read_text().splitlines()
    kamal_id = next(line for line in kamal_lines if "--quiet" in line and "role=web" in line)
    kamal_name = next(line for line in kamal_lines if "{{.Names}}" in line and "role=web" in line)
    pairs = [
        (kamal_id.removesuffix(" | xargs docker stop"), join(verbs.current_container_id(app, web)),
         f"id{version}\n"),
        (kamal_name.split(" | while ")[0], join(verbs.current_container_name(app, web)),
         f"tb-web-{version}\n"),
    ]  # fmt: skip
    for kamal, ours, expected in pairs:
        assert kamal.endswith("' | head -1"), kamal  # the recorded lookup, and only it
        found = [
            subprocess.run(
                [*shell, "-c", command], env=env, capture_output=True, text=True, check=True
            ).stdout  # fmt: skip
            for command in (kamal, ours)
        ]
        assert found == [expected if version else ""] * 2, (kamal, ours)
