"""What the benchmarks run is what users run: pip installs backstaff with every module compiled
to bytecode. A checkout gets its bytecode written on first import, unless the environment says
not to (``PYTHONDONTWRITEBYTECODE``, as on some CI machines): then every command compiled every
module again, about 0.13 s of each start-up that an installed backstaff never pays."""

from __future__ import annotations

import compileall
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIRS = ("backstaff", "executors", "planner", "schemas")  # setup.py's package tree


def compile_backstaff() -> None:
    """Compile the checkout's modules as pip does at install. Always anew: compileall keeps
    bytecode whose recorded date matches the source's, where the import also checks the size,
    so a module edited within the same second was compiled again on every command."""
    for name in PACKAGE_DIRS:
        if not compileall.compile_dir(ROOT / name, quiet=1, force=True):
            raise SystemExit(f"cannot compile {ROOT / name}")
