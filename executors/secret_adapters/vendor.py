"""Running a password manager's CLI as Kamal's adapters do (Ruby backticks), without a shell:
every argument is one argv word, so an item or vault name is never shell syntax."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass


class AdapterError(Exception):
    """Kamal's ``RuntimeError`` message, and what the failing CLI said on stderr (shown masked)."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.message, self.stderr = message, stderr


@dataclass(frozen=True)
class Result:
    """A password manager CLI's exit and output."""

    ok: bool
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Vendor:
    """The environment the CLIs run in: ``.kamal/secrets`` runs them with the environment the
    secrets are read with; ``backstaff secrets fetch`` with its own."""

    env: Mapping[str, str]

    def run(
        self, *argv: str, extra_env: Mapping[str, str] | None = None, interactive: bool = False
    ) -> Result:
        """Stdout captured (as backticks do). ``interactive``: a sign-in that may prompt, so its
        stderr goes to the terminal; otherwise stderr is kept for the error message."""
        env = {**self.env, **(extra_env or {})}
        try:
            done = subprocess.run(
                list(argv), env=env, stdout=subprocess.PIPE,
                stderr=None if interactive else subprocess.PIPE,
                text=True, errors="replace", check=False, timeout=300,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            reason = "timed out" if isinstance(exc, subprocess.TimeoutExpired) else exc.strerror
            return Result(False, "", f"{argv[0]}: {reason}")
        return Result(done.returncode == 0, done.stdout, done.stderr or "")

    def succeeds(self, *argv: str) -> bool:
        """```cmd 2> /dev/null`; $?.success?``: the installed and signed-in checks."""
        return self.run(*argv).ok

    def getenv(self, name: str) -> str | None:
        return self.env.get(name)


def process_vendor() -> Vendor:
    return Vendor(dict(os.environ))
