"""The gather script on real test-bed hosts: one SSH command each, at most three docker calls
(counted by a wrapper around the real docker; two on a host without kamal-proxy), and the
state it reads is what docker says."""

from __future__ import annotations

from pathlib import Path

import pytest

from backstaff.executors.config_files import load
from backstaff.executors.gather import ConnectionPool
from backstaff.planner.desired import build_desired
from backstaff.planner.facts import frame_answer, gather_script
from backstaff.planner.live import parse_host, split_sections
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
EXAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "example" / "config" / "deploy.yml"
CALLS = "/tmp/backstaff-gather-docker-calls"
# A shell function in front of the real docker: each call is one line in CALLS.
COUNTING = f'rm -f {CALLS}; docker() {{ echo "$*" >> {CALLS}; command docker "$@"; }}\n'


def test_three_docker_calls_at_most_and_the_state_docker_reports(
    testbed: Testbed, tmp_path: Path
) -> None:
    testbed.reset()  # fresh hosts: no kamal-proxy on any
    app = build_desired(load(EXAMPLE, None), "v1")
    pool = ConnectionPool(app.ssh, known_hosts=tmp_path / "kh")
    # Something to read on every host: containers with an image and env, a network, a lock.
    for host in testbed.hosts:
        testbed.docker(host, "run", "-d", "--name", "gather-probe", "--env", "PROBE=1",
                       f"{testbed.registry}/tb/busybox:1.35", "sleep", "600")  # fmt: skip
        testbed.docker(host, "create", "--name", "gather-stopped", f"{testbed.registry}/tb/app:v1")
        testbed.docker(host, "network", "create", "kamal")
    primary = pool.get(app.primary_host)
    assert primary.run("mkdir -p .kamal/lock-tb && echo aGVsZA== > .kamal/lock-tb/details").ok
    try:
        for host in testbed.hosts:
            connection = pool.get(host.address)
            before = testbed.command_counts()[host.name]
            answer = connection.run(COUNTING + gather_script(app, host.address, "t0ken"))
            assert answer.ok and testbed.command_counts()[host.name] == before + 1
            calls = connection.run(f"cat {CALLS}").stdout.splitlines()
            # The routes are asked for on a host meant to run kamal-proxy; no kamal-proxy
            # runs on the others, so docker is asked twice there.
            routed = host.address in app.proxy_host_set
            assert sorted(call.split()[0] for call in calls) == (
                ["exec", "inspect", "ps"] if routed else ["inspect", "ps"]
            ), calls
            framed = frame_answer(answer.stdout, answer.stderr, "t0ken")
            # on stderr, through the real sshd; the same answer where docker was not asked
            assert split_sections(framed)["proxy"] == "!not-running"
            state = parse_host(host.address, framed)
            assert state.error is None and state.networks == ("kamal",)
            ids = testbed.docker(host, "ps", "-aq", "--no-trunc").split()
            assert sorted(c.id for c in state.containers) == sorted(ids)
            probe = state.container("gather-probe")
            assert probe is not None and probe.running and dict(probe.env)["PROBE"]
            assert probe.image_id in dict(state.image_env)  # the image it runs, by its id
            stopped = state.container("gather-stopped")
            assert stopped is not None and not stopped.running
            assert state.image_id(f"{testbed.registry}/tb/app:v1") == stopped.image_id
            assert state.lock_known == (host.address == app.primary_host)
            if host.address == app.primary_host:
                assert state.lock is not None
    finally:
        assert primary.run(f"rm -rf .kamal/lock-tb {CALLS}").ok
        for host in testbed.hosts:
            testbed.docker(host, "rm", "-f", "gather-probe", "gather-stopped")
            testbed.docker(host, "network", "rm", "kamal")
        pool.close()
