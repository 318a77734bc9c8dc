"""The console script's entry point (backstaff/launcher.py), in a process of its own."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import gc, sys
during_imports = []

def count(phase, info):
    cli = sys.modules.get("backstaff.cli")
    if phase == "start" and cli is not None and not hasattr(cli, "main"):
        during_imports.append(info["generation"])  # backstaff.cli is still being imported

gc.callbacks.append(count)
from backstaff import launcher
sys.argv = ["backstaff", "version"]
try:
    launcher.entry()
except SystemExit as exc:
    print(len(during_imports), gc.isenabled(), gc.get_freeze_count() > 10_000, exc.code)
"""


def test_imports_run_without_collections_and_the_command_with_them() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          check=True)  # fmt: skip
    version, probe = done.stdout.strip().splitlines()
    assert version  # the command ran
    assert probe.split() == ["0", "True", "True", "0"]


def test_python_dash_m_is_the_same_entry() -> None:
    done = subprocess.run([sys.executable, "-m", "backstaff", "version"], capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
