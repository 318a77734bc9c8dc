"""The pull-request comment job of ci/github/workflows/backstaff-plan-comment.yml, its `run:`
steps run as the runner runs them, against the stand-in gh: the plan real backstaff made is
posted as one comment, and the next run updates that comment instead of adding one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.ci.conftest import Project
from tests.ci.github.conftest import checkout
from tests.ci.github.standin import BOT, GitHub
from tests.ci.workflow_steps import Runner

REPO = "acme/shop"
PR = 7
HEAD_SHA = "3f1c2d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e"
MARKER = "<!-- backstaff-plan service=tb destination=default -->"
OTHER = "<!-- backstaff-plan service=tb destination=staging -->"


def github(root: Path, comments: list[dict[str, Any]] | None = None, sha: str = HEAD_SHA) -> GitHub:
    """A fork's pull request #7 with 35 comments by people first (so ours is on page 2)."""
    chatter = [{"id": 100 + n, "issue": PR, "user": "alice", "body": f"looks good {n}"}
               for n in range(35)]  # fmt: skip
    return GitHub(
        root,
        pulls=[{"number": PR, "head_repo": "mallory/shop", "head_ref": "feature/env",
                "head_sha": sha}],
        issues=[{"number": 6, "title": "an issue", "body": "x", "user": "bob"},
                {"number": PR, "title": "change env", "body": "", "user": "mallory",
                 "pull_request": True}],
        comments=chatter + (comments or []),
    )  # fmt: skip


def runner(root: Path, gh: GitHub, plan: str) -> Runner:
    context = {"github": {
        "token": "ghs_stand_in_token",
        "repository": REPO,
        "event": {"workflow_run": {
            "id": 4242, "head_sha": HEAD_SHA, "head_branch": "feature/env",
            "head_repository": {"owner": {"login": "mallory"}},
        }},
    }}  # fmt: skip
    run = Runner(root, context, extra_env=gh.env)
    checkout(run, project=False)  # sparse: the default branch's .github/backstaff only
    write_artifact(run, plan)  # what actions/download-artifact leaves
    return run


def write_artifact(run: Runner, plan: str) -> None:
    (run.temp / "backstaff-plan").mkdir(exist_ok=True)
    (run.temp / "backstaff-plan" / "plan.md").write_text(plan)


def ours(gh: GitHub, marker: str = MARKER) -> list[dict[str, Any]]:
    return [c for c in gh.state()["comments"]
            if c["user"] == BOT and c["body"].split("\n")[0] == marker]  # fmt: skip


def post(run: Runner) -> str:
    results = run.run_job("backstaff-plan-comment.yml", "comment")
    assert [r.returncode for r in results] == [0], results[-1].stderr
    return results[-1].stdout


def test_first_run_creates_one_comment_and_the_next_updates_it(
    project: Project, tmp_path: Path
) -> None:
    # the plan saved, then shown offline as the plan job would post it
    code, _ = project.backstaff("--version", "v2", "plan", "--out", "plan.json",
                                "--detailed-exitcode")  # fmt: skip
    assert code == 2
    code, plan = project.backstaff("show", "plan.json", "--format", "markdown")
    assert code == 0 and plan.split("\n")[0] == MARKER and "3 to replace" in plan
    gh = github(tmp_path / "gh", [{"id": 90, "issue": PR, "user": BOT, "body": OTHER + "\nold"}])
    run = runner(tmp_path / "runner", gh, plan)

    assert "commented the plan on #7" in post(run)
    assert gh.writes() == [("POST", f"repos/{REPO}/issues/{PR}/comments")]
    [created] = ours(gh)
    assert created["body"] == plan

    # a push changes the config: the next run's plan replaces the comment's text
    project.edit(lambda d: d["env"]["clear"].update(TB_MODE="changed"))
    code, replanned = project.backstaff("--version", "v2", "plan", "--format", "markdown")
    assert code == 0 and replanned != plan and "TB_MODE" in replanned
    write_artifact(run, replanned)
    gh.forget_calls()

    assert f"updated the plan comment {created['id']} on #7" in post(run)
    assert gh.writes() == [("PATCH", f"repos/{REPO}/issues/comments/{created['id']}")]
    assert [c["body"] for c in ours(gh)] == [replanned]
    # the other destination's comment and everyone else's are untouched
    assert [c["body"] for c in ours(gh, OTHER)] == [OTHER + "\nold"]
    assert len(gh.state()["comments"]) == 35 + 2
    # pages were followed: the comment list was asked for with per_page and --paginate
    listing = [c for c in gh.calls() if c["path"].endswith(f"/issues/{PR}/comments")]
    assert listing and all("--paginate" in c["argv"] for c in listing)


def test_a_comment_by_someone_else_with_the_marker_is_not_taken_over(
    project: Project, tmp_path: Path
) -> None:
    _, plan = project.backstaff("--version", "v2", "plan", "--format", "markdown")
    quoted = {"id": 91, "issue": PR, "user": "mallory", "body": MARKER + "\nplease apply"}
    gh = github(tmp_path / "gh", [quoted])
    post(runner(tmp_path / "runner", gh, plan))
    assert gh.writes() == [("POST", f"repos/{REPO}/issues/{PR}/comments")]
    assert quoted in gh.state()["comments"]


@pytest.mark.parametrize(
    "artifact",
    [
        "# not a plan\n<!-- backstaff-plan service=tb destination=default -->\n",
        "<!-- backstaff-plan service=tb destination=x --> <img src=x>\n",
        MARKER + "\n" + "x" * 65_536,
    ],
    ids=["no-marker-first", "marker-with-more", "over-the-limit"],
)
def test_an_artifact_that_is_not_a_plan_is_refused(tmp_path: Path, artifact: str) -> None:
    gh = github(tmp_path / "gh")
    results = runner(tmp_path / "runner", gh, artifact).run_job(
        "backstaff-plan-comment.yml", "comment"
    )
    assert results[-1].returncode == 1 and "::error::" in results[-1].stderr
    assert gh.writes() == []


def test_a_pull_request_pushed_again_since_is_left_to_the_newer_run(
    project: Project, tmp_path: Path
) -> None:
    _, plan = project.backstaff("--version", "v2", "plan", "--format", "markdown")
    gh = github(tmp_path / "gh", sha="0" * 40)  # the head is no longer the planned commit
    assert "nothing to do" in post(runner(tmp_path / "runner", gh, plan))
    assert gh.writes() == []
