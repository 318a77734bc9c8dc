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

from backstaff.context import AppContext, Options
from backstaff.errors import BackstaffError
from backstaff.executors.ssh import SshConnection
from backstaff.planner.model import SshSettings
from backstaff.registry_tunnel import builder_tunnel
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


def test_a_remote_builder_reaches_the_local_registry_while_it_builds(
    testbed: Testbed, project: Path, local_registry: int, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Kamal's ``forward_local_registry_port_for_remote_builder``: while a remote builder builds,
    its 127.0.0.1:PORT is the local registry here. The builder's connection is made as ssh
    makes it (the URL's user, the key of the user's ssh config), not with deploy.yml's ``ssh``
    (whose keys here are not the builder's)."""
    enter(project, monkeypatch)
    port, builder = local_registry, testbed.hosts[0]
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(
        f"Host {builder.address}\n  IdentityFile {testbed.ssh_key}\n  IdentitiesOnly yes\n"
    )
    monkeypatch.setenv("HOME", str(home))
    config = project / "config" / "deploy.yml"
    data = yaml.safe_load(config.read_text())
    data["registry"] = {"server": f"localhost:{port}"}
    data["builder"]["remote"] = f"ssh://root@{builder.address}"
    data["ssh"] = {"keys": [str(tmp_path / "not-the-builders-key")], "keys_only": True}
    config.write_text(kamal_yaml(data, sort_keys=False))
    options = Options(config_file=Path("config/deploy.yml"), destination=None, hosts=None,
                      roles=None, primary=False, version="v1", verbose=False, quiet=False,
                      skip_hooks=True, known_hosts=str(project.parent / "kh"))  # fmt: skip
    ctx = AppContext(options, cwd=project)
    catalog = f"curl -sf http://127.0.0.1:{port}/v2/_catalog"
    with builder_tunnel(ctx, ctx.app, data["builder"]["remote"]):
        settings = SshSettings(keys=(testbed.ssh_key,), keys_only=True, config=False)
        with SshConnection(builder.address, settings, known_hosts=project.parent / "kh") as ssh:
            reached = ssh.run(catalog)
        assert reached.ok and '"repositories"' in reached.stdout, reached
        assert _listening(testbed, port) == [builder.name]
    assert f"Setting up local registry port forwarding to {builder.address}..." in (
        capsys.readouterr().err
    )
    assert _listening(testbed, port) == []  # gone with the build

    data["builder"]["remote"] = f"ssh://nobody-here@{builder.address}"
    config.write_text(kamal_yaml(data, sort_keys=False))
    ctx = AppContext(options, cwd=project)
    with pytest.raises(BackstaffError, match=r"^remote builder: .*nobody-here"):
        with builder_tunnel(ctx, ctx.app, data["builder"]["remote"]):
            pass
