"""The clean clone of HEAD that images are built from (Kamal's Cli::Build::Clone), with real
git: uncommitted, untracked and ignored files never reach the build directory."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from backstaff.executors.git import CloneError, prepare_clone, uncommitted_changes
from backstaff.planner.commands import build as build_cmd


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          cwd=repo, capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "myrepo"
    (repo / "web").mkdir(parents=True)
    (repo / "index.html").write_text("committed\n")
    (repo / "web" / "Dockerfile").write_text("FROM scratch\n")
    (repo / ".gitignore").write_text("*.log\n")
    git(repo, "init", "-q", ".")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "one")
    (repo / "index.html").write_text("uncommitted\n")
    (repo / "untracked.txt").write_text("untracked\n")
    (repo / "debug.log").write_text("ignored\n")
    return repo


def test_clone_has_head_only(repo: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    build_dir = Path(prepare_clone(repo, "svc", str(tmp_path / "tmp"), lines.append))
    clone_dir = build_cmd.clone_directory(str(tmp_path / "tmp"), "svc", str(repo.resolve()))
    assert str(build_dir) == f"{clone_dir}/myrepo" and build_dir.is_dir()
    assert (build_dir / "index.html").read_text() == "committed\n"
    assert not (build_dir / "untracked.txt").exists() and not (build_dir / "debug.log").exists()
    assert git(build_dir, "rev-parse", "HEAD") == git(repo, "rev-parse", "HEAD")
    assert any(line.startswith("Cloning repo into build directory") for line in lines)
    assert "M index.html" in uncommitted_changes(
        repo
    ) and "?? untracked.txt" in uncommitted_changes(repo)


def test_existing_clone_is_reset_to_the_new_head(repo: Path, tmp_path: Path) -> None:
    tmpdir = str(tmp_path / "tmp")
    build_dir = Path(prepare_clone(repo, "svc", tmpdir, lambda _: None))
    (build_dir / "index.html").write_text("edited in the clone\n")
    (build_dir / "stray.log").write_text("left behind\n")
    git(repo, "commit", "-qam", "two")  # index.html "uncommitted" is now committed
    lines: list[str] = []
    again = Path(prepare_clone(repo, "svc", tmpdir, lines.append))
    assert again == build_dir
    assert any(line.startswith("Resetting local clone") for line in lines)
    assert any("git -C" in line and "clean -fdx" in line for line in lines)
    assert (build_dir / "index.html").read_text() == "uncommitted\n"
    assert not (build_dir / "stray.log").exists()
    assert git(build_dir, "rev-parse", "HEAD") == git(repo, "rev-parse", "HEAD")


def test_broken_clone_is_deleted_and_cloned_again(repo: Path, tmp_path: Path) -> None:
    tmpdir = str(tmp_path / "tmp")
    build_dir = Path(prepare_clone(repo, "svc", tmpdir, lambda _: None))
    subprocess.run(["rm", "-rf", str(build_dir / ".git")], check=True)
    (build_dir / "junk").write_text("x")
    lines: list[str] = []
    assert Path(prepare_clone(repo, "svc", tmpdir, lines.append)) == build_dir
    assert any(line.startswith("Error preparing clone:") for line in lines)
    assert (
        not (build_dir / "junk").exists()
        and (build_dir / "index.html").read_text() == "committed\n"
    )


def test_subdirectory_builds_in_the_same_place_in_the_clone(repo: Path, tmp_path: Path) -> None:
    build_dir = Path(prepare_clone(repo / "web", "svc", str(tmp_path / "tmp"), lambda _: None))
    assert build_dir.name == "web" and (build_dir / "Dockerfile").read_text() == "FROM scratch\n"
    assert build_dir.parent.name == "myrepo"


def test_no_commit_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    git(tmp_path / "empty", "init", "-q", ".")
    with pytest.raises(CloneError, match="no git repository with a commit"):
        prepare_clone(tmp_path / "empty", "svc", str(tmp_path / "tmp"), lambda _: None)
