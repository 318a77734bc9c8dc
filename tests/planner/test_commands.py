"""Command builders against what the real Kamal 2.11 ran on the test bed (reference logs).

Parity is the same effect, not the same bytes: each command must split into the same shell
words as Kamal's (where Kamal quotes ``--env A="x"``, backstaff quotes ``'A=x'``: docker gets
the same argument)."""

from __future__ import annotations

import pytest

from backstaff.planner.commands import accessory, app, host, proxy
from backstaff.planner.commands.app import env_file_content
from backstaff.planner.commands.base import join
from backstaff.schemas import ConfigErrors
from tests.planner.kamal_recorded import recorded, words
from tests.planner.scenarios import example


@pytest.mark.parametrize(
    "build",
    [
        lambda a: app.run(a, a.roles[0], "10.254.0.11", "v2"),
        lambda a: app.run(a, a.roles[1], "10.254.0.13", "v2"),
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
    ids=["run-web", "run-workers", "tag", "proxy-deploy", "proxy-boot", "prune-containers",
         "prune-images", "prune-unused-images", "image-rm", "pull", "label-check", "network", "unlock"],
)  # fmt: skip
def test_same_command_as_kamal(build) -> None:  # type: ignore[no-untyped-def]
    command = join(build(example("v2")))
    assert words(command) in recorded("02-deploy-P-v2"), command


def test_the_old_container_stops_as_kamal_stops_it_by_name() -> None:
    """Kamal asks docker for the id by name, then stops it (``... | xargs docker stop``);
    backstaff stops the container the plan found by its name, one docker call, with the same
    timeout flags for each role."""
    a = example("v2")
    kamal = [w for w in recorded("02-deploy-P-v2") if w[:3] == ("docker", "container", "ls")
             and "stop" in w]  # fmt: skip
    assert len(kamal) == 2  # web (docker's default timeout), workers (-t 30)
    for line in kamal:
        name = line[line.index("--filter") + 1].removeprefix("name=^").removesuffix("$")
        role = next(r for r in a.roles if name.startswith(f"tb-{r.name}-"))
        ours = words(join(app.stop_container(name, role, 30)))
        assert ours == ("docker", "stop", *line[line.index("stop") + 1 :], "--", name)


def test_the_lock_is_the_directory_kamal_takes() -> None:
    """``mkdir`` fails when the directory exists: a lock taken by ``kamal lock acquire`` (or a
    Kamal deploy) stops backstaff's acquire, and backstaff's stops Kamal's."""
    ours = words(join(host.lock_acquire(example("v2"))))
    (kamal,) = (w for w in recorded("02-deploy-P-v2") if w[-1].endswith("/details"))
    assert ours[:3] == kamal[:3] == ("mkdir", ".kamal/lock-tb", "&&")
    assert ours[-2:] == kamal[-2:]


def test_accessory_run_matches_kamal_setup() -> None:
    a = example("v1")
    command = join(accessory.run(a, a.accessories[0], "10.254.0.13"))
    assert words(command) in recorded("01-setup-P-v1"), command


def test_login_keeps_the_password_off_the_command_line() -> None:
    a = example("v1")
    assert join(host.login(a.registry)) == "docker login 10.254.0.2:5000 -u tb --password-stdin"
    assert host.login_stdin_secrets(a.registry) == ("KAMAL_REGISTRY_PASSWORD",)


def test_env_file_content_is_taken_literally_by_docker() -> None:
    pairs = (("A", "x y"), ("C", 'q"uote'), ("D", "back\\slash"), ("E", "#hash"), ("F", ""),
             ("G", "é $(x) `y` ${HOME}"))  # fmt: skip
    assert env_file_content(pairs) == (
        'A=x y\nC=q"uote\nD=back\\slash\nE=#hash\nF=\nG=é $(x) `y` ${HOME}\n'
    )
    assert env_file_content(()) == "\n"
    with pytest.raises(ConfigErrors, match="B: a secret env value cannot hold a line break"):
        env_file_content((("B", "line1\nline2"),))
