"""Command builders against what the real Kamal 2.11 ran on the test bed (reference logs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backstaff.planner.commands import accessory, app, host, proxy
from backstaff.planner.commands.app import env_file_content
from backstaff.planner.commands.base import join, shell_value
from tests.planner.scenarios import example

RECORDED = (
    Path(__file__).resolve().parents[2] / "fixtures" / "kamal-commands" / "02-deploy-P-v2.txt"
)


def recorded() -> set[str]:
    lines = RECORDED.read_text().splitlines()
    return {re.sub(r"--hostname (\S+)-[0-9a-f]{12}", r"--hostname \1-HEX", line) for line in lines}


def normalized(command: str) -> str:
    return re.sub(r"--hostname (\S+)-[0-9a-f]{12}", r"--hostname \1-HEX", command)


@pytest.mark.parametrize(
    "build",
    [
        lambda a: app.run(a, a.roles[0], "10.254.0.11", "v2"),
        lambda a: app.run(a, a.roles[1], "10.254.0.13", "v2"),
        lambda a: app.stop_container("tb-web-v1", a.roles[0], 30),
        lambda a: app.tag_latest(a),
        lambda a: proxy.deploy(a, "tb-web", a.roles[0].proxy, "dd00d0b11779", "web"),
        lambda a: proxy.boot(a),
        lambda a: host.prune_containers(a),
        lambda a: host.prune_images(a)[0],
        lambda a: host.prune_images(a)[1],
        lambda a: host.pull(a)[0],
        lambda a: host.pull(a)[1],
        lambda a: host.pull(a)[2],
        lambda a: host.network_create(),
        lambda a: host.lock_release(a),
    ],
    ids=["run-web", "run-workers", "stop", "tag", "proxy-deploy", "proxy-boot", "prune-containers",
         "prune-images", "prune-unused-images", "image-rm", "pull", "label-check", "network", "unlock"],
)  # fmt: skip
def test_same_command_as_kamal(build) -> None:  # type: ignore[no-untyped-def]
    command = normalized(join(build(example("v2"))))
    assert command in recorded(), command


def test_accessory_run_matches_kamal_setup() -> None:
    a = example("v1")
    setup = (RECORDED.parent / "01-setup-P-v1.txt").read_text().splitlines()
    assert join(accessory.run(a, a.accessories[0], "10.254.0.13")) in setup


def test_login_keeps_the_password_off_the_command_line() -> None:
    a = example("v1")
    assert (
        join(host.login(a.registry, "tb"))
        == 'docker login 10.254.0.2:5000 -u "tb" --password-stdin'
    )


def test_value_escaping_matches_kamal() -> None:
    values = [("A", "x y"), ("B", "$HOME"), ("C", "${HOME}"), ("D", 'a"b'), ("E", "`id`")]
    assert " ".join(f"--env {k}={shell_value(v)}" for k, v in values) == (
        '--env A="x y" --env B="\\$HOME" --env C="${HOME}" --env D="a\\"b" --env E="\\`id\\`"'
    )


def test_env_file_content_matches_kamal() -> None:
    pairs = (("A", "x y"), ("B", "line1\nline2"), ("C", 'q"uote'), ("D", "back\\slash"),
             ("E", "#hash"), ("F", ""))  # fmt: skip
    assert (
        env_file_content(pairs)
        == 'A=x y\nB=line1\\nline2\nC=q"uote\nD=back\\\\slash\nE=#hash\nF=\n'
    )
    assert env_file_content(()) == "\n"
