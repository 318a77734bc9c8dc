"""backstaff/planning.py: networkx loads while the hosts are read, not with the CLI; tabulate
loads where a table is printed."""

from __future__ import annotations

import subprocess
import sys


def _networkx_loaded(then: str = "pass") -> str:
    """Whether networkx is in a fresh interpreter's modules after importing the CLI and ``then``."""
    code = f"import sys, backstaff.cli; {then}; print('networkx' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_cli_starts_without_networkx() -> None:
    """About 0.1 s of imports no command pays before it reads the hosts."""
    assert _networkx_loaded() == "False"


def test_networkx_is_loaded_meanwhile() -> None:
    then = (
        "from backstaff.planning import load_graph_library_meanwhile as load; load();"
        " import threading; [t.join() for t in threading.enumerate()"
        " if t.name == 'import networkx']"
    )
    assert _networkx_loaded(then) == "True"


def test_tabulate_loads_only_where_a_table_is_printed() -> None:
    """About 10 ms (tabulate and wcwidth) that a command printing JSON does not pay."""
    code = (
        "import sys, backstaff.cli; print('tabulate' in sys.modules);"
        " from backstaff.planner.render.text import render_text;"
        " from tests.planner.scenarios import example, live;"
        " from backstaff.planner.plan import make_plan;"
        " print(render_text(make_plan(example('v2'), live('deployed-v1'), 'd')).count('app.web'));"
        " print('tabulate' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "2", "True"]
