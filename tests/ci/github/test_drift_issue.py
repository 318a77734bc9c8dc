"""The drift job of ci/github/workflows/backstaff-drift.yml, its `run:` steps run as the runner
runs them: real backstaff (hosts replayed from recordings, tests/ci/bin/backstaff), the real
ssh-agent step, and the stand-in gh. One issue is opened on drift, updated while the hosts stay
drifted, closed when they match again; errors fail the job and leave the issue alone."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.ci.github.conftest import checkout, ssh_context
from tests.ci.github.standin import GitHub
from tests.ci.workflow_steps import Runner
from tests.conftest import ROOT
from tests.schemas.helpers import kamal_yaml

REPO = "acme/shop"
MARKER = "<!-- backstaff-plan service=tb destination=default -->"


def make_runner(root: Path, gh: GitHub, made: list[Runner]) -> Runner:
    context = {
        "github": {"token": "ghs_stand_in_token", "repository": REPO, "run_id": 77,
                   "server_url": "https://github.com"},
        **ssh_context(root),
    }  # fmt: skip
    run = Runner(root, context, extra_env=gh.env)
    made.append(run)
    run.path_first = (ROOT / "tests" / "ci" / "bin", *run.path_first)
    checkout(run)
    return run


def edit(run: Runner, value: str) -> None:
    path = run.workspace / "config" / "deploy.yml"
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    data["env"]["clear"]["TB_MODE"] = value
    path.write_text(kamal_yaml(data, sort_keys=False))


def drift(run: Runner) -> list[subprocess.CompletedProcess[str]]:
    results = run.run_job("backstaff-drift.yml", "drift")
    assert len(results) == 2, results[-1].stderr  # ssh-agent, drift
    return results


def test_one_issue_opened_on_drift_updated_then_closed(
    tmp_path: Path, runners: list[Runner]
) -> None:
    gh = GitHub(tmp_path / "gh", issues=[
        {"number": 1, "title": "unrelated", "body": "hello", "user": "bob"},
        {"number": 2, "title": "a pull request", "body": MARKER, "user": "bob",
         "pull_request": True},
    ])  # fmt: skip
    run = make_runner(tmp_path / "runner", gh, runners)
    original = yaml.safe_load((run.workspace / "config" / "deploy.yml").read_text())
    run.extra_env["REPLAY_SCENARIO"] = "deployed-v1"

    agent, check = drift(run)
    assert agent.returncode == 0 and "SSH_AUTH_SOCK=" in run.github_env.read_text()
    assert check.returncode == 0 and "no drift" in check.stdout
    assert gh.writes() == []

    edit(run, "changed")
    _, check = drift(run)
    assert check.returncode == 2 and "::error::the hosts drifted; opened an issue" in check.stdout
    assert gh.writes() == [("POST", f"repos/{REPO}/issues")]
    opened = gh.state()["issues"][-1]
    assert opened["number"] == 3 and opened["state"] == "open"
    assert opened["title"] == "Drift: the hosts differ from the config (tb, default)"
    assert opened["body"].split("\n")[0] == MARKER and "TB_MODE" in opened["body"]

    gh.forget_calls()
    edit(run, "changed again")
    _, check = drift(run)
    assert check.returncode == 2 and "updated issue #3" in check.stdout
    assert gh.writes() == [("PATCH", f"repos/{REPO}/issues/3")]
    assert "changed again" in gh.state()["issues"][-1]["body"]

    gh.forget_calls()
    (run.workspace / "config" / "deploy.yml").write_text(kamal_yaml(original, sort_keys=False))
    _, check = drift(run)
    assert check.returncode == 0 and "closed issue #3" in check.stdout
    assert gh.writes() == [("POST", f"repos/{REPO}/issues/3/comments"),
                           ("PATCH", f"repos/{REPO}/issues/3")]  # fmt: skip
    closed = gh.state()["issues"][-1]
    assert closed["state"] == "closed" and closed["state_reason"] == "completed"
    [comment] = gh.state()["comments"]
    assert "https://github.com/acme/shop/actions/runs/77" in comment["body"]
    assert [i.get("state", "open") for i in gh.state()["issues"][:2]] == ["open", "open"]


def test_an_error_fails_the_job_and_leaves_the_issue_alone(
    tmp_path: Path, runners: list[Runner]
) -> None:
    gh = GitHub(tmp_path / "gh", issues=[{"number": 4, "title": "Drift", "body": MARKER + "\nold"}])
    run = make_runner(tmp_path / "runner", gh, runners)
    run.extra_env["REPLAY_UNREACHABLE"] = "10.254.0.11,10.254.0.12,10.254.0.13"
    _, check = drift(run)
    assert check.returncode == 1 and "drift failed (exit 1)" in check.stderr
    assert gh.writes() == []
