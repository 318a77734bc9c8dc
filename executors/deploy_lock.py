"""The deploy lock around an apply: taken before the hosts are read and given back on every way
out.

Kamal takes its lock before it reads anything. A plan made from a read before the lock could be
out of date by the time the lock is held: another deploy can run from start to end meanwhile
(while a user reads the plan at the prompt, say), and the steps would then stop containers that
are gone and leave the other deploy's running. Held from before the read, the lock keeps the
hosts as read until the plan is applied or given up.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Set
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from backstaff.executors.apply import Runtime, StepFailed, StepResult, run_step
from backstaff.executors.ssh import SshError
from backstaff.planner import operations
from backstaff.planner.live import LiveState, without_own_lock
from backstaff.planner.model import App
from backstaff.planner.steps import Step

# Besides Ctrl-C: a CI runner's cancel and a closed terminal.
STOPS = (signal.SIGTERM, signal.SIGHUP)


class DeployLock:
    """The lock this run takes on the primary host, with the plan's own two lock steps."""

    def __init__(self, app: App, runtime: Runtime) -> None:
        self.acquire: Step = operations.lock_acquire(app)
        self.release: Step = operations.lock_release(app)
        self._runtime = runtime
        self.held = False
        self.error: str | None = None  # why it could not be taken
        self._maybe = False  # the connection was lost while it was taken: the read will say

    def take(self, unreachable: Set[str] = frozenset()) -> None:
        """Take it (the plan's ``lock.acquire`` commands). A lock held by someone else or an
        unreachable host leaves it not held, with the reason: the read still runs, for the plan
        to show, and applying is refused."""
        host = self.acquire.host
        if host in unreachable:
            self.error = f"{host} cannot be reached"
            return
        try:
            run_step(self.acquire, self._runtime)
        except StepFailed as exc:  # the host answered: not taken
            self.error = self._runtime.mask(str(exc))
            return
        except (SshError, OSError) as exc:  # no answer: the commands may have run
            self.error = self._runtime.mask(str(exc))
            self._maybe = True
            return
        self.held = True

    def read_as_free(self, live: LiveState) -> LiveState:
        """The state as read without this run's lock (see ``live.without_own_lock``). Where the
        connection was lost while the lock was taken, a lock read with this run's very details
        (who, the second it was taken, the version, the message) is this run's: held, not left
        behind."""
        if not (self.held or self._maybe):
            return live
        freed = without_own_lock(live, self._runtime.lock_details)
        if not self.held:
            primary = self.acquire.host
            self.held = freed.host(primary).lock != live.host(primary).lock
        return freed if self.held else live

    def walked(self, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        """The plan's steps for the walk: ``lock.acquire`` stays (its hooks run after it, the
        walk releases the lock once it succeeded) but runs nothing, the lock being held."""
        return tuple(replace(s, commands=()) if s.id == self.acquire.id else s for s in steps)

    def walked_through(self, results: list[StepResult]) -> None:
        """The walk's results: once its ``lock.release`` ran, well or not, the lock is not this
        run's to give back any more (a failed release is the walk's error to report)."""
        if any(r.step.id == self.release.id and r.status in ("ok", "failed") for r in results):
            self.held = False

    def give_back(self) -> str | None:
        """Release it if still held: the error when the release fails, for the user to release
        it by hand."""
        if not self.held:
            return None
        self.held = False
        try:
            with _signals((signal.SIGINT, *STOPS), signal.SIG_IGN):  # not cut short: a second
                run_step(self.release, self._runtime)  # Ctrl-C while it goes
        except (StepFailed, SshError, OSError) as exc:
            return self._runtime.mask(str(exc))
        return None


@contextmanager
def stops_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP interrupt as Ctrl-C does (``KeyboardInterrupt``) while the lock is held
    outside the walk (the read, the plan, the prompt), so that the way out gives it back. The
    walk sets its own handlers meanwhile and puts these back."""

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    with _signals(STOPS, interrupt):
        yield


@contextmanager
def _signals(signums: tuple[signal.Signals, ...], handler: Any) -> Iterator[None]:
    """``handler`` for ``signums`` meanwhile (in the main thread: only it can set them)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, Any] = {s: signal.signal(s, handler) for s in signums}
    try:
        yield
    finally:
        for signum, was in previous.items():
            signal.signal(signum, was)
