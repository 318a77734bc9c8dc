"""Runs a job of ci/gitlab/backstaff.gitlab-ci.yml as a GitLab runner's shell executor would:
the `script:` lines in one bash (`-eo pipefail`, as the runner sets), the file's and the job's
`variables:` plus GitLab's predefined ones the test gives, in the project's checkout. The
`before_script:` only installs backstaff and jq, which are installed here already."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.ci.workflow_steps import ROOT

GITLAB = ROOT / "ci" / "gitlab"


def pipeline() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((GITLAB / "backstaff.gitlab-ci.yml").read_text())
    return data


def checkout(workspace: Path) -> None:
    """The scripts where the jobs look for them (.gitlab/backstaff)."""
    (workspace / ".gitlab").mkdir(parents=True, exist_ok=True)
    (workspace / ".gitlab" / "backstaff").symlink_to(GITLAB / "scripts")


def run_job(
    name: str, workspace: Path, variables: dict[str, str], path_first: tuple[Path, ...] = ()
) -> subprocess.CompletedProcess[str]:
    data = pipeline()
    job = data[name]
    env = {
        "PATH": os.pathsep.join([*map(str, path_first), os.environ["PATH"]]),
        "HOME": str(workspace.parent / "home"), "LANG": "C.UTF-8", "CI": "true",
        "GITLAB_CI": "true", "PIP_NO_INDEX": "1",
        **data.get("variables", {}), **job.get("variables", {}), **variables,
    }  # fmt: skip
    Path(env["HOME"]).mkdir(exist_ok=True)
    # the harness notes the ssh-agent a job starts, to end it afterwards
    pid_file = workspace.parent / "ssh-agent.pid"
    record = f'trap \'echo "${{SSH_AGENT_PID:-}}" > "{pid_file}"\' EXIT\n'
    script = record + "\n".join(job["script"])
    try:
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=workspace, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        pid = pid_file.read_text().strip() if pid_file.exists() else ""
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGTERM)
