"""``pip install .`` ships schemas/, planner/ and executors/ only as backstaff subpackages."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_has_only_backstaff_packages(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("backstaff-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.endswith(".dist-info/")}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"backstaff"}
    for module in (
        "schemas/load.py",
        "planner/desired.py",
        "executors/ssh.py",
        "templates/deploy.yml",
    ):
        assert f"backstaff/{module}" in names
    assert not any(name.startswith(("tests/", "fixtures/")) for name in names)
