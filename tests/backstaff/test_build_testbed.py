"""A real build against a test host's dockerd (the local docker client, DOCKER_HOST): an
uncommitted change never ships under the commit's version (Kamal's clean clone of HEAD), and
with ``builder.context`` it ships under ``<commit>_uncommitted_<hex>``."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.backstaff.projects import enter, fresh_project, run_cli
from tests.schemas.helpers import kamal_yaml
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from fresh_project(testbed, tmp_path_factory, "build")


def git(project: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                          cwd=project, capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout.strip()


def image_file(testbed: Testbed, image: str, path: str) -> str:
    host = testbed.hosts[0]
    return testbed.docker(host, "run", "--rm", "--entrypoint", "/bin/sh", image, "-c",
                          f"cat {path} 2>/dev/null || echo absent")  # fmt: skip


def test_uncommitted_change_absent_from_the_built_image(
    testbed: Testbed,
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enter(project, monkeypatch)
    monkeypatch.setenv("DOCKER_HOST", testbed.hosts[0].docker_socket)
    monkeypatch.setenv("DOCKER_CONFIG", str(project.parent / "docker-config"))
    monkeypatch.setenv("TMPDIR", str(project.parent / "tmp"))
    (project.parent / "tmp").mkdir()
    (project / "Dockerfile").write_text(
        "FROM 10.254.0.2:5000/tb/app:v1\nCOPY index.html /www/index.html\nCOPY . /ctx/\n"
    )
    (project / "index.html").write_text("tb committed\n")
    config = project / "config" / "deploy.yml"
    data = yaml.safe_load(config.read_text())
    data["builder"]["driver"] = "docker"
    config.write_text(kamal_yaml(data, sort_keys=False))
    git(project, "init", "-q", ".")
    git(project, "add", ".")
    git(project, "commit", "-qm", "one")
    head = git(project, "rev-parse", "HEAD")
    (project / "index.html").write_text("tb UNCOMMITTED\n")
    (project / "untracked.txt").write_text("untracked\n")

    code, out, err = run_cli(capsys, "build", "push", "--no-cache")
    assert code == 0, err
    assert "Building from a local git clone, so ignoring these uncommitted changes:" in err
    assert "M index.html" in err and f"Pushed 10.254.0.2:5000/tb/app:{head}" in out
    assert "--no-cache" in out
    image = f"10.254.0.2:5000/tb/app:{head}"
    assert image_file(testbed, image, "/www/index.html") == "tb committed\n"
    assert image_file(testbed, image, "/ctx/untracked.txt") == "absent\n"
    assert image_file(testbed, image, "/ctx/Dockerfile").startswith("FROM ")

    # with builder.context the working tree is the context, and the version says so
    data["builder"]["context"] = "."
    config.write_text(kamal_yaml(data, sort_keys=False))
    code, out, err = run_cli(capsys, "build", "push")
    assert code == 0, err
    assert "Building with uncommitted changes:" in err
    pushed = next(line.split()[-1] for line in out.splitlines() if line.startswith("Pushed "))
    assert pushed.startswith(f"10.254.0.2:5000/tb/app:{head}_uncommitted_")
    assert image_file(testbed, pushed, "/www/index.html") == "tb UNCOMMITTED\n"
    assert image_file(testbed, pushed, "/ctx/untracked.txt") == "untracked\n"
