"""Ctrl-C, a CI runner's cancel (SIGTERM) and a closed terminal (SIGHUP) during apply: the step
that runs finishes, nothing new starts, the lock is released, the result says interrupted.

The apply engine runs for real; the hosts are a stand-in pool that records each command (the
signal is sent to this very process while a step runs)."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field

import pytest

from backstaff.executors.apply import Runtime, StepResult, apply_steps
from backstaff.executors.ssh import Result
from backstaff.planner.steps import Step


@dataclass
class Host:
    ran: list[str] = field(default_factory=list)
    signal_on: str | None = None
    signum: int = signal.SIGTERM

    def run(self, command: str, timeout: float | None = None, stdin: str | None = None) -> Result:
        self.ran.append(command)
        if self.signal_on and self.signal_on in command:
            os.kill(os.getpid(), self.signum)
        return Result(0, "", "")


@dataclass
class Pool:
    host: Host

    def get(self, name: str) -> Host:
        return self.host


class Reporter:
    def started(self, step: Step) -> None: ...

    def finished(self, result: StepResult) -> None: ...


STEPS = (
    Step("lock.acquire[h]", "h", "lock", "lock", 0, (("mkdir", "lockdir"),)),
    Step("app.boot.web[h]", "h", "app", "boot", 7, (("echo", "booting"),)),
    Step("prune[h]", "h", "prune", "prune", 11, (("echo", "pruning"),)),
    Step("lock.release[h]", "h", "lock", "unlock", 12, (("rm", "lockdir"),)),
)
DEPENDS = {"lock.acquire[h]": (), "app.boot.web[h]": ("lock.acquire[h]",),
           "prune[h]": ("app.boot.web[h]",), "lock.release[h]": ("prune[h]",)}  # fmt: skip


def runtime(host: Host) -> Runtime:
    return Runtime(pool=Pool(host), render_upload=lambda u, h: b"", secret=lambda n: "",  # type: ignore[arg-type]
                   lock_details="x", audit_command=lambda m: "true", mask=lambda t: t)  # fmt: skip


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_apply_releases_the_lock(signum: int) -> None:
    host = Host(signal_on="booting", signum=signum)
    before = signal.getsignal(signum)
    results = {r.step.id: r.status for r in apply_steps(STEPS, DEPENDS, runtime(host), Reporter())}
    assert results == {"lock.acquire[h]": "ok", "app.boot.web[h]": "ok",
                       "prune[h]": "interrupted", "lock.release[h]": "ok"}  # fmt: skip
    assert host.ran == ["mkdir lockdir", "echo booting", "rm lockdir"]
    assert signal.getsignal(signum) == before  # the handler is put back


def test_without_a_signal_every_step_runs_in_order() -> None:
    host = Host()
    results = apply_steps(STEPS, DEPENDS, runtime(host), Reporter())
    assert [r.status for r in results] == ["ok"] * 4
    assert host.ran == ["mkdir lockdir", "echo booting", "echo pruning", "rm lockdir"]
