"""The deploy lock around an apply: taken with the plan's own commands before the hosts are read,
given back once whatever happens, never twice, and never taken from someone else.

The lock's steps and the apply engine run for real; the primary host is a stand-in that records
each command and answers ``mkdir`` as a host where the lock is held or free would."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field

import pytest

from backstaff.executors.apply import Runtime, StepResult, apply_steps
from backstaff.executors.deploy_lock import DeployLock, stops_interrupt
from backstaff.executors.ssh import Result, SshError
from backstaff.hooks import HookError
from backstaff.planner.commands.words import render
from backstaff.planner.live import LiveState, parse_host
from backstaff.planner.model import App
from backstaff.planner.steps import Step
from tests.planner.gather_output import recorded_sections, script_output
from tests.planner.scenarios import example

APP = example("v2")


@dataclass
class Primary:
    held_by_someone: bool = False
    unreachable: bool = False
    signal_on_release: int | None = None
    lost_taking_it: bool = False  # the connection dies once the lock's commands ran
    ran: list[str] = field(default_factory=list)

    def run(self, command: str, timeout: float | None = None, stdin: str | None = None) -> Result:
        if self.unreachable:
            raise SshError(f"{APP.primary_host}: connection refused")
        self.ran.append(command)
        if self.held_by_someone and "mkdir .kamal/lock" in command:
            return Result(1, "", "mkdir: cannot create directory '.kamal/lock-tb': File exists")
        if command == "false":
            return Result(1, "", "")
        if self.lost_taking_it and "mkdir .kamal/lock" in command:
            raise SshError(f"{APP.primary_host}: connection lost: EOF")
        if self.signal_on_release and command.startswith("rm "):
            os.kill(os.getpid(), self.signal_on_release)
        return Result(0, "", "")


@dataclass
class Pool:
    primary: Primary

    def get(self, name: str) -> Primary:
        assert name == APP.primary_host  # the lock is the primary host's only
        return self.primary


class Reporter:
    def started(self, step: Step) -> None: ...

    def finished(self, result: StepResult) -> None: ...


def details(name: str) -> str:
    return "TG9ja2Vk\\n"


def lock_on(primary: Primary, app: App = APP) -> DeployLock:
    runtime = Runtime(
        pool=Pool(primary),  # type: ignore[arg-type]
        render_upload=lambda u, h: b"",
        secret=lambda n: "",
        lock_details=details(""),
        audit_command=lambda m: "true",
        mask=lambda t: t,
    )
    return DeployLock(app, runtime)


def test_it_is_taken_with_the_plans_own_commands() -> None:
    primary = Primary()
    lock = lock_on(primary)
    lock.take()
    assert lock.held and lock.error is None
    mkdirs, write = render(lock.acquire.commands[0]), render(lock.acquire.commands[1], details)
    assert len(primary.ran) == 1  # one round trip, the two commands in order
    assert mkdirs in primary.ran[0] and primary.ran[0].index(mkdirs) < primary.ran[0].index(write)
    assert lock.acquire.id == f"lock.acquire[{APP.primary_host}]"


def test_a_lock_held_by_someone_else_is_not_taken_nor_given_back() -> None:
    primary = Primary(held_by_someone=True)
    lock = lock_on(primary)
    lock.take()
    assert not lock.held and lock.error is not None and "File exists" in lock.error
    ran = list(primary.ran)
    assert lock.give_back() is None and primary.ran == ran  # never their lock removed


def test_an_unreachable_primary_is_not_tried_again() -> None:
    primary = Primary()
    lock = lock_on(primary)
    lock.take(frozenset({str(APP.primary_host)}))
    assert not lock.held and lock.error == f"{APP.primary_host} cannot be reached"
    assert primary.ran == []
    lock = lock_on(Primary(unreachable=True))
    lock.take()
    assert not lock.held and lock.error == f"{APP.primary_host}: connection refused"


def test_given_back_once_when_the_walk_did_not_run() -> None:
    """Nothing to do, a refusal, no at the prompt: the release runs, once."""
    primary = Primary()
    lock = lock_on(primary)
    lock.take()
    assert lock.give_back() is None
    assert primary.ran[-1] == render(lock.release.commands[0]) and not lock.held
    count = len(primary.ran)
    assert lock.give_back() is None and len(primary.ran) == count


def _walk(lock: DeployLock, ending: str) -> list[StepResult]:
    boot = ("echo", "booting") if ending != "a step failed" else ("false",)
    steps = (lock.acquire, Step("app.boot.web", str(APP.primary_host), "app", "boot", 7,
                                (boot,)), lock.release)  # fmt: skip
    depends = {steps[0].id: (), steps[1].id: (steps[0].id,), steps[2].id: (steps[1].id,)}

    def after(step: Step) -> None:
        if ending == "the pre-deploy hook failed" and step.id == lock.acquire.id:
            raise HookError("pre-deploy hook failed")

    return apply_steps(lock.walked(steps), depends, lock._runtime, Reporter(), after_step=after)


@pytest.mark.parametrize("ending", ["applied", "a step failed", "the pre-deploy hook failed"])
def test_the_walk_or_give_back_releases_it_never_both(ending: str) -> None:
    primary = Primary()
    lock = lock_on(primary)
    lock.take()
    taken = len(primary.ran)
    walked = _walk(lock, ending)
    results = {r.step.id: r.status for r in walked}
    assert results[lock.acquire.id] == ("failed" if "hook" in ending else "ok")
    assert results["app.boot.web"] == {"applied": "ok", "a step failed": "failed"}.get(
        ending, "not run"
    )
    assert not any("mkdir" in c for c in primary.ran[taken:])  # not taken again
    lock.walked_through(walked)
    assert lock.give_back() is None
    release = render(lock.release.commands[0])
    assert primary.ran.count(release) == 1 and not lock.held


def test_sigterm_and_sighup_interrupt_like_ctrl_c_and_the_handlers_come_back() -> None:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        before = signal.getsignal(signum)
        with pytest.raises(KeyboardInterrupt), stops_interrupt():
            os.kill(os.getpid(), signum)
        assert signal.getsignal(signum) == before


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_it_is_given_back_does_not_cut_the_release_short(signum: int) -> None:
    primary = Primary(signal_on_release=signum)
    lock = lock_on(primary)
    lock.take()
    before = signal.getsignal(signum)
    with stops_interrupt():
        assert lock.give_back() is None  # no KeyboardInterrupt out of it
    assert primary.ran[-1] == render(lock.release.commands[0]) and not lock.held
    assert signal.getsignal(signum) == before


@pytest.mark.parametrize("read", ["this run's lock", "another lock", "no lock"])
def test_a_connection_lost_while_it_is_taken_is_settled_by_the_read(read: str) -> None:
    """The lock's commands may have run before the connection died: the read says. A lock with
    this run's very details is this run's (held, read as free, given back); another one or none
    is not taken, and nothing is released."""
    primary = Primary(lost_taking_it=True)
    lock = lock_on(primary)
    lock.take()
    assert not lock.held and lock.error == f"{APP.primary_host}: connection lost: EOF"
    sections = {"this run's lock": "!held\nTG9ja2Vk", "another lock": "!held\nT3RoZXI=",
                "no lock": "!none"}  # fmt: skip
    state = LiveState((parse_host(str(APP.primary_host), _read(sections[read])),))
    freed = lock.read_as_free(state)
    assert lock.held == (read == "this run's lock")
    assert freed.hosts[0].lock is None if lock.held else freed == state
    ran = len(primary.ran)
    lock.give_back()
    assert len(primary.ran) == ran + (1 if read == "this run's lock" else 0)


def _read(lock_section: str) -> str:
    sections = recorded_sections() | {"lock": lock_section}
    return script_output(sections)
