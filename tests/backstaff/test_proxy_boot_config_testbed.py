"""``proxy boot_config set`` against the real Kamal 2.11 on the same host (issue #15): the
same boot files, byte for byte, for every option (--publish-host-ip, --metrics-port, --debug,
--docker-options, --registry, --repository, --image-version, ports, log size), the files
removed when the options are the defaults, and ``proxy reboot`` running kamal-proxy from them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backstaff.projects import enter, fresh_project, real_kamal, run_cli
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
HOST = "10.254.0.11"
FILES = ("options", "image", "image_version", "run_command")
OPTIONS = [
    "--publish-host-ip", HOST, "--publish-host-ip", "::1", "--http-port", "8080",
    "--https-port", "8443", "--log-max-size", "5m", "--metrics-port", "9000", "--debug",
    "--registry", "r.example:5000", "--repository", "myorg", "--image-version", "v0.9.3",
]  # fmt: skip


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from fresh_project(testbed, tmp_path_factory, "boot-config")


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


def kamal(project: Path, *args: str) -> None:
    done = real_kamal(project, *args, "-h", HOST, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def boot_files(testbed: Testbed) -> dict[str, bytes]:
    directory = Path(testbed.hosts[0].directory) / "root/.kamal/proxy"
    return {n: (directory / n).read_bytes() for n in FILES if (directory / n).exists()}


def backstaff(capsys: pytest.CaptureFixture[str], *args: str) -> None:
    code, _, err = run_cli(capsys, *args, "-h", HOST)
    assert code == 0, err


@pytest.mark.parametrize(
    "options",
    [
        OPTIONS,
        ["--no-publish", "--docker-options", "label=bst=yes", "--docker-options", "cpus=1"],
        ["--repository", "basecamp", "--image-version", "v0.9.2"],
        [],  # the defaults: every file removed
    ],
)
def test_same_files_as_kamal(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str], options: list[str]
) -> None:
    kamal(project, "proxy", "boot_config", "set", *OPTIONS)  # something to reset first
    # Thor's array option: the values after one --docker-options
    docker = [o for i, o in enumerate(options) if i and options[i - 1] == "--docker-options"]
    rest = [o for i, o in enumerate(options)
            if o != "--docker-options" and not (i and options[i - 1] == "--docker-options")]  # fmt: skip
    kamal(
        project,
        "proxy",
        "boot_config",
        "set",
        *rest,
        *(["--docker-options", *docker] if docker else []),
    )
    theirs = boot_files(testbed)
    backstaff(capsys, "proxy", "boot_config", "reset")
    assert boot_files(testbed) == {}
    backstaff(capsys, "proxy", "boot_config", "set", *OPTIONS)
    backstaff(capsys, "proxy", "boot_config", "set", *options)
    assert boot_files(testbed) == theirs
    assert bool(theirs) == bool(options)  # the defaults leave no file


def test_reboot_runs_from_the_boot_files(
    testbed: Testbed, capsys: pytest.CaptureFixture[str]
) -> None:
    backstaff(capsys, "proxy", "boot")
    backstaff(capsys, "proxy", "boot_config", "set", "--publish-host-ip", HOST, "--metrics-port",
              "9000", "--debug", "--docker-options", "label=bst=yes", "--log-max-size", "5m")  # fmt: skip
    backstaff(capsys, "proxy", "reboot", "-y")
    found = json.loads(testbed.docker(testbed.hosts[0], "inspect", "kamal-proxy"))[0]
    assert found["Config"]["Labels"]["bst"] == "yes"
    assert "9000/tcp" in found["Config"]["ExposedPorts"]
    assert found["Config"]["Cmd"][-4:] == ["run", "--debug", "--metrics-port", "9000"]
    assert found["HostConfig"]["LogConfig"]["Config"] == {"max-size": "5m"}
    bindings = found["HostConfig"]["PortBindings"]
    assert bindings["80/tcp"] == [{"HostIp": HOST, "HostPort": "80"}]
    backstaff(capsys, "proxy", "boot_config", "reset")
    backstaff(capsys, "proxy", "reboot", "-y")
    found = json.loads(testbed.docker(testbed.hosts[0], "inspect", "kamal-proxy"))[0]
    assert "bst" not in found["Config"]["Labels"]
    assert found["HostConfig"]["PortBindings"]["80/tcp"] == [{"HostIp": "", "HostPort": "80"}]
