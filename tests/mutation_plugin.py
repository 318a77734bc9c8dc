"""pytest plugin for scripts/mutation.sh: checks the tests import mutmut's mutated copy.

mutmut runs pytest inside its ``mutants/`` copy of a tree laid out as the package installs.
Were ``backstaff`` still imported from the checkout (the editable install), every mutant would
"survive" unseen: the session refuses to start then. Hypothesis runs without shrinking (a
failure is all mutmut needs), without deadlines (mutated code is slower: a deadline would
"kill" mutants by timing) and without its example database (each run starts alike).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import Phase, settings

MUTANTS = Path(__file__).resolve().parent.parent
CHECKED = ("backstaff.planner.diff", "backstaff.executors.apply", "backstaff.schemas.masking")

settings.register_profile(
    "mutation", deadline=None, database=None, phases=(Phase.explicit, Phase.reuse, Phase.generate)
)
settings.load_profile("mutation")


def pytest_sessionstart() -> None:
    """Fail the run, rather than report false survivors, if the checkout is what gets tested."""
    import importlib

    if MUTANTS.name != "mutants":
        raise RuntimeError(f"tests/mutation_plugin.py is for mutmut's copy only, not {MUTANTS}")
    for name in CHECKED:
        where = Path(importlib.import_module(name).__file__ or "").resolve()
        if MUTANTS not in where.parents:
            raise RuntimeError(f"{name} imported from {where}, not from {MUTANTS}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fastest tests first (durations from mutmut's first run): a mutant dies sooner."""
    stats = MUTANTS / "mutmut-stats.json"
    if stats.exists():
        durations = json.loads(stats.read_text()).get("duration_by_test", {})
        items.sort(key=lambda item: durations.get(item.nodeid, 0.0))
