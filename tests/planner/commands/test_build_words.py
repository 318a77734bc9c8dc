"""Values are data in builds too: every builder value of ``docker buildx build`` (and the
``pack build`` and clone commands) reaches the program as exactly the configured text when a
real ``sh``, ``dash`` and ``bash`` run the rendered command, or validation refuses it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from backstaff.planner.commands import build as build_cmd
from backstaff.planner.commands.words import render
from backstaff.planner.desired import build_desired
from backstaff.schemas import ConfigErrors, ConfigSources, load_config
from tests.planner.commands.test_words import EXAMPLE, HOSTILE, SHELLS, _contains, argv_in
from tests.planner.commands.test_words import bin_dir as bin_dir  # noqa: F401 - the fixture
from tests.schemas.helpers import kamal_yaml

Build = Callable[[build_cmd.Builder], Any]
# (builder keys for the value, the command, the arguments the program must get)
POSITIONS: dict[str, tuple[Callable[[str], dict[str, Any]], Build, Callable[[str], list[str]]]] = {
    "build arg": (lambda v: {"args": {"A": v}}, build_cmd.push,
                  lambda v: ["--build-arg", f"A={v}" if v.strip() else "A"]),
    "target": (lambda v: {"target": v}, build_cmd.push,
               lambda v: ["--target", v] if v.strip() else ["--file"]),
    "dockerfile": (lambda v: {"dockerfile": v}, build_cmd.push, lambda v: ["--file", v or "Dockerfile"]),
    "context": (lambda v: {"context": v}, build_cmd.push, lambda v: [v or ".", ]),
    "ssh": (lambda v: {"ssh": v}, build_cmd.push, lambda v: ["--ssh", v] if v.strip() else ["--file"]),
    "provenance": (lambda v: {"provenance": v}, build_cmd.push, lambda v: ["--provenance", v]),
    "cache options": (lambda v: {"cache": {"type": "registry", "options": v}}, build_cmd.push,
                      lambda v: ["--cache-to", f"type=registry,ref=10.254.0.2:5000/tb/app-build-cache,{v}"]),
    "secret name": (lambda v: {"secrets": [v]}, build_cmd.push, lambda v: ["--secret", f"id={v}"]),
    "pack arg": (lambda v: {"pack": {"builder": "b"}, "args": {"A": v}}, build_cmd.push,
                 lambda v: ["--env", f"A={v}" if v.strip() else "A"]),
    "remote": (lambda v: {"remote": v, "local": False}, build_cmd.create,
               lambda v: ["--docker", f"host={v}"]),
}  # fmt: skip


def builder(keys: dict[str, Any]) -> build_cmd.Builder | ConfigErrors:
    data = copy.deepcopy(EXAMPLE)
    data["builder"] = {**data["builder"], **keys}
    try:
        text = kamal_yaml(data).replace("<%", "<%%")
        loaded = load_config(ConfigSources("config/deploy.yml", text))
    except ConfigErrors as exc:
        return exc
    return build_cmd.resolve(build_desired(loaded, "v1"), loaded.data, "amd64")


@pytest.mark.parametrize("name", sorted(POSITIONS))
def test_every_builder_value_is_one_exact_argument(
    name: str, bin_dir: Path, tmp_path: Path
) -> None:  # noqa: F811
    keys, command_of, expected = POSITIONS[name]

    @settings(
        max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(value=HOSTILE)
    def check(value: str) -> None:
        b = builder(keys(value))
        if isinstance(b, ConfigErrors):
            assert all(str(e).split(":")[0] for e in b.errors), b  # a path and a reason
            return
        command = render(command_of(b)).replace("pack build", "docker build", 1)
        for shell in SHELLS:
            (argv,) = argv_in(shell, command, bin_dir, tmp_path)
            assert _contains(argv, expected(value)), (shell, value, command, argv)
        assert not (tmp_path / "p").exists() and not Path("/tmp/p").exists()

    check()
