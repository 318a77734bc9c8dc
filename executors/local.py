"""Commands on the operator's machine (docker build/push, registry login)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping

from backstaff.planner.commands.words import Cmd, render


class LocalCommandFailed(Exception):
    pass


def run_local(command: Cmd, *, cwd: str, env: Mapping[str, str] | None = None, stdin: str | None = None,
              echo: bool = False) -> str:  # fmt: skip
    """Run a builder-made command (typed words, rendered so values stay data) through ``sh -c``."""
    text = render(command)
    done = subprocess.run(["sh", "-c", text], cwd=cwd, env=dict(env) if env else None, input=stdin,
                          capture_output=not echo, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        output = (done.stderr or done.stdout or "").strip().splitlines()[-5:]
        raise LocalCommandFailed(f"`{render(command[:3])} …` failed (exit {done.returncode}): "
                                 + " / ".join(output))  # fmt: skip
    return done.stdout or ""


def available(command: tuple[str, ...]) -> bool:
    try:
        return subprocess.run(list(command), capture_output=True, check=False).returncode == 0
    except OSError:
        return False
