"""Shared fixtures. The test bed is real: network namespaces, sshd, dockerd, a registry."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import testbed as testbed_module

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """The CLI, run in-process, makes this process's environment Kamal's ENV once its config
    is loaded (``backstaff/context.adopt_environment``): each test starts from the same one."""
    before = dict(os.environ)
    yield
    if os.environ != before:
        os.environ.clear()
        os.environ.update(before)


@pytest.fixture(scope="session")
def testbed() -> Iterator[testbed_module.Testbed]:
    """Three hosts and a registry; reused if already up, removed at the end if started here."""
    existing = testbed_module.load()
    bed = testbed_module.up(3)
    yield bed
    if existing is None:
        testbed_module.down()


HOST_LOGS = ("sshd.log", "commands.log", "dockerd.log")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """A failed test-bed test's report ends with the last lines each host logged (sshd, the
    commands it ran with their status, dockerd less its gRPC chatter): CI removes the bed,
    and with it the logs."""
    report = yield
    if getattr(report, "failed", False) and item.get_closest_marker("testbed"):
        bed = testbed_module.load()
        for host in bed.hosts if bed else ():
            for name in HOST_LOGS:
                path = Path(host.directory) / name
                try:
                    text = path.read_text(errors="replace")
                except OSError:
                    continue
                lines = [line for line in text.splitlines() if "module=grpc" not in line][-25:]
                report.sections.append((f"{host.name} {name}", "\n".join(lines)))
    return report
