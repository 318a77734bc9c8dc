"""A step's consecutive commands go to the host as one remote command (run here with the real
``sh``); the first failure stops the batch and is reported as that command's."""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from backstaff.executors.apply import (
    Runtime,
    StepFailed,
    _batches,
    _failed_command,
    batch_script,
    run_step,
)
from backstaff.executors.ssh import Result
from backstaff.planner import operations
from backstaff.planner.commands.words import Val
from backstaff.planner.steps import EnvFile, LocalFile, Step, Upload
from tests.planner.scenarios import example

UPLOAD = Upload(".kamal/apps/tb/env/roles/web.env", "0600", EnvFile("role", "web"))


def step(*commands: tuple[str, ...] | Upload, stdin: str | None = None) -> Step:
    return Step(
        "s[h]", "h", "app.boot", "boot", 1, commands, stdin_secrets=(stdin,) if stdin else ()
    )


def sh(script: str) -> Result:
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=False)
    return Result(done.returncode, done.stdout, done.stderr)


def test_commands_between_uploads_are_batched() -> None:
    rename, mkdir, run, stop = (
        ("docker", "rename", "a", "b"),
        ("mkdir", "-p", "d"),
        ("docker", "run"),
        ("docker", "stop"),
    )
    network = ("docker", "network", "create", "kamal")
    assert _batches(step(rename, mkdir, UPLOAD, run, network, stop)) == [
        [rename, mkdir, UPLOAD, run], [network], [stop],
    ]  # fmt: skip
    other = Upload("tb-cache/etc/cache.conf", "0644", LocalFile("config/cache.conf"))
    assert _batches(step(mkdir, other, run)) == [[mkdir], other, [run]]  # SFTP, on its own
    assert _batches(step(mkdir, UPLOAD, UPLOAD, run)) == [[mkdir, UPLOAD], [UPLOAD, run]]


def test_a_step_with_a_secret_on_stdin_is_not_batched() -> None:
    login, other = ("docker", "login", "--password-stdin"), ("true",)
    assert _batches(step(login, other, stdin="KAMAL_REGISTRY_PASSWORD")) == [[login], [other]]
    assert _batches(step(login, UPLOAD, stdin="KAMAL_REGISTRY_PASSWORD")) == [[login], UPLOAD]


def test_the_first_failure_stops_the_batch_and_names_its_command() -> None:
    batch = [("echo", "one"), ("sh", "-c", "'echo oops >&2; exit 3'"), ("echo", "three")]
    result = sh(batch_script(["echo one", "sh -c 'echo oops >&2; exit 3'", "echo three"]))
    assert result.exit_status == 3
    assert result.stdout == "one\n"
    failed, cleaned = _failed_command(batch, result)
    assert failed == batch[1]
    assert cleaned.stderr == "oops\n" and cleaned.exit_status == 3


def test_commands_keep_their_own_shell_grammar_and_the_audit_status_is_ignored() -> None:
    script = batch_script(["echo a; false || echo b", 'test -z "$(echo)" && echo c'], audit="false")
    result = sh(script)
    assert result.ok and result.stdout == "a\nb\nc\n"
    assert _failed_command([("x",), ("y",)], result) == (("y",), result)


# Issue #14: a boot is one round trip, the env file on the batch's stdin.


@dataclass
class LocalHost:
    """A "host" that runs each remote command with the real ``sh`` in a directory."""

    home: Path
    ran: list[str] = field(default_factory=list)

    def run(self, command: str, timeout: float | None = None, stdin: str | None = None) -> Result:
        self.ran.append(command)
        done = subprocess.run(["sh", "-c", command], cwd=self.home, input=stdin or "",
                              capture_output=True, text=True, check=False)  # fmt: skip
        return Result(done.returncode, done.stdout, done.stderr)

    def get(self, name: str) -> LocalHost:
        return self

    def upload(self, path: str, content: bytes, mode: int) -> None:
        raise AssertionError("an env file goes on stdin, never over SFTP")


def _runtime(host: LocalHost, content: bytes) -> Runtime:
    return Runtime(pool=host, render_upload=lambda u, h: content, secret=lambda n: "",  # type: ignore[arg-type]
                   lock_details="x", audit_command=lambda m: f"echo {m} >> audit", mask=lambda t: t)  # fmt: skip


BOOT = (
    ("mkdir", "-p", ".kamal/apps/tb/env/roles"),
    UPLOAD,
    ("sh", "-c", Val("cat; echo ran >> ran")),  # reads nothing: only the upload gets stdin
)


def test_a_boot_is_one_remote_command_and_its_env_file_is_written_0600(tmp_path: Path) -> None:
    host = LocalHost(tmp_path)
    env_file = tmp_path / UPLOAD.path
    env_file.parent.mkdir(parents=True)
    env_file.write_text("OLD=1\n")
    env_file.chmod(0o644)  # an older file, readable by others: replaced, never written into
    boot = Step("app.boot.web[h]", "h", "app", "boot", 7, BOOT, audit=("booted",))
    run_step(boot, _runtime(host, b"SECRET_TOKEN=s3cr3t\n"))
    assert len(host.ran) == 1  # audit, mkdir, env file and run: one round trip
    assert "s3cr3t" not in host.ran[0]  # the secret went on stdin
    assert env_file.read_text() == "SECRET_TOKEN=s3cr3t\n"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert (tmp_path / "ran").read_text() == "ran\n" and (tmp_path / "audit").exists()
    assert not list(env_file.parent.glob("*.backstaff-new"))


def test_a_failed_env_file_write_stops_the_boot_before_docker_run(tmp_path: Path) -> None:
    """The new file cannot be made (here: a directory in its way): the batch stops at the
    upload, named as an upload failure, and nothing after it runs."""
    host = LocalHost(tmp_path)
    roles = tmp_path / ".kamal/apps/tb/env/roles"
    (roles / "web.env.backstaff-new").mkdir(parents=True)
    with pytest.raises(StepFailed, match="^h: upload of .kamal/apps/tb/env/roles/web.env failed"):
        run_step(Step("s[h]", "h", "app", "boot", 7, BOOT), _runtime(host, b"A=1\n"))
    assert not (tmp_path / "ran").exists() and not (roles / "web.env").exists()


def test_the_marker_names_the_failed_command_else_the_last_one_is_blamed() -> None:
    batch = [("a",), ("b",), ("c",)]

    def marked(index: int) -> Result:
        return Result(4, "out\n", f"first\n@@backstaff-failed@@ {index} 4\nsecond\n")

    assert _failed_command(batch, marked(0)) == (("a",), Result(4, "out\n", "first\nsecond\n"))
    assert _failed_command(batch, marked(2))[0] == ("c",)
    for index in (3, 7, -1):  # a marker naming no command of the batch is not believed
        assert _failed_command(batch, marked(index))[0] == ("c",)
    unmarked = Result(255, "", "connection reset\n")  # the shell itself went away
    assert _failed_command(batch, unmarked) == (("c",), unmarked)


FAKE_DOCKER = """#!/bin/sh
# FAKE DOCKER for this test: `run` prints a new container's id as docker does, the rest are
# logged one argument a line.
case "$1" in
  run) echo 0123456789ab{rest} ;;
  *) printf '%s\\n' "$@" >> docker-args ;;
esac
"""


def test_a_planned_boot_hands_the_id_docker_run_printed_to_the_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The boot's `docker run` and its proxy deploy go in one remote command, the deploy's
    target the short id of the container the run made, as Kamal's lookup by name finds it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(FAKE_DOCKER.replace("{rest}", "cdef" * 13))
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    app = example("v2")
    boot = operations.app_boot(app, app.roles[0], "10.254.0.11", {"container": "tb-web-v1"})
    host = LocalHost(tmp_path)
    run_step(boot, _runtime(host, b"A=1\n"))
    assert len(host.ran) == 1
    args = (tmp_path / "docker-args").read_text().splitlines()
    assert args[:6] == ["exec", "kamal-proxy", "kamal-proxy", "deploy", "tb-web",
                        "--target=0123456789ab:80"]  # fmt: skip
