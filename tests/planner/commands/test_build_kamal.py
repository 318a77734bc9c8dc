"""Build commands against the real Kamal 2.11's (fixtures/kamal-commands/builds/: what
``kamal build push|create|remove|dev`` and ``deploy --no-cache`` ran with -v for each builder
config in cases.yml), word by word as a POSIX shell splits them."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from backstaff.planner.commands import build as build_cmd
from backstaff.planner.commands import host as host_cmd
from backstaff.planner.commands.base import join
from backstaff.planner.commands.words import Cmd
from backstaff.planner.desired import build_desired
from backstaff.schemas import ConfigSources, load_config
from tests.conftest import FIXTURES
from tests.planner.kamal_recorded import words
from tests.schemas.helpers import kamal_yaml

HERE = FIXTURES / "kamal-commands" / "builds"
CASES: dict[str, Any] = yaml.safe_load((HERE / "cases.yml").read_text())
ROOT, PROJECT, TMPDIR = (
    "/tmp/backstaff-kamal-build",
    "/tmp/backstaff-kamal-build/app",
    "/tmp/backstaff-kamal-build/tmp",
)
BASE: dict[str, Any] = {
    "service": "myapp",
    "image": "acme/myapp",
    "servers": ["127.0.0.1"],
    "ssh": {"port": 1},
    "registry": {"server": "127.0.0.1:1", "username": "u", "password": ["REGISTRY_PASSWORD"]},
}
EXPORT = re.compile(r'^\( export BUILDKIT_NO_CLIENT_TOKEN="1" ; (.*) \)$')
REVISION = re.compile(r"^[0-9a-f]{40}$")


def recorded_runs(case: str) -> list[tuple[str, list[str], list[str]]]:
    """(the run, its commands, its notices) per run of a case."""
    runs: list[tuple[str, list[str], list[str]]] = []
    for line in (HERE / f"{case}.txt").read_text().splitlines():
        if line.startswith("# "):
            runs.append((line[2:].rsplit(" (exit", 1)[0], [], []))
        elif line.startswith("! "):
            runs[-1][2].append(line[2:])
        else:
            runs[-1][1].append(line.removeprefix("/usr/bin/env ").removeprefix("/usr/bin/env"))
    return runs


def builder(case: str) -> build_cmd.Builder:
    spec = CASES[case]
    data = {**BASE, "builder": spec["builder"]}
    data["registry"] = {**BASE["registry"], **(spec.get("registry") or {})}
    loaded = load_config(ConfigSources("config/deploy.yml", kamal_yaml(data, sort_keys=False)))
    return build_cmd.resolve(build_desired(loaded, "v1"), loaded.data, "amd64")


def ours(command: Cmd | None) -> tuple[str, ...]:
    """Our words, with what Kamal's log redacts redacted and the revision evened."""
    if command is None:
        return ()
    out = list(words(join(command)))
    for i, word in enumerate(out):
        if i and out[i - 1] == "--build-arg" and "=" in word:
            out[i] = "[REDACTED]"
    return tuple("REVISION" if REVISION.match(w) else w for w in out)


def theirs(line: str) -> tuple[str, ...]:
    return tuple("REVISION" if REVISION.match(w) else w for w in words(line))


def split_push(line: str) -> tuple[str, dict[str, str]]:
    if match := EXPORT.match(line):
        return match.group(1), {"BUILDKIT_NO_CLIENT_TOKEN": "1"}
    return line, {}


def options(run: str) -> tuple[str, bool]:
    args = run.split()
    output = (
        args[args.index("--output") + 1]
        if "--output" in args
        else ("docker" if "dev" in args else "registry")
    )
    return output, "--no-cache" in args


def clone_commands() -> set[tuple[str, ...]]:
    clone_dir = build_cmd.clone_directory(TMPDIR, "myapp", PROJECT)
    build_dir = build_cmd.build_directory(clone_dir, PROJECT, PROJECT)
    commands = [build_cmd.clone(clone_dir, PROJECT), build_cmd.clone_status(build_dir),
                build_cmd.clone_revision(build_dir),
                *build_cmd.clone_reset_steps(build_dir, PROJECT, "0" * 40)]  # fmt: skip
    return {ours(c) for c in commands}


PUSHES = [(case, i) for case in CASES for i, (run, _, _) in enumerate(recorded_runs(case))
          if run.split()[:2] in (["build", "push"], ["build", "dev"], ["deploy", "--no-cache"])]  # fmt: skip


@pytest.mark.parametrize(("case", "index"), PUSHES, ids=[f"{c}-{i}" for c, i in PUSHES])
def test_build_push_as_kamal(case: str, index: int) -> None:
    run, commands, notices = recorded_runs(case)[index]
    b = builder(case)
    output, no_cache = options(run)
    dirty = run.startswith("build dev")
    build_line = next(c for c in reversed(commands) if "buildx build" in c or "pack build" in c)
    line, env = split_push(build_line)
    assert ours(build_cmd.push(b, output, no_cache=no_cache, dirty=dirty)) == theirs(line)
    assert b.push_env == env
    if dirty:
        return  # build dev: the working directory, no clone, no builder check
    # the clean clone of HEAD, exactly Kamal's git commands (clone, or reset when it exists)
    git = {theirs(c) for c in commands if c.startswith("git ")}
    assert git <= clone_commands() and bool(git) == b.git_clone
    assert any(n.startswith("Building from a local git clone") for n in notices) == b.git_clone
    assert any(n.startswith("Building with uncommitted changes") for n in notices) == (
        not b.git_clone
    )
    # the builder check, then (remote builders: the stand-in's inspect fails) remove + create
    inspect = build_cmd.inspect_builder(b)
    others = [theirs(c) for c in commands
              if not c.startswith(("git ", "docker --version", "docker login", "docker start")) and c != build_line and c]  # fmt: skip
    expected = [ours(inspect)] if inspect else []
    if b.kind in ("remote", "hybrid"):
        expected += [ours(build_cmd.remove(b)), ours(build_cmd.create(b))]
    assert others[: len(expected)] == expected
    # Kamal logs in locally except for remote builders (backstaff: the password on stdin), and
    # starts the local registry instead for a localhost:PORT one
    local = b.app.registry.local
    assert any(c.startswith("docker login") for c in commands) == (b.login_locally and not local)
    setup = [theirs(c) for c in commands if c.startswith("docker start")]
    assert setup == (
        [ours(host_cmd.local_registry_setup(b.app.registry.server or ""))] if local else []
    )


SETUPS = [(case, i) for case in CASES for i, (run, _, _) in enumerate(recorded_runs(case))
          if run in ("build create", "build remove")]  # fmt: skip


@pytest.mark.parametrize(("case", "index"), SETUPS, ids=[f"{c}-{i}" for c, i in SETUPS])
def test_build_create_and_remove_as_kamal(case: str, index: int) -> None:
    run, commands, _ = recorded_runs(case)[index]
    b = builder(case)
    command = build_cmd.create(b) if run == "build create" else build_cmd.remove(b)
    # the docker driver has no builder: Kamal runs an empty command (`/usr/bin/env`)
    assert [theirs(c) for c in commands if c] == ([ours(command)] if command else [])


def test_every_case_was_compared() -> None:
    assert {c for c, _ in PUSHES} | {c for c, _ in SETUPS} == set(CASES)
    assert len(PUSHES) >= 17 and len(SETUPS) >= 10


def test_build_deliver_takes_no_build_options_as_in_kamal() -> None:
    run, commands, notices = recorded_runs("deliver-no-cache")[0]
    assert run == "build deliver --no-cache" and not commands
    assert any(
        '"kamal build deliver" was called with arguments ["--no-cache"]' in n for n in notices
    )


def test_builder_kinds_and_names() -> None:
    assert {case: builder(case).kind for case in ("local-default", "hybrid", "remote-only", "remote-local-false", "cloud", "pack")} == {
        "local-default": "local", "hybrid": "hybrid", "remote-only": "remote",
        "remote-local-false": "remote", "cloud": "cloud", "pack": "pack",
    }  # fmt: skip
    assert builder("cloud").name == "cloud-acme-main-builder"
    assert builder("local-registry-create").name == "kamal-local-registry-docker-container"


def test_clone_directory_is_kamals() -> None:
    """The clone directory Kamal printed (sha256 of the project path), so the two share it."""
    text = (HERE / "local-default.txt").read_text()
    clone_dir = build_cmd.clone_directory(TMPDIR, "myapp", PROJECT)
    assert f"git -C {clone_dir} clone {PROJECT} --recurse-submodules" in text
    assert f"git -C {clone_dir}/app/ status --porcelain" in text
    assert (
        build_cmd.build_directory(clone_dir, "/r/app", "/r/app/sub/dir")
        == f"{clone_dir}/app/sub/dir"
    )
