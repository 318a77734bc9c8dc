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
from typing import Any, Protocol, TypeAlias

from backstaff.executors.gather import ConnectionPool
from backstaff.executors.ssh import CommandKilled, Result, SshError
from backstaff.planner.commands.words import AND, OR, SEMI, Cmd, Raw, Val, render
from backstaff.planner.steps import EnvFile, Step, Upload

TOLERATED = (("docker network create", "already exists"),)
# Kamal's primary-role barrier (planner/graph.py): the FIRST healthy primary-role container
# opens it, as Kamal's does (Kamal::Cli::Healthcheck::Barrier); other barriers wait for all.
OPENED_BY_ANY = "barrier.primary."
INTERRUPTS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class StepResult:
    """How a step ended, and how long it took."""

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
    # content for an upload on a host; a directory's files by name (error pages)
    render_upload: Callable[[Upload, str], bytes | dict[str, bytes]]
    secret: Callable[[str], str]  # a secret (or <registry.password>) for stdin
    lock_details: str  # base64 lock details for lock.acquire (its Runtime word)
    audit_command: Callable[[str], str]  # audit message -> the remote command appending it
    mask: Callable[[str], str]


def _runtime_value(runtime: Runtime) -> Callable[[str], str]:
    values = {"lock details": runtime.lock_details}

    def value(name: str) -> str:
        return values[name]

    return value


def _run_local(command: str) -> Result:
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=False)
    return Result(done.returncode, done.stdout, done.stderr)


FAILED_MARKER = "@@backstaff-failed@@"

Action: TypeAlias = Cmd | Upload


def _batches(step: Step) -> list[Upload | list[Action]]:
    """The step's actions, consecutive ones joined into batches that go as one remote command.
    An env file upload joins its batch too, its content on the batch's stdin (one a batch), so
    a boot is one round trip. Other uploads (SFTP), a command whose failure may be tolerated,
    and the actions of a step that feeds a secret on stdin each stay on their own."""
    batches: list[Upload | list[Action]] = []
    for action in step.commands:
        inline = isinstance(action, Upload) and _inline(action) and not step.stdin_secrets
        alone = (isinstance(action, Upload) and not inline) or bool(step.stdin_secrets)
        alone = alone or (not isinstance(action, Upload) and _tolerable(action))
        last = batches[-1] if batches else None
        joins = isinstance(last, list) and not any(
            not isinstance(a, Upload) and _tolerable(a) for a in last
        )
        if inline and isinstance(last, list):
            joins = joins and not any(isinstance(a, Upload) for a in last)
        if not alone and joins and isinstance(last, list):
            last.append(action)
        elif isinstance(action, Upload) and not inline:
            batches.append(action)
        else:
            batches.append([action])
    return batches


def _inline(upload: Upload) -> bool:
    """An env file: text, small, rendered per host; it can go on the batch's stdin."""
    return isinstance(upload.source, EnvFile)


def _tolerable(command: Cmd) -> bool:
    return any(render(command).startswith(prefix) for prefix, _ in TOLERATED)


def _write_stdin(upload: Upload) -> Cmd:
    """The shell that writes the batch's stdin to ``upload.path``: into a new file made 0600
    (umask 077) before any byte is written, then given its mode and moved over the old one, so
    the file is never half written; a failed write (a full disk) removes the new file and
    fails the batch before the commands after it."""
    new = Val(upload.path + ".backstaff-new")
    return (Raw("("), "umask", "077", AND, "cat", Raw(">"), new, AND, "chmod", Val(upload.mode),
            new, AND, "mv", "-f", new, Val(upload.path), Raw(")"), OR, Raw("{"), "rm", "-f", new,
            SEMI, "false", SEMI, Raw("}"))  # fmt: skip


def batch_script(commands: list[str], audit: str | None = None, stdin_for: int = -1) -> str:
    """One shell script running ``commands`` in order; the first to fail stops it, and its
    index and status go to stderr after a marker. The audit lines first, their status ignored.
    Only command ``stdin_for`` reads the script's stdin; the others read nothing."""
    lines = [f"{{ {audit}\n}} </dev/null" if audit else ""]
    for index, command in enumerate(commands):
        stdin = "" if index == stdin_for else " </dev/null"
        lines.append(
            f'{{ {command}\n}}{stdin} || {{ s=$?; echo "{FAILED_MARKER} {index} $s" >&2; exit $s; }}'
        )
    return "\n".join(line for line in lines if line) + "\n"


def run_step(step: Step, runtime: Runtime) -> None:
    def execute(command: str, stdin: str | None = None) -> Result:
        if step.host == "local":
            return _run_local(command)
        return runtime.pool.get(step.host).run(command, timeout=900, stdin=stdin)

    audit = (
        "\n".join(runtime.audit_command(line) for line in step.audit)
        if step.audit and step.host != "local"
        else None
    )
    secrets = "".join(runtime.secret(name) + "\n" for name in step.stdin_secrets) or None
    value = _runtime_value(runtime)

    def clean_up() -> None:
        """The step's cleanup after a failure (a failed boot stops its new container)."""
        for cleanup in step.on_failure:
            try:
                execute(render(cleanup, value))
            except SshError:
                pass

    batches = _batches(step)
    if audit is not None and (not batches or isinstance(batches[0], Upload)):
        execute(audit)  # the audit lines go first, as in Kamal
        audit = None
    for batch in batches:
        if isinstance(batch, Upload):
            content = runtime.render_upload(batch, step.host)
            files = content.items() if isinstance(content, dict) else [("", content)]
            for name, data in files:
                path = f"{batch.path}/{name}" if name else batch.path
                runtime.pool.get(step.host).upload(path, data, int(batch.mode, 8))
            continue
        # a step feeding secrets has one action a batch (see _batches): it reads them
        stdin, texts, stdin_for = secrets, [], (0 if secrets else -1)
        for index, action in enumerate(batch):
            if isinstance(action, Upload):
                content = runtime.render_upload(action, step.host)
                assert isinstance(content, bytes)  # an env file (see _inline)
                stdin, stdin_for = content.decode(), index
                texts.append(render(_write_stdin(action)))
            else:
                texts.append(render(action, value))
        failed: Action = batch[0]
        try:
            if len(texts) == 1 and audit is None and not isinstance(failed, Upload):
                result = execute(texts[0], stdin)
            else:
                result = execute(batch_script(texts, audit, stdin_for), stdin)
                failed, result = _failed_command(batch, result)
        except CommandKilled as killed:  # the connection is up: clean up as after a failure
            clean_up()
            raise StepFailed(runtime.mask(str(killed))) from None
        audit = None
        if result.ok or (
            not isinstance(failed, Upload)
            and any(render(failed).startswith(c) and m in result.stderr for c, m in TOLERATED)
        ):
            continue
        clean_up()
        detail = " / ".join((result.stderr.strip() or result.stdout.strip()).splitlines()[-5:])
        if isinstance(failed, Upload):  # worded as an SFTP upload's failure
            raise StepFailed(runtime.mask(f"{step.host}: upload of {failed.path} failed: {detail}"))
        raise StepFailed(runtime.mask(f"`{render(failed)}` exited {result.exit_status}: {detail}"))


def _failed_command(batch: list[Action], result: Result) -> tuple[Action, Result]:
    """Which command of a batch failed (from the marker line), and the result without it."""
    if result.ok:
        return batch[-1], result
    kept, failed = [], batch[-1]
    for line in result.stderr.splitlines(keepends=True):
        if line.startswith(FAILED_MARKER + " "):
            index = int(line.split()[1])
            failed = batch[index] if 0 <= index < len(batch) else failed
        else:
            kept.append(line)
    return failed, Result(result.exit_status, result.stdout, "".join(kept))


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

    # Ctrl-C, a CI runner's cancel (SIGTERM) or a closed terminal (SIGHUP) must not abandon the
    # walk half way (and the lock with it): while steps run they only set a flag; the walk then
    # starts nothing new, waits for running steps, releases the lock.
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in INTERRUPTS:
            previous[signum] = signal.signal(signum, on_interrupt)
    try:
        with ThreadPoolExecutor(max_workers=max(1, parallelism)) as executor:
            running: dict[Future[StepResult], str] = {}
            while pending or running:
                if not failed.is_set():
                    for step_id, step in list(pending.items()):
                        deps = depends_on.get(step_id, ())
                        if step is lock_release and (pending.keys() - {step_id} or running):
                            continue
                        ok = [bool(results.get(d) and results[d].status == "ok") for d in deps]
                        if any(ok) if step_id.startswith(OPENED_BY_ANY) else all(ok):
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
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    not_run = "interrupted" if interrupted.is_set() else "not run"
    return [results.get(s.id) or StepResult(s, not_run) for s in steps]
