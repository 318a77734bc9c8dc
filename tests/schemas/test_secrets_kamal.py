"""``.kamal/secrets`` read as the real Kamal 2.11 reads it (dotenv 3.2): ``backstaff secrets
print`` gives what ``kamal secrets print`` printed for each file of fixtures/secrets/
(recorded by fixtures/record_kamal_secrets.py, with the same environment and nothing else):
quoting, escapes, comments, multi-line values, bare names, ``NAME: value``, ``$NAME`` seeing
only the lines above it in its own file, commands, line breaks in legacy mode."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

sys.path.insert(0, str(FIXTURES))
from record_kamal_secrets import arguments, environment  # noqa: E402

CASES = sorted(p for p in (FIXTURES / "secrets").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_secrets_print_as_kamal(case: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "backstaff", "secrets", "print", *arguments(case)],
        cwd=case, capture_output=True, text=True, env=environment(), timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == (case / "kamal.txt").read_text()
