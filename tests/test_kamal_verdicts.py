"""backstaff accepts and rejects the configs in fixtures/configs/ exactly as the real Kamal 2.11
did (its verdicts are recorded in each case's kamal.yml), except the cases listed as stricter."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backstaff.executors.config_files import read_sources
from backstaff.schemas import ConfigErrors, load_config
from tests.conftest import FIXTURES, ROOT

CASES = sorted(p for p in (FIXTURES / "configs").iterdir() if p.is_dir())


def _backstaff_errors(case: Path) -> list[str]:
    meta = yaml.safe_load((case / "case.yml").read_text()) if (case / "case.yml").exists() else {}
    destination = (meta or {}).get("destination")
    env = {"HOME": "/home/tester"}
    try:
        load_config(read_sources(case / "config" / "deploy.yml", destination, env))
    except ConfigErrors as exc:
        return [str(e) for e in exc.errors]
    return []


def _kamal_message(error: str) -> str:
    return error.split("): ", 1)[1] if "): " in error else error


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_verdict_as_kamal(case: Path) -> None:
    kamal = yaml.safe_load((case / "kamal.yml").read_text())
    errors = _backstaff_errors(case)
    if case.name.startswith("stricter-"):
        assert kamal["exit"] == 0, "a stricter case is one Kamal accepts"
        assert errors, f"backstaff should reject {case.name}"
        return
    assert bool(errors) == (kamal["exit"] != 0), errors
    message = kamal["error"] or ""
    if "ConfigurationError" in message:
        assert errors[0] == _kamal_message(message)
    elif "KeyError" in message or "Errno::" in message or "ArgumentError" in message:
        # An exception raised by the ERB: Kamal's message, prefixed with file and line (an
        # ArgumentError of Kamal's own checks: the message alone).
        kamal_says = _kamal_message(message)
        assert errors[0] == kamal_says or errors[0].endswith(": " + kamal_says), errors[0]


def test_every_stricter_case_is_documented() -> None:
    documented = (ROOT / "docs" / "kamal-differences.md").read_text()
    for case in CASES:
        if case.name.startswith("stricter-"):
            assert f"`{case.name}`" in documented
