"""Kamal's primary-role barrier in the apply engine: the first healthy primary-role container
opens it (as Kamal::Cli::Healthcheck::Barrier), so the other roles boot while a slower
primary-role host is still booting; a failure before it opens boots no other role."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from backstaff.executors.apply import Runtime, StepResult, apply_steps
from backstaff.executors.ssh import Result
from backstaff.planner.steps import Step


@dataclass
class Hosts:
    """Stand-in hosts: ``slow`` blocks until ``release`` is set; ``fail`` exits 1."""

    ran: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    fail: str = "nothing"
    wait: float = 5.0

    def get(self, name: str) -> Hosts:
        return self

    def run(self, command: str, timeout: float | None = None, stdin: str | None = None) -> Result:
        if "slow" in command:
            self.release.wait(self.wait)
        self.ran.append(command)
        if "workers" in command:
            self.release.set()
        return Result(1 if self.fail in command else 0, "", "")


class Reporter:
    def started(self, step: Step) -> None: ...

    def finished(self, result: StepResult) -> None: ...


def boot(role: str, host: str, word: str) -> Step:
    return Step(f"app.boot.{role}[{host}]", host, "app", "boot", 7, (("echo", word),))


STEPS = (
    boot("web", "h1", "slow"),
    boot("web", "h2", "fast"),
    Step("barrier.primary.1[local]", "local", "barrier", "the primary role booted", 7),
    boot("workers", "h3", "workers"),
)
DEPENDS = {"barrier.primary.1[local]": ("app.boot.web[h1]", "app.boot.web[h2]"),
           "app.boot.workers[h3]": ("barrier.primary.1[local]",)}  # fmt: skip


def _apply(hosts: Hosts) -> dict[str, str]:
    runtime = Runtime(pool=hosts, render_upload=lambda u, h: b"", secret=lambda n: "",  # type: ignore[arg-type]
                      lock_details="x", audit_command=lambda m: "true", mask=lambda t: t)  # fmt: skip
    return {r.step.id: r.status for r in apply_steps(STEPS, DEPENDS, runtime, Reporter())}


def test_the_first_healthy_primary_role_container_opens_the_barrier() -> None:
    hosts = Hosts()
    assert set(_apply(hosts).values()) == {"ok"}
    # the workers booted while h1's web container was still booting
    assert hosts.ran == ["echo fast", "echo workers", "echo slow"]


def test_a_primary_role_failure_before_the_barrier_opens_boots_no_other_role() -> None:
    hosts = Hosts(fail="fast", wait=1.0)  # h1 is still booting when h2 fails
    results = _apply(hosts)
    assert results["app.boot.web[h2]"] == "failed"
    assert results["app.boot.workers[h3]"] == "not run" and "echo workers" not in hosts.ran
