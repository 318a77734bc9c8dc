"""Version precedence and the uncommitted suffix, as Kamal 2.11 computes them."""

from __future__ import annotations

import pytest

from backstaff.planner.version import GitFacts, VersionError, abbreviated, compute_version

SHA = "8be8f7f0c1d2e3f4a5b6c7d8e9f00112233445566"[:40]
CLEAN = GitFacts(head=SHA, dirty=False, cwd="/app")
DIRTY = GitFacts(head=SHA, dirty=True, cwd="/app")


def version(cli=None, env=None, git=CLEAN, context=False):  # type: ignore[no-untyped-def]
    return compute_version(
        cli, env, git, builds_from_context=context, random_hex="974bbf381ee91f8f"
    )


def test_cli_beats_env_beats_git() -> None:
    assert version(cli="v9", env="v8") == "v9"
    assert version(env="v8") == "v8"
    assert version() == SHA


def test_dirty_tree_gets_a_suffix_only_when_building_from_context() -> None:
    assert version(git=DIRTY, context=True) == f"{SHA}_uncommitted_974bbf381ee91f8f"
    assert version(git=DIRTY, context=False) == SHA
    assert version(git=CLEAN, context=True) == SHA


def test_no_git_repository() -> None:
    with pytest.raises(VersionError, match="no git repository found in /app"):
        version(git=GitFacts(head=None, dirty=False, cwd="/app"))


def test_abbreviated() -> None:
    assert abbreviated(SHA) == SHA[:7]
    assert abbreviated("v1_uncommitted_x") == "v1_uncommitted_x"
