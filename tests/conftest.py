"""Shared fixtures. The test bed is real: network namespaces, sshd, dockerd, a registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import testbed as testbed_module

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture(scope="session")
def testbed() -> Iterator[testbed_module.Testbed]:
    """Three hosts and a registry; reused if already up, removed at the end if started here."""
    existing = testbed_module.load()
    bed = testbed_module.up(3)
    yield bed
    if existing is None:
        testbed_module.down()
