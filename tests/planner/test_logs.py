"""``app logs``, ``accessory logs`` and ``proxy logs`` against what the real Kamal 2.11 runs
(fixtures/kamal-commands/logs.txt), compared as shell words.

backstaff finds the current container with Kamal's two ``docker ps`` grouped by the shell
(``{ ...; } | head -1``) where Kamal starts ``sh -c '...' | head -1``: app commands are
compared from ``xargs`` on (tests/planner/test_verbs.py runs both lookups). Where backstaff keeps an
option Kamal 2.11 drops (docs/kamal-differences.md), the case says what it adds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backstaff.planner.commands import proxy, verbs
from backstaff.planner.commands.base import Cmd, join
from backstaff.planner.commands.words import values
from backstaff.planner.model import App
from tests.planner.kamal_recorded import RECORDED, words
from tests.planner.scenarios import example


def kamal_runs() -> dict[str, str]:
    """``kamal ARGS -v`` -> the command Kamal ran (or handed to ``ssh -t``)."""
    lines = (RECORDED / "logs.txt").read_text().splitlines()
    found: dict[str, str] = {}
    for head, command in zip(lines, lines[1:], strict=False):
        if head.startswith("# kamal ") and not command.startswith("#"):
            found[head.removeprefix("# kamal ").split(" -v")[0]] = command
    return found


Build = Callable[[App], Cmd]

CASES: list[tuple[str, Build]] = [
    ("app logs", lambda a: verbs.app_logs(a, a.roles[0])),
    ("app logs -n 5 -g 'GET /up' --grep-options '-i -C 2'",
     lambda a: verbs.app_logs(a, a.roles[0], 5, "GET /up", grep_options="-i -C 2")),
    ("app logs -s 42m -T", lambda a: verbs.app_logs(a, a.roles[0], since="42m", timestamps=False)),
    ("app logs -g x", lambda a: verbs.app_logs(a, a.roles[0], grep="x")),
    ("accessory logs cache", lambda a: verbs.accessory_logs(a.accessories[0])),
    ("accessory logs cache -s 5m -n 7 -g foo --grep-options=-v -T",
     lambda a: verbs.accessory_logs(a.accessories[0], 7, "foo", since="5m", grep_options="-v",
                                    timestamps=False)),
    ("proxy logs", lambda a: proxy.logs()),
    ("proxy logs -s 1h -g bar -T", lambda a: proxy.logs(since="1h", grep="bar", timestamps=False)),
    ("proxy logs -n 3", lambda a: proxy.logs(3)),
    ("app logs -f", lambda a: verbs.app_logs(a, a.roles[0], follow=True)),
    ("app logs -f -g x --grep-options=-i",
     lambda a: verbs.app_logs(a, a.roles[0], grep="x", grep_options="-i", follow=True)),
    ("app logs -f -h 10.254.0.13", lambda a: verbs.app_logs(a, a.roles[1], follow=True)),
    ("proxy logs -f -h 10.254.0.12", lambda a: proxy.logs(follow=True)),
]  # fmt: skip


def _from_xargs(command: tuple[str, ...]) -> tuple[str, ...]:
    return command[command.index("xargs") :] if "xargs" in command else command


@pytest.mark.parametrize(("kamal", "build"), CASES, ids=[c[0] for c in CASES])
def test_same_command_as_kamal(kamal: str, build: Build) -> None:
    command = build(example("v1"))
    assert _from_xargs(words(join(command))) == _from_xargs(words(kamal_runs()[kamal]))


def test_app_logs_read_the_current_container_of_the_role() -> None:
    a = example("v1")
    for role in a.roles:
        command = words(join(verbs.app_logs(a, role)))
        current = words(join(verbs.current_container_id(a, role)))
        assert command[: len(current) + 1] == (*current, "|")


# Where backstaff keeps what Kamal 2.11 drops when following: --since (all three) and -n
# (accessory and proxy, which Kamal always starts 10 lines back).
KEPT: list[tuple[str, Build, tuple[str, ...]]] = [
    ("app logs -f -n 3 -T -s 5m",
     lambda a: verbs.app_logs(a, a.roles[0], 3, since="5m", timestamps=False, follow=True),
     ("--tail", "3", "--follow")),
    ("accessory logs cache -f -g y --grep-options=-v -n 3 -s 5m",
     lambda a: verbs.accessory_logs(a.accessories[0], 3, "y", since="5m", grep_options="-v",
                                    follow=True),
     ("--timestamps", "--tail", "10", "--follow")),
    ("proxy logs -f -g z -T -n 5",
     lambda a: proxy.logs(5, grep="z", timestamps=False, follow=True),
     ("--tail", "10", "--follow")),
]  # fmt: skip
KEPT_AS = {
    "app logs -f -n 3 -T -s 5m": ("--since", "5m", "--tail", "3", "--follow"),
    "accessory logs cache -f -g y --grep-options=-v -n 3 -s 5m":
        ("--timestamps", "--since", "5m", "--tail", "3", "--follow"),
    "proxy logs -f -g z -T -n 5": ("--tail", "5", "--follow"),
}  # fmt: skip


@pytest.mark.parametrize(("kamal", "build", "flags"), KEPT, ids=[c[0] for c in KEPT])
def test_following_keeps_since_and_lines(kamal: str, build: Build, flags: tuple[str, ...]) -> None:
    theirs = " ".join(_from_xargs(words(kamal_runs()[kamal])))
    assert " ".join(flags) in theirs  # what Kamal runs, so the replacement below is exact
    expected = theirs.replace(" ".join(flags), " ".join(KEPT_AS[kamal]))
    assert " ".join(_from_xargs(words(join(build(example("v1")))))) == expected


def test_container_id_reads_that_container() -> None:
    """Kamal 2.11 runs only ``echo ID`` without -f (SSHKit drops the rest of the pipe), and
    ``echo ID | xargs docker logs …`` with it: backstaff hands the ID to docker logs."""
    a = example("v1")
    assert kamal_runs()["app logs --container-id abc123 -g x"] == "echo abc123"
    ours = join(verbs.app_logs(a, a.roles[0], grep="x", container_id="abc123"))
    assert words(ours) == words("docker logs --timestamps abc123 2>&1 | grep x")
    theirs = kamal_runs()["app logs -f --container-id abc"]
    assert theirs == "echo abc | xargs docker logs --timestamps --tail 10 --follow 2>&1"
    ours = join(verbs.app_logs(a, a.roles[0], follow=True, container_id="abc"))
    assert words(ours) == words("docker logs --timestamps --tail 10 --follow abc 2>&1")


def test_default_lines() -> None:
    """100 lines, 10 when following; every line when --since or --grep chooses; -n wins."""
    a = example("v1")
    for build, default in (
        (lambda **kw: verbs.app_logs(a, a.roles[0], **kw), "100"),
        (lambda **kw: verbs.app_logs(a, a.roles[0], follow=True, **kw), "10"),
        (lambda **kw: verbs.accessory_logs(a.accessories[0], **kw), "100"),
        (lambda **kw: proxy.logs(**kw), "100"),
    ):
        assert ("--tail", default) == _tail(build())
        assert _tail(build(since="1h")) == ()
        assert _tail(build(grep="x")) == ()
        assert _tail(build(grep="x", lines=0)) == ("--tail", "0")


def _tail(command: Cmd) -> tuple[str, ...]:
    split = words(join(command))
    return split[split.index("--tail") :][:2] if "--tail" in split else ()


HOSTILE = 'x\'; touch /tmp/pwned; echo "$(id)" `id` *'


@pytest.mark.parametrize(
    "build",
    [
        lambda a: verbs.app_logs(a, a.roles[0], grep=HOSTILE, since=HOSTILE),
        lambda a: verbs.app_logs(a, a.roles[0], follow=True, container_id=HOSTILE, grep=HOSTILE),
        lambda a: verbs.accessory_logs(a.accessories[0], grep=HOSTILE, since=HOSTILE,
                                       follow=True),
        lambda a: proxy.logs(grep=HOSTILE, since=HOSTILE),
    ],
)  # fmt: skip
def test_values_stay_one_word(build: Build) -> None:
    command = build(example("v1"))
    split = words(join(command))
    assert values(command) and all(value == HOSTILE for value in values(command)[-2:])
    assert split.count(HOSTILE) == values(command).count(HOSTILE)


def test_grep_options_are_split_into_words_each_a_value() -> None:
    a = example("v1")
    command = verbs.app_logs(a, a.roles[0], grep="x", grep_options="-i --label 'a b' $(id)")
    assert words(join(command))[-6:] == ("grep", "x", "-i", "--label", "a b", "$(id)")
    with pytest.raises(ValueError, match="--grep-options"):
        verbs.app_logs(a, a.roles[0], grep="x", grep_options="'unbalanced")
