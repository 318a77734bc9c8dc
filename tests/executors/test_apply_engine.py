"""Ctrl-C, a CI runner's cancel (SIGTERM) and a closed terminal (SIGHUP) during apply: the step
that runs finishes, nothing new starts, the lock is released, the result says interrupted.

The apply engine runs for real; the hosts are a stand-in pool that records each command (the
signal is sent to this very process while a step runs)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from backstaff.executors.apply import Runtime, StepResult, apply_steps
from backstaff.executors.ssh import CommandKilled, Result, SshError
from backstaff.planner.commands.words import AND, Raw, Val
from backstaff.planner.commands.words import Runtime as WordRuntime
from backstaff.planner.steps import EnvFile, ErrorPages, SecretFile, Step, Upload


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
    asked: list[str] = field(default_factory=list)

    def get(self, name: str) -> Host:
        self.asked.append(name)
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


@dataclass
class FailingHost(Host):
    """Fails (exit 1, with a message; or raises ``error``) every command containing one of
    ``fail``."""

    fail: tuple[str, ...] = ()
    stdin: list[str | None] = field(default_factory=list)
    error: SshError | None = None

    def run(self, command: str, timeout: float | None = None, stdin: str | None = None) -> Result:
        self.ran.append(command)
        self.stdin.append(stdin)
        for text in self.fail:
            if text in command and self.error:
                raise self.error
            if text in command:
                return Result(1, "", f"{text} went wrong")
        return Result(0, "", "")


def _results(host: Host, steps: tuple[Step, ...] = STEPS) -> dict[str, str]:
    return {r.step.id: r.status for r in apply_steps(steps, DEPENDS, runtime(host), Reporter())}


def test_a_failed_step_stops_new_steps_and_the_lock_is_released() -> None:
    host = FailingHost(fail=("booting",))
    assert _results(host) == {"lock.acquire[h]": "ok", "app.boot.web[h]": "failed",
                              "prune[h]": "not run", "lock.release[h]": "ok"}  # fmt: skip
    assert host.ran == ["mkdir lockdir", "echo booting", "rm lockdir"]


def test_the_lock_is_not_released_when_it_was_not_taken() -> None:
    host = FailingHost(fail=("mkdir lockdir",))
    assert _results(host) == {"lock.acquire[h]": "failed", "app.boot.web[h]": "not run",
                              "prune[h]": "not run", "lock.release[h]": "not run"}  # fmt: skip
    assert host.ran == ["mkdir lockdir"]  # someone else's lock is never removed


def test_a_failed_boot_runs_its_cleanup_and_names_the_command() -> None:
    boot = Step("app.boot.web[h]", "h", "app", "boot", 7, (("echo", "booting"),),
                on_failure=(("echo", "stop-new-container"),))  # fmt: skip
    host = FailingHost(fail=("booting",))
    results = apply_steps((STEPS[0], boot, *STEPS[2:]), DEPENDS, runtime(host), Reporter())
    assert "echo stop-new-container" in host.ran
    failed = next(r for r in results if r.status == "failed")
    assert failed.error == "`echo booting` exited 1: booting went wrong"


@pytest.mark.parametrize(
    ("error", "cleaned_up"),
    [
        (CommandKilled("h: the command was killed on the host by signal SIGKILL"), True),
        (SshError("h: connection lost while running a command"), False),
    ],
)
def test_a_boot_killed_on_the_host_runs_its_cleanup_and_names_the_signal(
    error: SshError, cleaned_up: bool
) -> None:
    """A signal killed the command and the connection is up: the cleanup runs, as after a
    failure. A lost connection has nothing to run it on (the next plan shows what is left)."""
    boot = Step("app.boot.web[h]", "h", "app", "boot", 7, (("echo", "booting"),),
                on_failure=(("echo", "stop-new-container"),))  # fmt: skip
    host = FailingHost(fail=("booting",), error=error)
    results = apply_steps((STEPS[0], boot, *STEPS[2:]), DEPENDS, runtime(host), Reporter())
    cleanup = ["echo stop-new-container"] if cleaned_up else []
    assert host.ran == ["mkdir lockdir", "echo booting", *cleanup, "rm lockdir"]
    failed = next(r for r in results if r.status == "failed")
    assert failed.error == str(error)


def test_a_tolerated_failure_is_not_a_failure() -> None:
    """``docker network create kamal`` failing with "already exists" is fine (Kamal's too)."""
    network = Step("app.boot.web[h]", "h", "network", "network", 2,
                   (("docker", "network", "create", "kamal"),))  # fmt: skip

    class Exists(FailingHost):
        def run(
            self, command: str, timeout: float | None = None, stdin: str | None = None
        ) -> Result:
            self.ran.append(command)
            if "network create" in command:
                return Result(1, "", "network with name kamal already exists")
            return Result(0, "", "")

    assert set(_results(Exists(), (STEPS[0], network, *STEPS[2:])).values()) == {"ok"}
    other = FailingHost(fail=("network create",))  # any other failure still fails
    assert _results(other, (STEPS[0], network, *STEPS[2:]))["app.boot.web[h]"] == "failed"


def test_secrets_go_on_stdin_one_per_line_never_on_the_command_line() -> None:
    login = Step("app.boot.web[h]", "h", "login", "login", 3, (("docker", "login", "-u", "u",
                 "--password-stdin"),), stdin_secrets=("USER", "PASSWORD"))  # fmt: skip
    host = FailingHost()
    values = {"USER": "the-user", "PASSWORD": "pa ss'$(x)"}
    run_time = runtime(host)
    run_time.secret = values.__getitem__
    apply_steps((STEPS[0], login, *STEPS[2:]), DEPENDS, run_time, Reporter())
    index = host.ran.index("docker login -u u --password-stdin")
    assert host.stdin[index] == "the-user\npa ss'$(x)\n"
    assert not any(v in c for c in host.ran for v in values.values())


def test_the_audit_line_goes_first_with_the_commands() -> None:
    audited = Step("app.boot.web[h]", "h", "app", "boot", 7, (("echo", "booting"),),
                   audit=("[web] Booted app version v2",))  # fmt: skip
    host = FailingHost()
    run_time = runtime(host)
    run_time.audit_command = lambda message: f"echo AUDIT {message!r}"
    apply_steps((STEPS[0], audited, *STEPS[2:]), DEPENDS, run_time, Reporter())
    batch = next(c for c in host.ran if "booting" in c)
    assert batch.index("AUDIT") < batch.index("echo booting")


@dataclass
class ShHost:
    """A host whose commands really run: ``sh`` in a directory of its own; SFTP writes there."""

    home: Path
    ran: list[tuple[str, str | None]] = field(default_factory=list)
    uploads: list[tuple[str, bytes, int]] = field(default_factory=list)
    unreachable_for: str | None = None  # a command holding this raises SshError

    timeouts: set[float | None] = field(default_factory=set)

    def run(self, command: str, timeout: float | None = None, stdin: str | None = None) -> Result:
        self.ran.append((command, stdin))
        self.timeouts.add(timeout)
        if self.unreachable_for and self.unreachable_for in command:
            raise SshError("h: connection lost")
        done = subprocess.run(["sh", "-c", command], input=stdin or "", capture_output=True,
                              text=True, cwd=self.home, check=False)  # fmt: skip
        return Result(done.returncode, done.stdout, done.stderr)

    def upload(self, path: str, data: bytes, mode: int) -> None:
        self.uploads.append((path, data, mode))


def _one(step: Step, host: ShHost, **changes: object) -> StepResult:
    run_time = runtime(host)  # type: ignore[arg-type]
    for name, value in changes.items():
        setattr(run_time, name, value)
    (result,) = apply_steps((step,), {}, run_time, Reporter())
    return result


def test_other_uploads_go_by_sftp_one_file_each_with_their_mode(tmp_path: Path) -> None:
    host = ShHost(tmp_path)
    pages = Upload("p", "0644", ErrorPages("public"))
    cert = Upload("c.pem", "0640", SecretFile("CERT"))
    step = Step("proxy.files[h]", "h", "proxy", "files", 4, (pages, cert),
                audit=("[proxy] files",))  # fmt: skip
    contents = {"p": {"500.html": b"five", "404.html": b"four"}, "c.pem": b"pem"}
    result = _one(step, host, render_upload=lambda upload, h: contents[f"{upload.path}{h[1:]}"],
                  audit_command=lambda message: f"echo {message!r} >> audit")  # fmt: skip
    assert result.status == "ok", result.error
    assert host.uploads == [("p/500.html", b"five", 0o644), ("p/404.html", b"four", 0o644),
                            ("c.pem", b"pem", 0o640)]  # fmt: skip
    assert host.ran == [("echo '[proxy] files' >> audit", None)]  # the audit line, alone, first


def test_the_lock_details_are_filled_in_when_the_step_runs(tmp_path: Path) -> None:
    host = ShHost(tmp_path)
    step = Step("lock.acquire[h]", "h", "lock", "lock", 0,
                (("mkdir", "lk", AND, "echo", WordRuntime("lock details"), Raw(">"), "lk/d"),))  # fmt: skip
    assert _one(step, host, lock_details="Locked by: me $(x)").status == "ok"
    assert (tmp_path / "lk" / "d").read_text() == "Locked by: me $(x)\n"


def test_a_failure_names_its_command_with_the_last_lines_masked(tmp_path: Path) -> None:
    host = ShHost(tmp_path)
    lines = "; ".join(f"echo line{n} sekret >&2" for n in range(1, 8))
    step = Step("app.boot.web[h]", "h", "app", "boot", 7, (("sh", "-c", Val(f"{lines}; exit 4")),))
    result = _one(step, host, mask=lambda text: text.replace("sekret", "[REDACTED]"))
    assert result.status == "failed" and result.error is not None
    what, _, detail = result.error.partition(" exited 4: ")
    assert what.startswith("`sh -c 'echo line1 [REDACTED]")
    assert detail == " / ".join(f"line{n} [REDACTED]" for n in range(3, 8))
    quiet = Step("app.boot.web[h]", "h", "app", "boot", 7, (("sh", "-c", Val("echo out; exit 2")),))
    assert _one(quiet, ShHost(tmp_path)).error == "`sh -c 'echo out; exit 2'` exited 2: out"


def test_a_cleanup_that_cannot_reach_the_host_leaves_the_step_failure(tmp_path: Path) -> None:
    host = ShHost(tmp_path, unreachable_for="stop-new")
    step = Step("app.boot.web[h]", "h", "app", "boot", 7, (("false",),),
                on_failure=(("echo", "stop-new"), ("touch", "second-cleanup")))  # fmt: skip
    result = _one(step, host)
    assert result.status == "failed" and result.error == "`false` exited 1: "
    assert (tmp_path / "second-cleanup").exists()


def test_a_local_step_runs_here_never_on_a_host(tmp_path: Path) -> None:
    host = ShHost(tmp_path)
    target = tmp_path / "built"
    step = Step("build[local]", "local", "build", "build", 1, (("touch", Val(str(target))),),
                audit=("[build] built",))  # fmt: skip
    audited = tmp_path / "audited"
    assert _one(step, host, audit_command=lambda message: f"touch {audited}").status == "ok"
    assert target.exists() and host.ran == []  # nothing ran remotely
    assert not audited.exists()  # and the audit log is the hosts': no line for a local step


@dataclass
class Recorder:
    events: list[tuple[str, str]] = field(default_factory=list)

    def started(self, step: Step) -> None:
        self.events.append(("started", step.id))

    def finished(self, result: StepResult) -> None:
        self.events.append((result.status, result.step.id))


def test_the_reporter_and_the_hooks_see_each_step_and_its_time(tmp_path: Path) -> None:
    slow = Step("app.boot.web[h]", "h", "app", "boot", 7, (("sleep", "0.2"),))
    failing = Step("app.boot.workers[h]", "h", "app", "boot", 7, (("sleep", "0.2", AND, "false"),))
    reporter, seen = Recorder(), []
    results = apply_steps((slow, failing), {"app.boot.workers[h]": ("app.boot.web[h]",)},
                          runtime(ShHost(tmp_path)), reporter,  # type: ignore[arg-type]
                          before_step=lambda s: seen.append(f"before {s.id}"),
                          after_step=lambda s: seen.append(f"after {s.id}"))  # fmt: skip
    assert reporter.events == [("started", slow.id), ("ok", slow.id),
                               ("started", failing.id), ("failed", failing.id)]  # fmt: skip
    assert seen == [f"before {slow.id}", f"after {slow.id}", f"before {failing.id}"]
    assert [r.status for r in results] == ["ok", "failed"]
    assert all(0.2 <= r.seconds < 30 for r in results), results


def test_an_unexpected_error_in_a_step_fails_it_naming_the_host_masked(tmp_path: Path) -> None:
    login = Step("registry.login[h]", "h", "login", "login", 3,
                 (("docker", "login", "--password-stdin"),), stdin_secrets=("PASS",))  # fmt: skip

    def secret(name: str) -> str:
        raise KeyError(f"{name} is not set (hunter2)")

    result = _one(login, ShHost(tmp_path), secret=secret,
                  mask=lambda text: text.replace("hunter2", "[REDACTED]"))  # fmt: skip
    assert (result.step, result.status) == (login, "failed") and 0 <= result.seconds < 30
    assert result.error == "h: KeyError: 'PASS is not set ([REDACTED])'"


@pytest.mark.parametrize("parallelism", [1, 2])
def test_independent_steps_run_together_up_to_the_parallelism(
    parallelism: int, tmp_path: Path
) -> None:
    steps = tuple(Step(f"app.boot.web[h{n}]", f"h{n}", "app", "boot", 7, (("true",),))
                  for n in range(3))  # fmt: skip
    running, most, guard = [0], [0], threading.Lock()

    class Slow(ShHost):
        def run(
            self, command: str, timeout: float | None = None, stdin: str | None = None
        ) -> Result:
            with guard:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.3)
            with guard:
                running[0] -= 1
            return Result(0, "", "")

    results = apply_steps(steps, {}, runtime(Slow(tmp_path)), Reporter(), parallelism=parallelism)  # type: ignore[arg-type]
    assert [r.status for r in results] == ["ok"] * 3
    assert most[0] == parallelism


def test_the_lock_is_released_last_whatever_its_place_and_dependencies(tmp_path: Path) -> None:
    host = ShHost(tmp_path)
    acquire = Step("lock.acquire[h]", "h", "lock", "lock", 0, (("mkdir", "lk"),))
    release = Step("lock.release[h]", "h", "lock", "unlock", 12, (("rmdir", "lk"),))
    boot = Step(
        "app.boot.web[h]", "h", "app", "boot", 7, (("sleep", "0.3", AND, "test", "-d", "lk"),)
    )
    prune = Step("prune[h]", "h", "prune", "prune", 11, (("test", "-d", "lk"),))
    depends = {release.id: (acquire.id,), boot.id: (acquire.id,), prune.id: (boot.id,)}
    results = apply_steps((acquire, release, boot, prune), depends, runtime(host), Reporter())  # type: ignore[arg-type]
    assert [r.status for r in results] == ["ok"] * 4
    assert [command for command, _ in host.ran][-1] == "rmdir lk"


def test_each_command_goes_to_its_steps_host_with_a_time_limit(tmp_path: Path) -> None:
    host = ShHost(tmp_path)
    run_time = runtime(host)  # type: ignore[arg-type]
    step = Step("app.boot.web[h7]", "h7", "app", "boot", 7,
                (("touch", "a"), Upload("p", "0644", ErrorPages("public")), ("touch", "b")))  # fmt: skip
    run_time.render_upload = lambda upload, h: {"500.html": h.encode()}
    (result,) = apply_steps((step,), {}, run_time, Reporter())
    assert result.status == "ok", result.error
    assert set(run_time.pool.asked) == {"h7"}  # type: ignore[attr-defined]
    assert host.uploads == [("p/500.html", b"h7", 0o644)]
    assert (tmp_path / "a").exists() and (tmp_path / "b").exists()  # every batch ran
    assert host.timeouts == {900}  # a hung command cannot hang the apply


def test_a_steps_audit_lines_are_written_in_order_before_its_commands_in_one_round_trip(
    tmp_path: Path,
) -> None:
    """A boot that renames writes Kamal's two lines: the rename's, then the boot's."""
    host = ShHost(tmp_path)
    lines = ("[web] Renaming container v1 to v1_replaced_0123456789abcdef",
             "[web] Booted app version v1")  # fmt: skip
    step = Step("app.boot.web[h]", "h", "app", "boot", 7,
                (("cp", "audit", "seen"), ("echo", "booted", Raw(">"), "ran")), audit=lines)  # fmt: skip
    result = _one(step, host, audit_command=lambda message: f"echo '{message}' >> audit")
    assert result.status == "ok", result.error
    assert (tmp_path / "seen").read_text().splitlines() == list(lines)  # before the commands
    assert (tmp_path / "audit").read_text().splitlines() == list(lines)
    assert (tmp_path / "ran").exists() and len(host.ran) == 1


def test_a_secret_reaches_its_command_also_behind_an_audit_line(tmp_path: Path) -> None:
    host = ShHost(tmp_path)
    step = Step("registry.login[h]", "h", "login", "login", 3, (("cat", Raw(">"), "got"),),
                stdin_secrets=("PASS",), audit=("[registry] login",))  # fmt: skip
    result = _one(step, host, secret=lambda name: f"{name} value",
                  audit_command=lambda message: "echo audited >> audit")  # fmt: skip
    assert result.status == "ok", result.error
    assert (tmp_path / "got").read_text() == "PASS value\n"
    assert (tmp_path / "audit").read_text() == "audited\n"
    assert not any("PASS value" in command for command, _ in host.ran)


def test_a_cleanup_gets_the_run_time_values_too(tmp_path: Path) -> None:
    step = Step("lock.acquire[h]", "h", "lock", "lock", 0, (("false",),),
                on_failure=(("echo", WordRuntime("lock details"), Raw(">"), "out"),))  # fmt: skip
    assert _one(step, ShHost(tmp_path), lock_details="by me").status == "failed"
    assert (tmp_path / "out").read_text() == "by me\n"


def test_the_primary_barrier_opens_on_any_healthy_container_others_on_all(tmp_path: Path) -> None:
    boot = Step("app.boot.web[h]", "h", "app", "boot", 7, (("true",),))
    primary = Step("barrier.primary.web", "h", "barrier", "wait", 8, (("touch", "primary"),))
    other = Step("barrier.web", "h", "barrier", "wait", 8, (("touch", "other"),))
    never = "app.boot.web[h2]"  # a dependency that never succeeds
    depends = {primary.id: (boot.id, never), other.id: (boot.id, never)}
    results = apply_steps((boot, primary, other), depends, runtime(ShHost(tmp_path)), Reporter())  # type: ignore[arg-type]
    assert [r.status for r in results] == ["ok", "ok", "not run"]
    assert (tmp_path / "primary").exists() and not (tmp_path / "other").exists()


def test_an_env_file_goes_on_the_batch_stdin_to_its_writer_only(tmp_path: Path) -> None:
    host = ShHost(tmp_path)
    env = Upload("web.env", "0600", EnvFile("role", "web"))
    step = Step("app.boot.web[h]", "h", "app", "boot", 7,
                (("sh", "-c", Val("cat > first")), env, ("sh", "-c", Val("cat > last"))))  # fmt: skip
    result = _one(step, host, render_upload=lambda upload, h: f"{upload.path}@{h}\n".encode())
    assert result.status == "ok", result.error
    ((command, stdin),) = host.ran  # one round trip, the content on its stdin
    assert stdin == "web.env@h\n" and "web.env@h" not in command
    assert (tmp_path / "web.env").read_text() == "web.env@h\n"
    assert stat.S_IMODE((tmp_path / "web.env").stat().st_mode) == 0o600
    assert (tmp_path / "first").read_text() == (tmp_path / "last").read_text() == ""
