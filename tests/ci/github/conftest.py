"""What the shipped GitHub workflows' jobs need in a test: runners whose ssh-agents are ended
afterwards, a checkout of the example project with the scripts where the workflows look
(.github/backstaff), and a real SSH key for the agent step."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ci.workflow_steps import GITHUB, Runner
from tests.conftest import FIXTURES


@pytest.fixture
def runners() -> Iterator[list[Runner]]:
    """Append each Runner made: the agents its steps started are ended after the test."""
    made: list[Runner] = []
    yield made
    for run in made:
        run.stop_agents()


def checkout(run: Runner, project: bool = True) -> None:
    """What actions/checkout leaves: the project (unless sparse), its .github/backstaff."""
    if project:
        shutil.copytree(FIXTURES / "example", run.workspace, dirs_exist_ok=True)
    (run.workspace / ".github").mkdir(exist_ok=True)
    (run.workspace / ".github" / "backstaff").symlink_to(GITHUB / "scripts")


def ed25519_key(root: Path) -> str:
    """A new private key, as the secret BACKSTAFF_SSH_KEY holds one."""
    root.mkdir(parents=True, exist_ok=True)
    key = root / "deploy_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    text = key.read_text()
    key.unlink()
    key.with_suffix(".pub").unlink()
    return text


def ssh_context(root: Path) -> dict[str, Any]:
    return {
        "vars": {"BACKSTAFF_KNOWN_HOSTS": "10.254.0.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA"},
        "secrets": {"BACKSTAFF_SSH_KEY": ed25519_key(root)},
    }  # fmt: skip
