"""schemas/ and planner/ are pure: no I/O modules, no clock, no randomness (DESIGN.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

FORBIDDEN_MODULES = {
    "paramiko", "subprocess", "socket", "click", "os", "time", "random", "secrets",
    "backstaff.executors", "backstaff.cli", "threading", "shutil", "pathlib",
}  # fmt: skip
PURE_FILES = sorted((ROOT / "schemas").rglob("*.py")) + sorted((ROOT / "planner").rglob("*.py"))


def test_every_pure_file_is_checked() -> None:
    """Subpackages included (planner/commands, planner/render)."""
    names = {p.relative_to(ROOT).as_posix() for p in PURE_FILES}
    assert {"planner/commands/words.py", "planner/render/text.py", "planner/graph.py"} <= names


@pytest.mark.parametrize("path", PURE_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_pure_module_imports(path: Path) -> None:
    tree = ast.parse(path.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    bad = {m for m in imported if any(m == f or m.startswith(f + ".") for f in FORBIDDEN_MODULES)}
    assert not bad, f"{path.name} imports {sorted(bad)}"
    assert "open(" not in path.read_text(), f"{path.name} opens files"
