"""The three workflows a pull request goes through, their `run:` steps run as the runner runs
them: the record job saves the live state (real backstaff, hosts replayed from recordings); the
pull request's job, with no secret and no SSH, downloads that recording through the stand-in gh
and plans from it with the real installed backstaff; the comment job posts the plan."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.ci.github.conftest import checkout, ssh_context
from tests.ci.github.standin import BOT, GitHub
from tests.ci.workflow_steps import Runner
from tests.conftest import ROOT
from tests.schemas.helpers import kamal_yaml

REPO = "acme/shop"
MARKER = "<!-- backstaff-plan service=tb destination=default -->"


def test_a_fork_gets_a_plan_from_the_recorded_state(tmp_path: Path, runners: list[Runner]) -> None:
    # 1. main: the record job (SSH key, hosts) saves the live state
    record = Runner(tmp_path / "record", {"github": {"repository": REPO}, **ssh_context(tmp_path)})
    runners.append(record)
    record.path_first = (ROOT / "tests" / "ci" / "bin", *record.path_first)
    checkout(record)
    results = record.run_job("backstaff-record-state.yml", "record")
    assert [r.returncode for r in results] == [0, 0], results[-1].stderr
    recorded = record.temp / "backstaff-live-state"
    assert json.loads((recorded / "live-state.json").read_text())["kind"] == "backstaff-refresh"

    older = tmp_path / "older-artifact"
    older.mkdir()
    (older / "live-state.json").write_text("{}")
    gh = GitHub(
        tmp_path / "gh",
        runs=[{"databaseId": 501, "workflow": "backstaff-record-state.yml", "branch": "main",
               "conclusion": "success", "artifacts": {"backstaff-live-state": str(older)}},
              {"databaseId": 502, "workflow": "backstaff-record-state.yml", "branch": "main",
               "conclusion": "success", "artifacts": {"backstaff-live-state": str(recorded)}},
              {"databaseId": 503, "workflow": "backstaff-record-state.yml", "branch": "main",
               "conclusion": "failure", "artifacts": {}}],
        pulls=[{"number": 12, "head_repo": "mallory/shop", "head_ref": "main", "head_sha": "c" * 40}],
        issues=[{"number": 12, "title": "TB_MODE", "body": "", "user": "mallory",
                 "pull_request": True}],
    )  # fmt: skip

    # 2. the fork's pull request: no secrets in its context (reading one fails the test),
    #    the real backstaff (no replayed hosts): plan --live connects to nothing
    pull_request: dict[str, Any] = {
        "github": {"token": "ghs_read_only", "repository": REPO,
                   "event": {"repository": {"default_branch": "main"}}},
        "vars": {},  # GitHub gives a fork's run no variables either
    }  # fmt: skip
    plan = Runner(tmp_path / "pr", pull_request, extra_env=gh.env)
    checkout(plan)
    deploy = plan.workspace / "config" / "deploy.yml"
    config = yaml.safe_load(deploy.read_text())
    config["env"]["clear"]["TB_MODE"] = "changed"  # the pull request's change
    deploy.write_text(kamal_yaml(config, sort_keys=False))
    results = plan.run_job("backstaff-plan.yml", "recorded", {"PLAN_VERSION": "running"})
    assert [r.returncode for r in results] == [0, 0], results[-1].stderr
    assert "recorded state from run 502" in results[0].stdout
    assert not (plan.home / ".ssh").exists() and "SSH_AUTH_SOCK" not in plan.base_env()
    markdown = (plan.temp / "backstaff-plan" / "plan.md").read_text()
    assert markdown.split("\n")[0] == MARKER
    assert "Planned from a recording" in markdown and "env changed: TB_MODE" in markdown

    # 3. the trusted comment job posts it
    comment = Runner(tmp_path / "comment", {"github": {
        "token": "ghs_comment", "repository": REPO,
        "event": {"workflow_run": {"id": 9, "head_sha": "c" * 40, "head_branch": "main",
                                   "head_repository": {"owner": {"login": "mallory"}}}},
    }}, extra_env=gh.env)  # fmt: skip
    checkout(comment, project=False)
    shutil.copytree(plan.temp / "backstaff-plan", comment.temp / "backstaff-plan")
    results = comment.run_job("backstaff-plan-comment.yml", "comment")
    assert [r.returncode for r in results] == [0], results[-1].stderr
    assert gh.writes() == [("POST", f"repos/{REPO}/issues/12/comments")]
    assert [(c["user"], c["body"]) for c in gh.state()["comments"]] == [(BOT, markdown)]


def test_a_branch_of_the_repository_plans_live_when_opted_in(
    tmp_path: Path, runners: list[Runner]
) -> None:
    """The `live` job: the key into an agent (never printed), then the hosts read (replayed)."""
    context: dict[str, Any] = {"github": {"repository": REPO}, **ssh_context(tmp_path)}
    run = Runner(tmp_path / "live", context)
    runners.append(run)
    run.path_first = (ROOT / "tests" / "ci" / "bin", *run.path_first)
    checkout(run)
    results = run.run_job("backstaff-plan.yml", "live", {"PLAN_VERSION": "v2"})
    assert [r.returncode for r in results] == [0, 0], results[-1].stderr
    key = context["secrets"]["BACKSTAFF_SSH_KEY"].split("\n")[1]
    assert all(key not in r.stdout + r.stderr for r in results)
    markdown = (run.temp / "backstaff-plan" / "plan.md").read_text()
    assert markdown.split("\n")[0] == MARKER and "new version v1 → v2" in markdown
    assert "Planned from a recording" not in markdown
