"""Apply a plan: walk its steps in dependency order, in parallel where allowed.

On a failed step no new step starts, running ones finish, the step's own cleanup runs (a new
container that failed its health check is stopped, so the old one keeps serving), and the
deploy lock is released. The result says exactly what ran and what did not.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Protocol

from backstaff.executors.gather import ConnectionPool
from backstaff.executors.ssh import Result, SshError
from backstaff.planner.commands.base import Cmd, join
from backstaff.planner.graph import LOCK_DETAILS
from backstaff.planner.steps import Step, Upload

TOLERATED = (("docker network create", "already exists"),)


@dataclass(frozen=True)
class StepResult:
    step: Step
    status: str  # ok, failed, not run
    seconds: float = 0.0
    error: str | None = None


class Reporter(Protocol):
    def started(self, step: Step) -> None: ...

    def finished(self, result: StepResult) -> None: ...


class StepFailed(Exception):
    pass


class HookError(Exception):
    """A hook run around a step failed: the step counts as failed."""


@dataclass
class Runtime:
    """What steps need at run time that the plan deliberately does not hold."""

    pool: ConnectionPool
    render_upload: Callable[[Upload, str], bytes]  # content for an upload on a host
    secret: Callable[[str], str]  # a secret (or <registry.password>) for stdin / placeholders
    lock_details: str  # base64 lock details for lock.acquire
    audit_command: Callable[[str], str]  # audit message -> the remote command appending it
    mask: Callable[[str], str]


def _placeholders(text: str, runtime: Runtime) -> str:
    text = text.replace(LOCK_DETAILS, runtime.lock_details)
    while "<secret:" in text:
        start = text.index("<secret:")
        end = text.index(">", start)
        text = text[:start] + runtime.secret(text[start + 8 : end]) + text[end + 1 :]
    return text


def _run_local(command: str) -> Result:
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=False)
    return Result(done.returncode, done.stdout, done.stderr)


def run_step(step: Step, runtime: Runtime) -> None:
    def execute(command: str, stdin: str | None = None) -> Result:
        if step.host == "local":
            return _run_local(command)
        return runtime.pool.get(step.host).run(command, timeout=900, stdin=stdin)

    if step.audit and step.host != "local":
        execute(runtime.audit_command(step.audit))
    stdin = runtime.secret(step.stdin_secret) + "\n" if step.stdin_secret else None
    for action in step.commands:
        if isinstance(action, Upload):
            content = runtime.render_upload(action, step.host)
            runtime.pool.get(step.host).upload(action.path, content, int(action.mode, 8))
            continue
        text = _placeholders(join(action), runtime)
        result = execute(text, stdin)
        if result.ok or any(text.startswith(c) and m in result.stderr for c, m in TOLERATED):
            continue
        for cleanup in step.on_failure:
            try:
                execute(join(cleanup))
            except SshError:
                pass
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()[-5:]
        raise StepFailed(
            runtime.mask(
                f"`{join(_display(action))}` exited {result.exit_status}: " + " / ".join(detail)
            )
        )


def _display(command: Cmd) -> Cmd:
    return tuple("<lock details>" if LOCK_DETAILS in token else token for token in command)


def apply_steps(
    steps: tuple[Step, ...],
    depends_on: dict[str, tuple[str, ...]],
    runtime: Runtime,
    reporter: Reporter,
    parallelism: int = 30,
    after_step: Callable[[Step], None] | None = None,
    before_step: Callable[[Step], None] | None = None,
) -> list[StepResult]:
    """Run every step once its dependencies succeeded; stop scheduling at the first failure."""
    results: dict[str, StepResult] = {}
    pending = {s.id: s for s in steps}
    failed = threading.Event()
    interrupted = threading.Event()
    lock_release = next((s for s in steps if s.id.startswith("lock.release")), None)

    def one(step: Step) -> StepResult:
        reporter.started(step)
        start = time.monotonic()
        try:
            if before_step:
                before_step(step)
            run_step(step, runtime)
            result = StepResult(step, "ok", time.monotonic() - start)
            if after_step:
                after_step(step)
        except (StepFailed, SshError, OSError, HookError) as exc:
            failed.set()
            result = StepResult(step, "failed", time.monotonic() - start, runtime.mask(str(exc)))
        except Exception as exc:  # noqa: BLE001 - a step never takes the walk (and the lock) down
            failed.set()
            message = runtime.mask(f"{type(exc).__name__}: {exc}")
            result = StepResult(step, "failed", time.monotonic() - start, f"{step.host}: {message}")
        reporter.finished(result)
        return result

    def on_interrupt(*_: object) -> None:
        interrupted.set()
        failed.set()

    # Ctrl-C must not abandon the walk half way (and the lock with it): while steps run, SIGINT
    # only sets a flag; the walk then starts nothing new, waits for running steps, releases.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        with ThreadPoolExecutor(max_workers=max(1, parallelism)) as executor:
            running: dict[Future[StepResult], str] = {}
            while pending or running:
                if not failed.is_set():
                    for step_id, step in list(pending.items()):
                        deps = depends_on.get(step_id, ())
                        if step is lock_release and (pending.keys() - {step_id} or running):
                            continue
                        if all(results.get(d) and results[d].status == "ok" for d in deps):
                            running[executor.submit(one, step)] = step_id
                            del pending[step_id]
                if not running:
                    break
                done, _ = wait(list(running), timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    result = future.result()
                    results[result.step.id] = result
                    del running[future]
        if failed.is_set() and lock_release and lock_release.id in pending:
            acquired = any(
                r.step.id.startswith("lock.acquire") and r.status == "ok" for r in results.values()
            )
            if acquired:  # never leave the lock behind
                results[lock_release.id] = one(lock_release)
                pending.pop(lock_release.id)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    not_run = "interrupted" if interrupted.is_set() else "not run"
    return [results.get(s.id) or StepResult(s, not_run) for s in steps]
