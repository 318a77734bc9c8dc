"""A ``localhost:PORT`` registry, as Kamal 2.11 reaches it: the images are pulled through an
SSH remote forward from each host's 127.0.0.1:PORT to the registry here, and the tunnels are
gone afterwards. The registry here is Debian's docker-registry on the loopback: a stand-in for
the ``kamal-docker-registry`` container (no docker engine runs on this machine)."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from backstaff.executors.ssh import SshConnection
from backstaff.planner.model import SshSettings
from tests.backstaff.projects import enter, fresh_project, run_cli
from tests.schemas.helpers import kamal_yaml
from tests.testbed import Testbed, TestbedError

pytestmark = pytest.mark.testbed


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from fresh_project(testbed, tmp_path_factory, "tunnel")


@pytest.fixture
def local_registry(tmp_path: Path) -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = tmp_path / "registry.yml"
    config.write_text(
        f"version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {tmp_path}/data\nhttp:\n  addr: 127.0.0.1:{port}\n"
    )
    process = subprocess.Popen(["docker-registry", "serve", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 10
    while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
        assert time.monotonic() < deadline, "the local registry did not start"
        time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(10)


def _listening(testbed: Testbed, port: int) -> list[str]:
    """The hosts where something listens on 127.0.0.1:``port``."""
    probe = f"python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), 2)\""
    found = []
    for host in testbed.hosts:
        settings = SshSettings(keys=(testbed.ssh_key,), keys_only=True, config=False)
        with SshConnection(
            host.address, settings, known_hosts=Path(testbed.state_dir) / "kh"
        ) as ssh:
            if ssh.run(probe).ok:
                found.append(host.name)
    return found


def test_deploy_pulls_from_a_local_registry_through_ssh_tunnels(
    testbed: Testbed, project: Path, local_registry: int,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    enter(project, monkeypatch)
    port, first = local_registry, testbed.hosts[0]
    image = f"localhost:{port}/tb/app:v1"
    config = project / "config" / "deploy.yml"
    data = yaml.safe_load(config.read_text())
    data["registry"] = {"server": f"localhost:{port}"}  # no credentials: Kamal logs in nowhere
    del data["accessories"]  # their images are in the test bed's registry
    config.write_text(kamal_yaml(data, sort_keys=False))

    # Seed the local registry with v1 from the first host, through the same kind of tunnel.
    testbed.docker(first, "tag", f"{testbed.registry}/tb/app:v1", image)
    settings = SshSettings(keys=(testbed.ssh_key,), keys_only=True, config=False)
    with SshConnection(first.address, settings, known_hosts=project.parent / "kh") as ssh:
        ssh.forward_remote(port)
        testbed.docker(first, "push", image)
    for host in testbed.hosts:
        try:
            testbed.docker(host, "image", "rm", image)
        except TestbedError:
            pass  # not there
    assert _listening(testbed, port) == []

    code, _, err = run_cli(capsys, "--version", "v1", "deploy", "-P")
    assert code == 0, err
    hosts = ", ".join(h.address for h in testbed.hosts)
    assert f"Setting up local registry port forwarding to {hosts}..." in err
    for host in testbed.hosts:
        running = testbed.docker(host, "ps", "--filter", "label=service=tb",
                                 "--format", "{{.Image}}").split()  # fmt: skip
        assert running == [image], host.name
    with urllib.request.urlopen(f"http://{first.address}/", timeout=10) as response:
        assert response.read().decode().strip() == "tb v1"
    assert _listening(testbed, port) == []  # the tunnels are gone with the deploy
