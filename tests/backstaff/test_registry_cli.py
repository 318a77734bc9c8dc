"""``registry login|logout|setup|remove`` as Kamal 2.11's cli/registry.rb: here (unless
-L/--skip-local) and on every selected host (unless -R/--skip-remote), the password on stdin;
with a ``localhost:PORT`` registry, setup/remove run the local registry container and
login/logout are refused with Kamal's message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from backstaff.cli import main
from tests.conftest import FIXTURES

LOGIN = "docker login 10.254.0.2:5000 -u tb --password-stdin"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURES / "example", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "tbpass" not in out + err
    return code, out, err


@pytest.mark.parametrize("verb", ["login", "setup"])
def test_login_here_and_on_the_hosts(
    project: Path, capsys: pytest.CaptureFixture[str], verb: str
) -> None:
    code, out, err = run(capsys, "registry", verb, "--dry-run")
    assert code == 0, err
    assert f"locally: {LOGIN}" in out
    assert out.count(f"       {LOGIN}") == 3  # each host
    code, out, _ = run(capsys, "registry", verb, "-L", "--dry-run")
    assert "locally" not in out and out.count(LOGIN) == 3
    code, out, _ = run(capsys, "registry", verb, "--skip-remote", "--dry-run")
    assert out.strip() == f"locally: {LOGIN}"
    code, out, _ = run(capsys, "registry", verb, "-L", "-R", "--dry-run")
    assert code == 0 and out == ""


@pytest.mark.parametrize("verb", ["logout", "remove"])
def test_logout_here_and_on_the_hosts(
    project: Path, capsys: pytest.CaptureFixture[str], verb: str
) -> None:
    code, out, _ = run(capsys, "registry", verb, "--dry-run")
    assert "locally: docker logout 10.254.0.2:5000" in out
    assert out.count("       docker logout 10.254.0.2:5000") == 3
    code, out, _ = run(capsys, "registry", verb, "-R", "--dry-run")
    assert out.strip() == "locally: docker logout 10.254.0.2:5000"


def test_local_registry(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = project / "config" / "deploy.yml"
    config.write_text(config.read_text().replace("10.254.0.2:5000", "localhost:5555"))
    code, _, err = run(capsys, "registry", "login")
    assert code == 1
    assert "Cannot use login command with a local registry. Use `backstaff registry setup`" in err
    code, _, err = run(capsys, "registry", "logout")
    assert "Cannot use logout command with a local registry" in err and code == 1
    # Kamal: docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:5555:5000
    #   --name kamal-docker-registry registry:3   (and stop && rm to remove)
    code, out, _ = run(capsys, "registry", "setup", "--dry-run")
    assert out.strip() == (
        "locally: docker start kamal-docker-registry || docker run --detach"
        " -p 127.0.0.1:5555:5000 --name kamal-docker-registry registry:3"
    )
    code, out, _ = run(capsys, "registry", "remove", "--dry-run")
    assert out.strip() == (
        "locally: docker stop kamal-docker-registry && docker rm kamal-docker-registry"
    )
    code, out, _ = run(capsys, "registry", "setup", "-L", "--dry-run")
    assert out == ""
