"""executors/__init__.py: paramiko loads without ``invoke`` (about 40 ms of every start-up)."""

from __future__ import annotations

import subprocess
import sys


def _fresh(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_cli_loads_paramiko_without_invoke() -> None:
    loaded = _fresh(
        "import sys, backstaff.cli, backstaff.executors.ssh, paramiko.config;"
        " print(sorted(m for m in ('invoke', 'asyncio', 'unittest.mock', 'paramiko')"
        " if sys.modules.get(m) is not None), paramiko.config.invoke)"
    )
    assert loaded == "['paramiko'] None"


def test_a_process_that_loaded_invoke_keeps_it() -> None:
    assert (
        _fresh("import invoke, backstaff.executors, sys; print(sys.modules['invoke'] is invoke)")
        == "True"
    )
