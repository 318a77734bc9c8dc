"""Local git: the facts a version needs (HEAD, whether the tree is dirty) and the clean clone
of HEAD that images are built from, as Kamal 2.11 makes it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from backstaff.executors.local import LocalCommandFailed, run_local
from backstaff.planner.commands import build as build_cmd
from backstaff.planner.commands.base import join
from backstaff.planner.commands.words import Cmd
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


def git_root(cwd: Path) -> str | None:
    return _git(cwd, "rev-parse", "--show-toplevel")


def uncommitted_changes(cwd: Path) -> str:
    """``git status --porcelain`` as Kamal prints it in its warnings."""
    return _git(cwd, "status", "--porcelain") or ""


class CloneError(Exception):
    pass


def prepare_clone(cwd: Path, service: str, tmpdir: str, say: Callable[[str], None]) -> str:
    """Kamal's Cli::Build::Clone#prepare: clone the repository into its clone directory (or
    reset the existing clone to HEAD: fetch, hard reset, ``clean -fdx``, submodules), check it
    is clean and on HEAD, else delete it and clone once more. Returns the build directory."""
    root, revision = git_root(cwd), _git(cwd, "rev-parse", "HEAD")
    if root is None or revision is None:
        raise CloneError(f"no git repository with a commit in {cwd}")
    clone_dir = build_cmd.clone_directory(tmpdir, service, str(cwd.resolve()))
    build_dir = build_cmd.build_directory(clone_dir, root, str(cwd.resolve()))

    def run(command: Cmd) -> str:
        say(f"  $ {join(command)}")
        return run_local(command, cwd=str(cwd))

    def clone() -> None:
        say(f"Cloning repo into build directory `{build_dir}`...")
        Path(clone_dir).mkdir(parents=True, exist_ok=True)
        run(build_cmd.clone(clone_dir, root))

    def validate() -> None:
        try:
            status = run(build_cmd.clone_status(build_dir)).strip()
            if status:
                raise CloneError(f"Clone in {build_dir} is dirty, {status}")
            got = run(build_cmd.clone_revision(build_dir)).strip()
        except LocalCommandFailed as exc:
            raise CloneError(f"Failed to validate clone: {exc}") from None
        if got != revision:
            raise CloneError(f"Clone in {build_dir} is not on the correct revision, "
                             f"expected `{revision}` but got `{got}`")  # fmt: skip

    try:
        try:
            clone()
        except LocalCommandFailed as exc:
            if "already exists and is not an empty directory" not in str(exc):
                raise CloneError(f"Failed to clone repo: {exc}") from None
            say(f"Resetting local clone as `{build_dir}` already exists...")
            try:
                for step in build_cmd.clone_reset_steps(build_dir, root, revision):
                    run(step)
            except LocalCommandFailed as failed:
                raise CloneError(f"Failed to clone repo: {failed}") from None
        validate()
    except CloneError as exc:
        say(f"Error preparing clone: {exc}, deleting and retrying...")
        shutil.rmtree(clone_dir, ignore_errors=True)
        try:
            clone()
        except LocalCommandFailed as failed:
            raise CloneError(f"Failed to clone repo: {failed}") from None
        validate()
    return build_dir
