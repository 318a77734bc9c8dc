"""A step's consecutive commands go to the host as one remote command (run here with the real
``sh``); the first failure stops the batch and is reported as that command's."""

from __future__ import annotations

import subprocess

from backstaff.executors.apply import _batches, _failed_command, batch_script
from backstaff.executors.ssh import Result
from backstaff.planner.steps import EnvFile, Step, Upload

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
        [rename, mkdir], UPLOAD, [run], [network], [stop],
    ]  # fmt: skip


def test_a_step_with_a_secret_on_stdin_is_not_batched() -> None:
    login, other = ("docker", "login", "--password-stdin"), ("true",)
    assert _batches(step(login, other, stdin="KAMAL_REGISTRY_PASSWORD")) == [[login], [other]]


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
