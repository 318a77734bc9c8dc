"""Every exit code a script or CI job relies on, through ``main()`` as the installed command
runs it, with the gather fed from the live states recorded on the test bed (fixtures/live/):
``plan --detailed-exitcode`` (0 none, 2 changes, 1 error), ``drift`` (0, 2, 1), ``apply
PLAN`` (refusals), config errors (1) and usage errors (2)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable, Set
from pathlib import Path

import click
import pytest
import yaml

from backstaff import __version__, cli
from backstaff.cli import main
from backstaff.errors import BackstaffError
from backstaff.executors.deploy_lock import DeployLock
from backstaff.planner.live import LiveHost, LiveState
from backstaff.planner.model import App
from tests.planner.scenarios import live
from tests.schemas.helpers import kamal_yaml

REFUSED = "cannot connect on port 22: connection refused (nothing listens on that port)"


class Hosts:
    """What the hosts answer: a recorded scenario, some hosts unreachable."""

    scenario = "deployed-v1"
    unreachable: frozenset[str] = frozenset()

    def gather(
        self,
        app: App,
        hosts: Iterable[str],
        pool: object,
        before_reading: Callable[[frozenset[str]], None] | None = None,
    ) -> LiveState:
        if before_reading is not None:
            before_reading(self.unreachable)
        recorded = {h.host: h for h in live(self.scenario).hosts}
        return LiveState(tuple(
            LiveHost(h, error=REFUSED) if h in self.unreachable or h not in recorded else recorded[h]
            for h in dict.fromkeys(hosts)
        ))  # fmt: skip

    def take_lock(self, lock: DeployLock, unreachable: Set[str] = frozenset()) -> None:
        """The deploy lock as the recorded primary host answers: taken unless it holds one."""
        primary = live(self.scenario).host(lock.acquire.host)
        if lock.acquire.host in unreachable or primary.error:
            lock.error = f"{lock.acquire.host} cannot be reached"
        elif primary.lock is not None:
            lock.error = "mkdir: cannot create directory: File exists"
        else:
            lock.held = True

    def give_back_lock(self, lock: DeployLock) -> str | None:
        lock.held = False
        return None


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def edit(change: object) -> None:
    path = Path("config/deploy.yml")
    data = yaml.safe_load(path.read_text())
    change(data)  # type: ignore[operator]
    path.write_text(kamal_yaml(data, sort_keys=False))


def test_plan_without_changes(hosts: Hosts, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version", "v1", "plan")[0] == 0
    code, out, _ = run(capsys, "--version", "v1", "plan", "--detailed-exitcode")
    assert code == 0 and "No changes. The hosts match the configuration." in out


def test_plan_with_changes(hosts: Hosts, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version", "v2", "plan")[0] == 0
    code, out, _ = run(capsys, "--version", "v2", "plan", "--detailed-exitcode")
    assert code == 2 and "Plan: 0 to add, 0 to change, 3 to replace, 0 to destroy." in out
    assert run(capsys, "plan", "--detailed-exitcode", "--version", "v2", "--format", "json")[0] == 2


def test_plan_with_an_unread_host_is_an_error(
    hosts: Hosts, capsys: pytest.CaptureFixture[str]
) -> None:
    hosts.unreachable = frozenset({"10.254.0.13"})
    for args in (("plan",), ("plan", "--detailed-exitcode")):
        code, out, _ = run(capsys, "--version", "v2", *args)
        assert code == 1 and "This plan is incomplete" in out
    code, out, _ = run(capsys, "--version", "v1", "plan", "--include-hosts", "10.254.0.99")
    assert code == 1 and "! 10.254.0.99: cannot connect on port 22" in out


def test_drift(hosts: Hosts, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "drift")
    assert code == 0 and "No drift" in out
    edit(lambda d: d["env"]["clear"].update(TB_MODE="changed"))
    code, out, _ = run(capsys, "drift")
    assert code == 2 and "app.web[10.254.0.11]: env changed: TB_MODE" in out
    assert run(capsys, "drift", "--format", "json")[0] == 2
    hosts.unreachable = frozenset({"10.254.0.11", "10.254.0.12", "10.254.0.13"})
    code, _, err = run(capsys, "drift")
    assert code == 1 and "cannot connect on port 22" in err


def test_apply_refuses_a_plan_that_is_not_the_plan_made_now(
    hosts: Hosts, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "--version", "v2", "plan", "--out", "plan.json")[0] == 0
    saved = json.loads(Path("plan.json").read_text())
    # unedited: the check passes, and without a terminal apply then asks for -y
    code, _, err = run(capsys, "apply", "plan.json")
    assert code == 1 and "no terminal to confirm on" in err
    Path("edited.json").write_text(json.dumps({**saved, "steps": saved["steps"][:-1]}))
    code, _, err = run(capsys, "apply", "-y", "edited.json")
    assert code == 1 and "refusing the saved plan" in err
    hosts.scenario = "lock-held"  # the hosts changed since
    code, _, err = run(capsys, "apply", "-y", "plan.json")
    assert code == 1 and "stale plan" in err
    hosts.scenario = "deployed-v1"
    edit(lambda d: d["env"]["clear"].update(TB_MODE="changed"))
    code, _, err = run(capsys, "apply", "-y", "plan.json")
    assert code == 1 and "another config or destination" in err
    Path("garbage.json").write_text("{")
    code, _, err = run(capsys, "apply", "-y", "garbage.json")
    assert code == 1 and "cannot read the plan garbage.json" in err


def test_errors_and_usage(hosts: Hosts, capsys: pytest.CaptureFixture[str]) -> None:
    Path("config/deploy.yml").write_text("service: [")
    code, _, err = run(capsys, "plan")
    assert code == 1 and "YAML syntax error" in err and "Traceback" not in err
    assert run(capsys, "no-such-command")[0] == 1
    assert run(capsys, "plan", "--format", "nope")[0] == 1
    # never read as "changes" or "drift" by CI
    assert run(capsys, "plan", "--detailed-exitcode", "--no-such-option")[0] == 1
    assert run(capsys, "drift", "--no-such-option")[0] == 1


def test_an_error_comes_with_what_the_yaml_was_read_as(
    hosts: Hosts, capsys: pytest.CaptureFixture[str]
) -> None:
    """``port: 53:53`` is 193980 for Kamal (YAML 1.1 base 60): the error says which port is
    invalid, the warning before it why the config holds that number."""
    text = Path("config/deploy.yml").read_text()  # its accessories replaced by the last key
    Path("config/deploy.yml").write_text(
        text + "accessories:\n  dns:\n    image: coredns\n    host: 10.254.0.13\n    port: 53:53\n"
    )
    code, _, err = run(capsys, "plan")
    line = len(text.splitlines()) + 5
    assert code == 1 and err.splitlines() == [
        f"  WARNING: config/deploy.yml: line {line}: 53:53 is the number 193980, as Kamal reads it"
        " (YAML 1.1: a colon counts in base 60, a comma is left out); quote it to keep the text",
        "  ERROR: accessories/dns/port: invalid port '193980', use PORT or [IP:]HOST_PORT:PORT",
    ]


@pytest.mark.parametrize(
    ("raised", "code", "said"),
    [
        (KeyboardInterrupt(), 130, "Interrupted.\n"),
        (click.exceptions.Abort(), 130, "Aborted.\n"),
        (RuntimeError("boom"), 1, "  ERROR (RuntimeError): boom\n"),
        (BackstaffError("refused"), 1, "  ERROR: refused\n"),
    ],
    ids=["ctrl-c", "abort", "unexpected", "expected"],
)
def test_main_turns_every_way_out_into_a_status_and_a_line_on_stderr(
    raised: BaseException, code: int, said: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    def fail(args: list[str], commands: set[str]) -> list[str]:
        raise raised

    monkeypatch.setattr(cli, "expand_aliases", fail)
    assert run(capsys, "version") == (code, "", said)
    verbose = run(capsys, "-v", "version")
    assert verbose[0] == code
    if code == 1:  # an error's traceback only with -v
        assert verbose[2].startswith(said + "Traceback (most recent call last):")


def test_main_reads_the_command_line_and_names_the_program_in_usage(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["anything", "version"])
    assert main(None) == 0 and capsys.readouterr().out == f"{__version__}\n"
    code, _, err = run(capsys, "plan", "--format", "nope")
    assert code == 1 and err.startswith("Usage: backstaff plan [OPTIONS]")


@pytest.mark.parametrize(
    ("args", "shown"), [(["version"], ""), (["-v", "version"], "paramiko.transport: x\n")]
)
def test_library_warnings_name_their_logger_only_with_v(
    args: list[str], shown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()  # as in a fresh process (pytest adds its own)
    try:
        assert main(args) == 0
        capsys.readouterr()
        logging.getLogger("paramiko.transport").info("not shown")
        logging.getLogger("paramiko.transport").warning("x")
        assert capsys.readouterr().err == shown
    finally:
        root.handlers[:], root.level = handlers, level
