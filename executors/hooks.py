"""Kamal's hooks: executables in ``.kamal/hooks`` run locally with the ``KAMAL_*`` variables."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path


class HookFailed(Exception):
    pass


def hook_exists(hooks_path: Path, name: str) -> bool:
    return (hooks_path / name).is_file()


def run_hook(
    hooks_path: Path,
    name: str,
    env: Mapping[str, str],
    output: Callable[[str], None] | None = None,
) -> bool:
    """Run the hook if it exists, with ``env`` as its whole environment, each line of its
    output (stdout and stderr, as they come) to ``output``; a non-zero exit raises
    ``HookFailed`` (Kamal's message, with the output)."""
    path = hooks_path / name
    if not path.is_file():
        return False
    lines: list[str] = []
    with subprocess.Popen(
        [str(path)],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if output is not None:
                output(line.rstrip("\n"))
    if process.returncode != 0:
        raise HookFailed(f"Hook `{name}` failed:\n{''.join(lines).strip()}")
    return True
