"""The git facts a version needs (HEAD and whether the tree is dirty), read locally."""

from __future__ import annotations

import subprocess
from pathlib import Path

from backstaff.planner.version import GitFacts


def read_git_facts(cwd: Path) -> GitFacts:
    head = _git(cwd, "rev-parse", "HEAD")
    if head is None:
        return GitFacts(head=None, dirty=False, cwd=str(cwd.resolve()))
    status = _git(cwd, "status", "--porcelain") or ""
    return GitFacts(head=head, dirty=bool(status.strip()), cwd=str(cwd.resolve()))


def git_config_value(cwd: Path, key: str) -> str | None:
    return _git(cwd, "config", key)


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
