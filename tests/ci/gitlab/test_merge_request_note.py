"""The GitLab jobs of ci/gitlab/backstaff.gitlab-ci.yml run as a runner runs them, the real curl
against a stand-in GitLab API on loopback: a merge request's plan from the recorded state
(record job with the hosts replayed, plan job with the real backstaff and no SSH), posted as
one note that the next pipeline updates; the drift job keeps one issue."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ci.github.conftest import ed25519_key
from tests.ci.gitlab.jobs import checkout, pipeline, run_job
from tests.ci.gitlab.standin_api import BOT, JOB_TOKEN, TOKEN, GitLab
from tests.conftest import FIXTURES, ROOT
from tests.schemas.helpers import kamal_yaml

REPLAYED = ROOT / "tests" / "ci" / "bin"
MARKER = "<!-- backstaff-plan service=tb destination=default -->"


@pytest.fixture
def gitlab() -> Iterator[tuple[GitLab, str]]:
    api = GitLab()
    server, url = api.serve()
    yield api, url
    server.shutdown()
    server.server_close()


def project(root: Path) -> Path:
    shutil.copytree(FIXTURES / "example", root)
    checkout(root)
    return root


def edit(root: Path, value: str) -> None:
    path = root / "config" / "deploy.yml"
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    data["env"]["clear"]["TB_MODE"] = value
    path.write_text(kamal_yaml(data, sort_keys=False))


def ci(url: str, **more: str) -> dict[str, str]:
    return {"CI_API_V4_URL": url, "CI_PROJECT_ID": "5", "CI_DEFAULT_BRANCH": "main",
            "CI_JOB_TOKEN": JOB_TOKEN, "CI_JOB_URL": "https://gitlab.example/acme/shop/-/jobs/88",
            "BACKSTAFF_DESTINATION": "", **more}  # fmt: skip


def test_a_merge_request_gets_one_note_updated_by_the_next_pipeline(
    tmp_path: Path, gitlab: tuple[GitLab, str]
) -> None:
    api, url = gitlab
    ssh = {"BACKSTAFF_SSH_KEY": ed25519_key(tmp_path / "key"),
           "BACKSTAFF_KNOWN_HOSTS": "10.254.0.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA"}  # fmt: skip
    main = project(tmp_path / "main" / "checkout")
    record = run_job("backstaff-record-state", main, ci(url, **ssh), path_first=(REPLAYED,))
    assert record.returncode == 0, record.stderr
    api.artifacts[("main", "backstaff-record-state", "live-state.json")] = main / "live-state.json"

    api.notes += [{"id": n, "noteable_iid": 3, "body": f"comment {n}",
                   "author": {"id": 1, "username": "alice"}} for n in range(1, 106)]  # fmt: skip
    api.notes.append({"id": 200, "noteable_iid": 3, "body": MARKER + "\nmine, not the bot's",
                      "author": {"id": 1, "username": "alice"}})  # fmt: skip
    merge_request = ci(url, CI_MERGE_REQUEST_IID="3", BACKSTAFF_PLAN_VERSION="running")
    bodies = []
    for value in ("changed", "changed again"):  # two pushes to the merge request
        branch = tmp_path / value.replace(" ", "-") / "checkout"
        project(branch)
        edit(branch, value)
        plan = run_job("backstaff-plan", branch, merge_request)  # the installed backstaff
        assert plan.returncode == 0, plan.stderr
        markdown = (branch / "plan.md").read_text()
        assert markdown.split("\n")[0] == MARKER and "Planned from a recording" in markdown
        assert f'"{value}"' in markdown
        bodies.append(markdown)
        note = run_job("backstaff-plan-note", branch,
                       {**merge_request, "BACKSTAFF_NOTE_TOKEN": TOKEN})  # fmt: skip
        assert note.returncode == 0, note.stderr

    notes = "/api/v4/projects/5/merge_requests/3/notes"
    ours = [n for n in api.notes if n["author"] == BOT]
    assert len(ours) == 1 and ours[0]["body"] == bodies[1]
    assert api.writes() == [("POST", notes), ("PUT", f"{notes}/{ours[0]['id']}")]
    assert api.notes[105]["body"] == MARKER + "\nmine, not the bot's"


def test_a_plan_file_without_the_marker_is_refused(
    tmp_path: Path, gitlab: tuple[GitLab, str]
) -> None:
    api, url = gitlab
    branch = project(tmp_path / "checkout")
    (branch / "plan.md").write_text("# hello\n" + MARKER + "\n")
    note = run_job("backstaff-plan-note", branch,
                   ci(url, CI_MERGE_REQUEST_IID="3", BACKSTAFF_NOTE_TOKEN=TOKEN))  # fmt: skip
    assert note.returncode == 1 and "marker" in note.stderr
    assert api.writes() == []


def test_drift_opens_one_issue_updates_it_and_closes_it(
    tmp_path: Path, gitlab: tuple[GitLab, str]
) -> None:
    api, url = gitlab
    api.issues.append({"iid": 1, "title": "other", "description": MARKER, "labels": ["bug"],
                       "state": "opened", "notes": []})  # fmt: skip
    main = project(tmp_path / "checkout")
    variables = ci(url, BACKSTAFF_NOTE_TOKEN=TOKEN,
                   BACKSTAFF_SSH_KEY=ed25519_key(tmp_path / "key"),
                   BACKSTAFF_KNOWN_HOSTS="10.254.0.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA")  # fmt: skip
    issues = "/api/v4/projects/5/issues"

    def drift() -> int:
        return run_job("backstaff-drift", main, variables, path_first=(REPLAYED,)).returncode

    edit(main, "changed")
    assert drift() == 2
    assert api.writes() == [("POST", issues)]
    opened = api.issues[-1]
    assert opened["labels"] == ["backstaff-drift"] and "TB_MODE" in opened["description"]
    assert opened["title"] == "Drift: the hosts differ from the config (tb, default)"
    edit(main, "changed again")
    assert drift() == 2
    assert api.writes()[1:] == [("PUT", f"{issues}/2")]
    assert "changed again" in opened["description"]
    edit(main, "testbed")  # as the hosts run it
    assert drift() == 0
    assert api.writes()[2:] == [("POST", f"{issues}/2/notes"), ("PUT", f"{issues}/2")]
    assert opened["state"] == "closed" and "jobs/88" in opened["notes"][0]
    assert api.issues[0]["state"] == "opened"  # another label: not ours


def test_the_merge_request_plan_job_holds_no_ssh() -> None:
    jobs = pipeline()
    assert "ssh-agent" not in str(jobs["backstaff-plan"]["script"])
    assert "environment" not in jobs["backstaff-plan"]
    assert jobs["backstaff-plan-live"]["environment"]["name"] == "backstaff-plan"


def test_a_branch_of_the_project_plans_live_when_opted_in(
    tmp_path: Path, gitlab: tuple[GitLab, str]
) -> None:
    _, url = gitlab
    key = ed25519_key(tmp_path / "key")
    branch = project(tmp_path / "checkout")
    live = run_job("backstaff-plan-live", branch,
                   ci(url, CI_MERGE_REQUEST_IID="3", BACKSTAFF_PLAN_VERSION="v2",
                      BACKSTAFF_SSH_KEY=key, BACKSTAFF_KNOWN_HOSTS="10.254.0.11 ssh-ed25519 AAAA"),
                   path_first=(REPLAYED,))  # fmt: skip
    assert live.returncode == 0, live.stderr
    assert key.split("\n")[1] not in live.stdout + live.stderr
    markdown = (branch / "plan.md").read_text()
    assert markdown.split("\n")[0] == MARKER and "new version v1 → v2" in markdown
