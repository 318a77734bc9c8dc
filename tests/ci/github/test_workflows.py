"""What the shipped workflows promise, read from the files: no pull_request_target, every
action pinned by commit, least permissions per job, no secret in the pull request's recorded
plan job, the trusted comment job never checking out the pull request, and the names that tie
the workflows together (workflow name, artifact names, the record workflow's file) agreeing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.ci.workflow_steps import GITHUB, workflow

FILES = sorted(p.name for p in (GITHUB / "workflows").glob("*.yml"))
PINNED = re.compile(r"^\s*- uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def triggers(data: dict[str, Any]) -> dict[str, Any]:
    on: dict[str, Any] = data[True]  # YAML 1.1 reads the key `on` as true
    return on


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").startswith(f"actions/{action}@")]


def test_the_four_workflows_are_shipped() -> None:
    assert FILES == ["backstaff-drift.yml", "backstaff-plan-comment.yml",
                     "backstaff-plan.yml", "backstaff-record-state.yml"]  # fmt: skip


@pytest.mark.parametrize("name", FILES)
def test_pinned_and_least_privilege(name: str) -> None:
    text = (GITHUB / "workflows" / name).read_text()
    assert "pull_request_target" not in text
    uses = [line for line in text.splitlines() if "uses:" in line]
    assert uses and all(PINNED.match(line) for line in uses), uses
    data = workflow(name)
    assert data["permissions"] == {}
    for job in data["jobs"].values():
        assert job["permissions"] and "write-all" not in str(job["permissions"])
        for checkout in steps_using(job, "checkout"):
            assert checkout["with"]["persist-credentials"] is False


def test_the_recorded_plan_job_holds_no_secret_and_no_write_token() -> None:
    jobs = workflow("backstaff-plan.yml")["jobs"]
    recorded, live = jobs["recorded"], jobs["live"]
    assert "secrets." not in str(recorded) and "environment" not in recorded
    # nor a variable: GitHub gives a fork's run none, so its settings are in the file
    assert "vars." not in str(recorded["steps"]) + str(workflow("backstaff-plan.yml")["env"])
    assert recorded["permissions"] == {"contents": "read", "actions": "read"}
    # forks always take the recording; the live job only for this repository's branches
    assert "head.repo.full_name != github.repository ||" in recorded["if"]
    assert "head.repo.full_name == github.repository &&" in live["if"]
    assert "vars.BACKSTAFF_PLAN_LIVE == 'true'" in live["if"]
    assert live["environment"] == "backstaff-plan" and live["permissions"] == {"contents": "read"}
    assert "write" not in str(jobs)


def test_the_comment_job_runs_no_code_of_the_pull_request() -> None:
    data = workflow("backstaff-plan-comment.yml")
    assert set(triggers(data)) == {"workflow_run"}
    assert triggers(data)["workflow_run"]["workflows"] == [workflow("backstaff-plan.yml")["name"]]
    job = data["jobs"]["comment"]
    assert "github.event.workflow_run.conclusion == 'success'" in job["if"]
    [checkout] = steps_using(job, "checkout")
    assert set(checkout["with"]) == {"persist-credentials", "sparse-checkout"}  # no ref, no repo
    assert checkout["with"]["sparse-checkout"] == ".github/backstaff"
    [download] = steps_using(job, "download-artifact")
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs == [".github/backstaff/post-plan-comment.sh"]
    assert job["permissions"] == {"actions": "read", "contents": "read", "pull-requests": "write"}


def test_artifact_and_workflow_names_agree() -> None:
    def uploaded(name: str) -> set[str]:
        jobs = workflow(name)["jobs"].values()
        return {s["with"]["name"] for j in jobs for s in steps_using(j, "upload-artifact")}

    assert uploaded("backstaff-record-state.yml") == {"backstaff-live-state"}
    assert uploaded("backstaff-plan.yml") == {"backstaff-plan"}
    [download] = steps_using(workflow("backstaff-plan-comment.yml")["jobs"]["comment"],
                             "download-artifact")  # fmt: skip
    assert download["with"]["name"] == "backstaff-plan"
    fetch = workflow("backstaff-plan.yml")["jobs"]["recorded"]["steps"][3]
    assert fetch["env"]["RECORD_WORKFLOW"] == "backstaff-record-state.yml"
    assert (
        "--name backstaff-live-state"
        in (GITHUB / "scripts" / "fetch-recorded-state.sh").read_text()
    )


def test_scripts_are_executable() -> None:
    scripts = sorted((GITHUB / "scripts").glob("*.sh"))
    assert scripts and all(p.stat().st_mode & 0o111 for p in scripts)
    referenced = {m for f in FILES
                  for m in re.findall(r"\.github/backstaff/([\w-]+\.sh)", (GITHUB / "workflows" / f).read_text())}  # fmt: skip
    assert referenced == {p.name for p in scripts}
