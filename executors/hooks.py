"""Kamal's hooks: executables in ``.kamal/hooks`` run locally with the ``KAMAL_*`` variables."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path


class HookFailed(Exception):
    pass


def run_hook(hooks_path: Path, name: str, env: Mapping[str, str]) -> bool:
    """Run the hook if it exists; a non-zero exit raises ``HookFailed`` (Kamal's message)."""
    path = hooks_path / name
    if not path.is_file():
        return False
    done = subprocess.run(
        [str(path)], env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise HookFailed(f"Hook `{name}` failed:\n{(done.stdout + done.stderr).strip()}")
    return True
