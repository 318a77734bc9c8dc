"""The gather script on real test-bed hosts: its concurrent sections (named pipes) and its
sequential fallback (no temporary directory) give the same state; one SSH command each."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from backstaff.executors.config_files import load
from backstaff.executors.gather import ConnectionPool
from backstaff.planner.desired import build_desired
from backstaff.planner.facts import gather_script
from backstaff.planner.live import parse_host
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
EXAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "example" / "config" / "deploy.yml"


def test_concurrent_and_sequential_sections_give_the_same_state(
    testbed: Testbed, tmp_path: Path
) -> None:
    app = build_desired(load(EXAMPLE, None), "v1")
    pool = ConnectionPool(app.ssh, known_hosts=tmp_path / "kh")
    # Something to read on every host: a container with an image and env, a lock.
    for host in testbed.hosts:
        testbed.docker(host, "run", "-d", "--name", "gather-probe", "--env", "PROBE=1",
                       f"{testbed.registry}/tb/busybox:1.35", "sleep", "600")  # fmt: skip
    primary = pool.get(app.primary_host)
    assert primary.run("mkdir -p .kamal/lock-tb && echo aGVsZA== > .kamal/lock-tb/details").ok
    try:
        for host in testbed.hosts:
            script = gather_script(app, host.address)
            temporary = "ls -d /tmp/tmp.* 2>/dev/null | wc -l"
            temporaries = pool.get(host.address).run(temporary).stdout
            before = testbed.command_counts()[host.name]
            concurrent = pool.get(host.address).run(script)
            sequential = pool.get(host.address).run("TMPDIR=/nonexistent\n" + script)
            assert testbed.command_counts()[host.name] == before + 2
            assert concurrent.ok and sequential.ok
            a, b = (
                parse_host(host.address, concurrent.stdout),
                parse_host(host.address, sequential.stdout),
            )
            assert a.error is None and a.containers
            assert any(n == "gather-probe" for n in (c.name for c in a.containers))
            assert a.image_env and a.images and a.networks
            if host.address == app.primary_host:
                assert a.lock is not None
            # Only the containers' inspect differs in time-dependent details; compare the rest.
            assert replace(a, containers=()) == replace(b, containers=())
            assert [c.name for c in a.containers] == [c.name for c in b.containers]
            assert pool.get(host.address).run(temporary).stdout == temporaries  # cleaned up
    finally:
        assert primary.run("rm -rf .kamal/lock-tb").ok
        for host in testbed.hosts:
            testbed.docker(host, "rm", "-f", "gather-probe")
        pool.close()
