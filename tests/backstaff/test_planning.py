"""backstaff/planning.py: networkx loads while the hosts are read, not with the CLI."""

from __future__ import annotations

import subprocess
import sys

LOADED = "import sys, {module}; print('networkx' in sys.modules)"


def _networkx_loaded_by(module: str, then: str = "") -> str:
    code = LOADED.format(module=module) if not then else f"import sys, {module}; {then}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_cli_starts_without_networkx() -> None:
    """About 0.1 s of imports no command pays before it reads the hosts."""
    assert _networkx_loaded_by("backstaff.cli") == "False"


def test_networkx_is_loaded_meanwhile() -> None:
    then = (
        "from backstaff.planning import load_graph_library_meanwhile as load; load();"
        " import threading; [t.join() for t in threading.enumerate()"
        " if t.name == 'import networkx']; print('networkx' in sys.modules)"
    )
    assert _networkx_loaded_by("backstaff.cli", then) == "True"
