"""backstaff/planning.py: networkx loads while the hosts are read for an apply, not with the
CLI, and for a plan only when it has steps; tabulate loads where a table is printed; accessory
files the project lacks are found at plan time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from backstaff.planner.steps import AccessoryTemplate, EnvFile, LocalFile, Step, Upload
from backstaff.planning import missing_project_files


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


def test_a_plan_without_steps_does_not_load_networkx() -> None:
    """A drift check's plan has nothing to order: networkx (0.07 s of CPU) is not loaded."""
    then = (
        "from tests.planner.scenarios import example, live;"
        " from backstaff.planner.plan import make_plan;"
        " print(len(make_plan(example('v1'), live('deployed-v1'), 'd').steps));"
        " print('networkx' in sys.modules);"
        " print(len(make_plan(example('v2'), live('deployed-v1'), 'd').steps) > 0)"
    )
    assert _networkx_loaded(then).split() == ["0", "False", "True", "True"]


def test_tabulate_loads_only_where_a_table_is_printed() -> None:
    """About 10 ms (tabulate and wcwidth) that a command printing JSON, or a plan without
    changes (a drift check's), does not pay."""
    code = (
        "import sys, backstaff.cli; print('tabulate' in sys.modules);"
        " from backstaff.planner.render.text import render_text;"
        " from tests.planner.scenarios import example, live;"
        " from backstaff.planner.plan import make_plan;"
        " print(render_text(make_plan(example('v1'), live('deployed-v1'), 'd')).count('No changes'));"
        " print('tabulate' in sys.modules);"
        " print(render_text(make_plan(example('v2'), live('deployed-v1'), 'd')).count('app.web'));"
        " print('tabulate' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "1", "False", "2", "True"]


def _boot(*uploads: Upload) -> Step:
    return Step("accessory.boot.db[h1]", "h1", "accessory", "boot db", 5, uploads)


def test_missing_project_files_names_the_step_and_the_file(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "here.sql").write_text("select 1;\n")
    step = _boot(
        Upload("db/etc/here.sql", "0755", LocalFile("config/here.sql")),
        Upload("db/etc/gone.sql", "0755", LocalFile("config/gone.sql")),
        Upload("db/etc/init.sh", "0755", AccessoryTemplate("db", "config/init.sh.erb")),
        Upload(".kamal/apps/s/env/accessories/db.env", "0600", EnvFile("accessory", "db")),
    )
    assert missing_project_files((step,), tmp_path) == [
        f"accessory.boot.db[h1]: missing file config/gone.sql (accessories' files: are read"
        f" from {tmp_path})",
        f"accessory.boot.db[h1]: missing file config/init.sh.erb (accessories' files: are read"
        f" from {tmp_path})",
    ]


def test_a_directory_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    step = _boot(Upload("db/etc/x", "0755", LocalFile("config")))
    assert len(missing_project_files((step,), tmp_path)) == 1
