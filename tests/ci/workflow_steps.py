"""Runs a job's `run:` steps of a shipped GitHub workflow as the runner would: the same
environment (workflow, job and step `env:`, their `${{ … }}` expressions evaluated from a
context the test gives), bash with `-eo pipefail`, the workspace as working directory. The
`uses:` steps are not run: the test lays out what they would leave (the checkout's scripts,
a downloaded artifact). An expression the context does not answer fails the test, so a step
that starts reading a new value cannot pass unnoticed."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

GITHUB = ROOT / "ci" / "github"
STANDIN_BIN = Path(__file__).parent / "github" / "bin"  # the stand-in gh
INSTALL = 'python -m pip install "$BACKSTAFF_PIP"'
EXPRESSION = re.compile(r"\$\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")


def workflow(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((GITHUB / "workflows" / name).read_text())
    return data


def evaluate(text: str, context: dict[str, Any]) -> str:
    """``${{ a.b.c }}`` looked up in ``context``; only plain property paths are supported."""

    def lookup(match: re.Match[str]) -> str:
        value: Any = context
        for part in match.group(1).split("."):
            if not isinstance(value, dict) or part not in value:
                raise KeyError(f"the test gives no value for ${{{{ {match.group(1)} }}}}")
            value = value[part]
        return str(value)

    return EXPRESSION.sub(lookup, str(text))


@dataclass
class Runner:
    """A job's runner: workspace, RUNNER_TEMP, HOME, and the GITHUB_ENV file steps append to."""

    root: Path
    context: dict[str, Any]
    path_first: tuple[Path, ...] = (STANDIN_BIN,)
    extra_env: dict[str, str] = field(default_factory=dict)
    # backstaff is installed here already (editable): the install step is skipped, saving
    # seconds per run (were it run, PIP_NO_INDEX keeps it from downloading anything)
    skip_install: bool = True

    def __post_init__(self) -> None:
        self.workspace = self.root / "workspace"
        self.temp = self.root / "runner-temp"
        self.home = self.root / "home"
        for d in (self.workspace, self.temp, self.home):
            d.mkdir(parents=True, exist_ok=True)
        self.context.setdefault("runner", {})["temp"] = str(self.temp)
        self.github_env = self.root / "github_env"
        self.github_env.touch()

    def stop_agents(self) -> None:
        """Ends the ssh-agents the job's steps started (their ids are in GITHUB_ENV)."""
        for line in self.github_env.read_text().splitlines():
            if line.startswith("SSH_AGENT_PID="):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(line.partition("=")[2]), signal.SIGTERM)

    def base_env(self) -> dict[str, str]:
        path = os.pathsep.join([*map(str, self.path_first), os.environ["PATH"]])
        env = {"PATH": path, "HOME": str(self.home), "CI": "true", "GITHUB_ACTIONS": "true",
               "RUNNER_TEMP": str(self.temp), "GITHUB_WORKSPACE": str(self.workspace),
               "GITHUB_ENV": str(self.github_env), "LANG": "C.UTF-8",
               "PIP_NO_INDEX": "1"}  # fmt: skip
        for line in self.github_env.read_text().splitlines():
            key, _, value = line.partition("=")
            env[key] = value
        return {**env, **self.extra_env}

    def run_job(
        self, workflow_file: str, job: str, settings: dict[str, str] | None = None
    ) -> list[subprocess.CompletedProcess[str]]:
        """Every `run:` step of the job in order; stops at the first that fails, as a job does.
        ``settings``: values of the workflow's top `env:`, as a user sets them in the copy."""
        data = workflow(workflow_file)
        assert set(settings or {}) <= set(data.get("env", {})), "not a setting of the workflow"
        data["env"] = {**data.get("env", {}), **(settings or {})}
        job_data = data["jobs"][job]
        results = []
        for step in job_data["steps"]:
            if "run" not in step or (self.skip_install and step["run"].strip() == INSTALL):
                continue
            # untrusted values reach a script through env:, never pasted into its text
            assert "${{" not in step["run"], f"{workflow_file} {job}: an expression in run:"
            env = self.base_env()
            for scope in (data.get("env", {}), job_data.get("env", {}), step.get("env", {})):
                env.update({k: evaluate(v, self.context) for k, v in scope.items()})
            script = self.root / "step.sh"
            script.write_text(step["run"])
            result = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=self.workspace, env=env, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            results.append(result)
            if result.returncode != 0:
                break
        return results
