"""The wheel as a user gets it: built, installed into a fresh virtual environment with no source
tree importable, and every command started from there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT

# Run inside the installed environment: every command path of the click tree, as JSON.
LIST_COMMANDS = """
import json, click, backstaff, backstaff.cli as cli
def walk(command, path):
    yield path
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from walk(command.commands[name], [*path, name])
print(json.dumps({"file": backstaff.__file__, "paths": list(walk(cli.cli, []))}))
"""


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    (built,) = out.glob("backstaff-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh virtual environment with the wheel and its dependencies, nothing else."""
    path = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    subprocess.run(
        [str(path / "bin" / "python"), "-m", "pip", "install", "-q",
         "--disable-pip-version-check", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    yield path


def _run(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VERSION")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_wheel_has_only_backstaff_packages(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.endswith(".dist-info/")}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"backstaff"}
    for module in ("schemas/load.py", "planner/desired.py", "executors/ssh.py",
                   "templates/deploy.yml"):  # fmt: skip
        assert f"backstaff/{module}" in names
    assert not any(name.startswith(("tests/", "fixtures/")) for name in names)


def test_wheel_ships_every_source_module(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    folders = {"backstaff": "backstaff", "schemas": "backstaff/schemas",
               "planner": "backstaff/planner", "executors": "backstaff/executors"}  # fmt: skip
    for folder, installed in folders.items():
        for source in (ROOT / folder).rglob("*.py"):
            relative = source.relative_to(ROOT / folder).as_posix()
            assert f"{installed}/{relative}" in names, f"{folder}/{relative} is not in the wheel"


def test_every_command_starts_from_the_installed_wheel(venv: Path, tmp_path: Path) -> None:
    listed = _run(venv, tmp_path, str(venv / "bin" / "python"), "-c", LIST_COMMANDS)
    assert listed.returncode == 0, listed.stderr
    found = json.loads(listed.stdout)
    assert Path(found["file"]).is_relative_to(venv), "backstaff imported from outside the venv"
    paths = found["paths"]
    assert ["app", "exec"] in paths and ["plan"] in paths and len(paths) > 40
    for path in paths:
        done = _run(venv, tmp_path, str(venv / "bin" / "backstaff"), *path, "--help")
        assert done.returncode == 0, f"backstaff {' '.join(path)} --help: {done.stderr}"
        assert "Usage: backstaff" in done.stdout
        assert "Traceback" not in done.stdout + done.stderr


def test_validate_and_config_on_the_example(venv: Path, tmp_path: Path) -> None:
    project = tmp_path / "example"
    shutil.copytree(FIXTURES / "example", project)
    backstaff = str(venv / "bin" / "backstaff")
    done = _run(venv, project, backstaff, "validate")
    assert done.returncode == 0, done.stderr
    assert "Configuration is valid: 2 role(s), 1 accessory(ies), 3 host(s)." in done.stdout
    done = _run(venv, project, backstaff, "config", "--version", "v7")
    assert done.returncode == 0, done.stderr
    assert "absolute_image: 10.254.0.2:5000/tb/app:v7" in done.stdout
    assert "tbpass" not in done.stdout
    done = _run(venv, project, backstaff, "-c", "config/missing.yml", "validate")
    assert done.returncode == 1
    assert "Configuration file not found" in done.stderr and "Traceback" not in done.stderr
