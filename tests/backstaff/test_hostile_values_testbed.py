"""Values are data on real hosts: a config whose env, secret and label values are full of shell
syntax sets up and deploys; no injected command runs anywhere (locally, on the hosts, in the
containers) and every value arrives byte-exact in the containers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.backstaff.projects import enter, fresh_project, run_cli
from tests.schemas.helpers import kamal_yaml
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
MARK = "/tmp/bst-injected"  # every injection below would create a file named like this
CLEAR = (f"$(touch {MARK}-1) `touch {MARK}-2` ${{x:=$(touch {MARK}-3)}} ${{HOME}} $HOME"
         f" 'single' \"double\" back\\slash ; touch {MARK}-4 && echo | cat")  # fmt: skip
LABEL = f"a\"b'c $(touch {MARK}-5) `touch {MARK}-6` ;|&<>*?~"
SECRET = f's$(touch {MARK}-7)`touch {MARK}-8`${{HOME}}"q"\\x ;&|'


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    made = fresh_project(testbed, tmp_path_factory, "hostile")
    path = next(made)
    config = path / "config" / "deploy.yml"
    data = yaml.safe_load(config.read_text())
    data["env"]["clear"]["TB_GREETING"] = CLEAR
    data["labels"] = {"note": LABEL}
    config.write_text(kamal_yaml(data, sort_keys=False).replace("<%", "<%%"))
    secrets = path / ".kamal" / "secrets"  # dotenv: a single-quoted value is taken literally
    secrets.write_text(secrets.read_text().replace(
        "SECRET_TOKEN=s3cr3t-token-123", f"SECRET_TOKEN='{SECRET}'"))  # fmt: skip
    yield path
    next(made, None)  # resets the test bed


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


def _no_injection(testbed: Testbed) -> None:
    """The hosts' shells share this machine's /tmp (only /run and /root are their own), so
    one look covers the local shell and every host's; each container is looked at too."""
    assert not list(Path("/tmp").glob("bst-injected*")), "a value ran as a command"
    for host in testbed.hosts:
        for container in testbed.docker(host, "ps", "-q").split():
            listing = testbed.docker(host, "exec", container, "ls", "/tmp")
            assert "bst-injected" not in listing, f"injected in a container on {host.name}"


def _env_and_labels(testbed: Testbed, container: str) -> tuple[dict[str, str], dict[str, str]]:
    (inspected,) = json.loads(testbed.docker(testbed.hosts[0], "inspect", container))
    env = dict(item.split("=", 1) for item in inspected["Config"]["Env"])
    return env, inspected["Config"]["Labels"]


def test_setup_and_deploy_hand_every_value_over_exactly(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "--version", "v1", "setup", "-P")
    assert code == 0, err
    env, labels = _env_and_labels(testbed, "tb-web-v1")
    assert env["TB_GREETING"] == CLEAR
    assert env["SECRET_TOKEN"] == SECRET
    assert labels["note"] == LABEL
    inside = testbed.docker(testbed.hosts[0], "exec", "tb-web-v1", "env").splitlines()
    assert f"TB_GREETING={CLEAR}" in inside and f"SECRET_TOKEN={SECRET}" in inside
    _no_injection(testbed)
    code, _, err = run_cli(capsys, "--version", "v2", "deploy", "-P")
    assert code == 0, err
    env, labels = _env_and_labels(testbed, "tb-web-v2")
    assert (env["TB_GREETING"], env["SECRET_TOKEN"], labels["note"]) == (CLEAR, SECRET, LABEL)
    _no_injection(testbed)
    assert run_cli(capsys, "--version", "v2", "plan", "--detailed-exitcode")[0] == 0
