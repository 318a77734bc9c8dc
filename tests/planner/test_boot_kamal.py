"""The containers a setup runs, against the real Kamal 2.11's, for the real configs of
fixtures/corpus/: every ``docker run`` (app roles, accessories, kamal-proxy) and every
``kamal-proxy deploy``, host by host, from each case's ``kamal-boot.txt`` (what Kamal ran on
fresh stand-in hosts, recorded by fixtures/record_kamal_boot.py).

Parity is the same effect: the same words once a POSIX shell has split them (``--env A="x"``
and ``--env A=x`` give docker one and the same argument). Kamal's random hostname suffix is
evened, and a proxy target is the container's id either way (Kamal reads it first and passes
it; backstaff's command reads it where it runs)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from backstaff.executors.config_files import read_sources
from backstaff.planner.commands.app import BOOTED_SHORT_ID
from backstaff.planner.commands.words import render
from backstaff.planner.desired import build_desired
from backstaff.planner.live import LiveState, parse_host
from backstaff.planner.plan import make_plan
from backstaff.planner.steps import Upload
from backstaff.schemas import load_config
from tests.conftest import FIXTURES
from tests.planner.kamal_recorded import words
from tests.test_kamal_corpus import recorder

CASES = sorted(p for p in (FIXTURES / "corpus").iterdir() if (p / "kamal-boot.txt").exists())
FRESH = (FIXTURES / "live" / "inspect-fresh" / "10.254.0.11.txt").read_text()
OPERATORS = set("();<>|&")
STAND_IN_ID = "0123456789ab"  # the container id the stand-in docker of the recordings prints
KEYWORDS = {"{", "}", "!", "then", "do", "else", "if", "while"}


def simple_commands(line: str) -> list[tuple[str, ...]]:
    """The simple commands of a command line, as a shell splits their words (hostname suffix
    evened by ``kamal_recorded.words``)."""
    commands: list[tuple[str, ...]] = []
    current: list[str] = []
    for word in words(line):
        if set(word) <= OPERATORS and word not in ("<", ">", ">>"):
            commands.append(tuple(current))
            current = []
        elif not (word in KEYWORDS and not current):
            current.append(word)
    return [c for c in [*commands, tuple(current)] if c]


def containers(line: str) -> list[tuple[str, ...]]:
    """The ``docker run`` and ``kamal-proxy deploy`` commands of a line, evened."""
    found = []
    line = line.replace("\\\n", "")  # the shell joins lines there (shlex would keep a "\n")
    # backstaff's proxy target is what its boot kept of `docker run`'s output, the id the
    # stand-in prints (tests/planner/test_commands.py runs that in the shells)
    line = line.replace(BOOTED_SHORT_ID.text, STAND_IN_ID)
    for command in simple_commands(line):
        argv = list(command[1:] if command[:1] == ("xargs",) else command)
        if argv[:2] == ["docker", "run"] or argv[2:5] == ["kamal-proxy", "kamal-proxy", "deploy"]:
            argv = [w.replace("\\`", "`").replace("\\$", "$") for w in argv]  # "...": the shell's
            # an accessory's: the id asked of docker by name, as Kamal does
            argv = [re.sub(r"^--target=\$\(docker container ls [^)]*\):", f"--target={STAND_IN_ID}:", w)
                    for w in argv]  # fmt: skip
            found.append(tuple(argv))
    return found


def kamal_ran(case: Path) -> dict[str, list[tuple[str, ...]]]:
    ran: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for line in (case / "kamal-boot.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            host, command = line.split("\t", 1)
            ran[host] += containers(json.loads(command))
    return {host: sorted(commands) for host, commands in ran.items()}


def backstaff_plans(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, list[tuple[str, ...]]]:
    env = recorder.case_env(case)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(case)
    destination = recorder.case_meta(case).get("destination")
    app = build_desired(
        load_config(read_sources(Path("config/deploy.yml"), destination, env)), "v1"
    )
    live = LiveState(tuple(parse_host(host, FRESH) for host in app.all_hosts))
    planned: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for step in make_plan(app, live, "digest").steps:
        for item in step.commands:
            if not isinstance(item, Upload):
                planned[step.host] += containers(render(item))
    return {host: sorted(commands) for host, commands in planned.items() if commands}


def test_the_recordings_cover_what_they_should() -> None:
    """Proxied roles, roles without the proxy, accessories, proxy.run and destinations."""
    names = {case.name for case in CASES}
    assert {"kamal-init", "kamal-it-app-with-roles", "kamal-it-app-with-destinations"} <= names
    lines = "".join((case / "kamal-boot.txt").read_text() for case in CASES)
    assert "kamal-proxy run" in lines and "kamal-proxy deploy" in lines
    assert re.search(r"docker run --name \S+ --detach --restart unless-stopped", lines)  # accessory


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_setup_runs_the_containers_kamal_runs(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert backstaff_plans(case, monkeypatch) == kamal_ran(case)
