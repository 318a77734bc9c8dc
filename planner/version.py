"""Which version a run deploys: ``--version`` > ``$VERSION`` > git HEAD (Kamal's precedence)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GitFacts:
    """What the I/O layer learned from git (``head`` is None outside a repository)."""

    head: str | None
    dirty: bool
    cwd: str


RUNNING = "running"  # `plan --version running`: the version running now, read from the hosts


class VersionError(Exception):
    pass


def compute_version(
    cli_version: str | None,
    env_version: str | None,
    git: GitFacts | None,
    *,
    builds_from_context: bool,
    random_hex: str,
) -> str:
    """Kamal adds ``_uncommitted_<16 hex>`` only when the tree is dirty and ``builder.context``
    is set: without a context it builds a clean clone of HEAD, so HEAD is what ships."""
    if cli_version == RUNNING:
        raise VersionError(
            "--version running is read by `plan` and `drift` only (the version running now);"
            " give this command a version"
        )
    if cli_version:
        return cli_version
    if env_version:
        return env_version
    if git is None or git.head is None:
        where = git.cwd if git else "."
        raise VersionError(f"Can't use commit hash as version, no git repository found in {where}")
    if git.dirty and builds_from_context:
        return f"{git.head}_uncommitted_{random_hex}"
    return git.head


def abbreviated(version: str) -> str:
    """Kamal's short form for KAMAL_SERVICE_VERSION: 7 characters unless the version has a ``_``."""
    return version if "_" in version else version[:7]
