"""Packages are found by walking the source folders, so a new subpackage can never be missed.

The card's folders (schemas/, planner/, executors/) install as ``backstaff.<folder>``; a static
list in pyproject.toml once left out planner/commands and planner/render and the installed
program did not start.
"""

from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).parent
PACKAGE_DIRS = {
    "backstaff": "backstaff",
    "backstaff.schemas": "schemas",
    "backstaff.planner": "planner",
    "backstaff.executors": "executors",
}


def find_packages() -> list[str]:
    packages = []
    for package, folder in PACKAGE_DIRS.items():
        for init in sorted((ROOT / folder).rglob("__init__.py")):
            relative = init.parent.relative_to(ROOT / folder)
            packages.append(".".join([package, *relative.parts]))
    return sorted(set(packages))


setup(packages=find_packages(), package_dir=PACKAGE_DIRS)
