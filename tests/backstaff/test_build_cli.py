"""``build push|dev|create|remove`` and ``deploy --no-cache`` at the CLI, without a docker
daemon: options as Kamal 2.11's, Kamal's buildx commands in the dry run, build secrets only
by name, and Kamal's error when buildx is missing and the build needs it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from backstaff import commands_build
from backstaff.cli import main
from backstaff.commands_build import resolve_builder
from backstaff.context import AppContext, Options
from backstaff.planner.model import App
from tests.conftest import FIXTURES
from tests.schemas.helpers import kamal_yaml


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURES / "example", tmp_path / "app")
    monkeypatch.chdir(tmp_path / "app")
    monkeypatch.delenv("VERSION", raising=False)
    return tmp_path / "app"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def set_builder(project: Path, **builder: object) -> None:
    path = project / "config" / "deploy.yml"
    data = yaml.safe_load(path.read_text())
    data["builder"] = {**data["builder"], **builder}
    path.write_text(kamal_yaml(data, sort_keys=False))


def test_push_dry_run_shows_kamals_buildx_build(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_builder(
        project, arch=["amd64", "arm64"], secrets=["SECRET_TOKEN"], cache={"type": "registry"}
    )
    code, out, _ = run(
        capsys, "--version", "v9", "build", "push", "--dry-run", "--output", "docker", "--no-cache"
    )
    assert code == 0
    assert (
        "would run: docker buildx build --output=type=docker --platform linux/amd64,linux/arm64"
        in out
    )
    assert "--builder kamal-local-docker-container" in out and "--no-cache" in out
    assert "--cache-to type=registry,ref=10.254.0.2:5000/tb/app-build-cache" in out
    # build secrets: named on the command line, the value only in the build's environment
    assert "--secret id=SECRET_TOKEN" in out and "s3cr3t" not in out
    assert "Docker buildx plugin is not installed locally" in out  # none on this machine


def test_clone_announced_in_a_git_repository(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--version", "v9", "build", "push", "--dry-run")
    assert code == 0 and "would clone HEAD" not in out  # not a git repository: builds from .
    subprocess.run(["git", "init", "-q", "."], check=True)
    code, out, _ = run(capsys, "--version", "v9", "build", "push", "--dry-run")
    assert code == 0 and "would clone HEAD into " in out and "/kamal-clones/tb-" in out
    set_builder(project, context=".")
    code, out, _ = run(capsys, "--version", "v9", "build", "push", "--dry-run")
    assert code == 0 and "would clone HEAD" not in out


def test_buildx_missing_is_kamals_error(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The default docker-container driver needs buildx (Kamal refuses to start without it);
    backstaff falls back to docker build only for the docker driver."""
    code, _, err = run(capsys, "--version", "v9", "build", "push")
    assert code == 1 and "Docker buildx plugin is not installed locally" in err
    assert "Traceback" not in err


def test_options_as_in_kamal(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for verb in ("deploy", "redeploy", "setup"):
        code, out, _ = run(capsys, verb, "--help")
        assert code == 0 and "--no-cache" in out, verb
    code, out, _ = run(capsys, "build", "push", "--help")
    assert "--output" in out and "--no-cache" in out and "registry" in out
    code, out, _ = run(capsys, "build", "dev", "--help")
    assert "--output" in out and "docker" in out and "--no-cache" in out
    # Kamal's `build deliver` takes neither (Thor: called with arguments ["--no-cache"])
    code, _, err = run(capsys, "build", "deliver", "--no-cache")
    assert code == 1 and "--no-cache" in err


def _context() -> AppContext:
    """The project's context, as the CLI makes it (version v1)."""
    return AppContext(Options(config_file=Path("config/deploy.yml"), destination=None,
                              hosts=None, roles=None, primary=False, version="v1",
                              verbose=False, quiet=False, skip_hooks=False))  # fmt: skip


def test_ssh_variables_expand_from_the_local_environment(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kamal's shell expands ``$SSH_AUTH_SOCK`` in ``builder.ssh``; backstaff does the same,
    and nothing else in it."""
    set_builder(project, ssh="default=$SSH_AUTH_SOCK,key=${KEY_PATH}:$(id)")
    monkeypatch.setenv("SSH_AUTH_SOCK", "/run/agent.sock")
    monkeypatch.setenv("KEY_PATH", "/k")
    ctx = _context()
    assert resolve_builder(ctx, ctx.app).config["ssh"] == "default=/run/agent.sock,key=/k:$(id)"


def stand_in_docker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logged: str = "$*") -> Path:
    """A ``docker`` first on PATH that logs what it is asked, or the shell words ``logged``
    (to the file returned)."""
    log = tmp_path / "log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text(f'#!/bin/sh\necho "docker {logged}" >> {log}\n')
    (bin_dir / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return log


def test_a_hook_sees_env_as_kamals_process_has_it(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Kamal runs a hook with its own ENV: what deploy.yml's ``Dotenv.load`` added (a real
    pattern: a post-deploy hook's webhook URL in .env), and KAMAL_DESTINATION only for -d,
    not one left in the shell."""
    stand_in_docker(tmp_path, monkeypatch)
    monkeypatch.setenv("KAMAL_DESTINATION", "production")
    monkeypatch.delenv("HOOK_SEES", raising=False)
    set_builder(project, driver="docker")
    config = project / "config" / "deploy.yml"
    config.write_text('<% require "dotenv"; Dotenv.load(".env") %>\n' + config.read_text())
    (project / ".env").write_text("HOOK_SEES=dotenv-42\n")
    (project / "Dockerfile").write_text("FROM scratch\n")
    hooks = project / ".kamal" / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "pre-build").write_text(
        f'#!/bin/sh\necho "$HOOK_SEES|${{KAMAL_DESTINATION-unset}}" > {tmp_path}/seen\n'
    )
    (hooks / "pre-build").chmod(0o755)
    code, _, err = run(capsys, "--version", "v9", "build", "push")
    assert code == 0, err
    assert (tmp_path / "seen").read_text() == "dotenv-42|unset\n"


def test_a_remote_builder_builds_inside_the_local_registrys_tunnel(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """With a ``localhost:PORT`` registry, the remote builder's build and push run while its
    tunnel is up (the tunnel itself: tests/backstaff/test_registry_tunnel_testbed.py). A
    stand-in ``docker`` on PATH logs what it is asked."""
    log = stand_in_docker(tmp_path, monkeypatch)

    @contextmanager
    def tunnel(ctx: AppContext, app: App, remote: str | None) -> Iterator[None]:
        with log.open("a") as out:
            out.write(f"tunnel up {remote} {app.registry.server}\n")
        yield
        with log.open("a") as out:
            out.write("tunnel down\n")

    monkeypatch.setattr(commands_build, "builder_tunnel", tunnel)
    path = project / "config" / "deploy.yml"
    data = yaml.safe_load(path.read_text())
    data["registry"] = {"server": "localhost:5555"}
    data["builder"] = {"arch": "amd64", "remote": "ssh://builder@builder.invalid"}
    path.write_text(kamal_yaml(data, sort_keys=False))
    (project / "Dockerfile").write_text("FROM scratch\n")
    code, _, err = run(capsys, "--version", "v9", "build", "push")
    assert code == 0, err
    lines = log.read_text().splitlines()
    up = lines.index("tunnel up ssh://builder@builder.invalid localhost:5555")
    built = next(i for i, line in enumerate(lines) if line.startswith("docker buildx build"))
    assert up < built < lines.index("tunnel down") == len(lines) - 1
    assert any(line.startswith("docker buildx inspect") for line in lines[up:built])


def _dotenv_loaded(project: Path, dotenv: str) -> None:
    """deploy.yml's ERB loads ``.env`` (a real pattern), which holds ``dotenv``."""
    config = project / "config" / "deploy.yml"
    config.write_text('<% require "dotenv"; Dotenv.load(".env") %>\n' + config.read_text())
    (project / ".env").write_text(dotenv)


def test_version_from_dotenv_as_kamal_reads_it(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Kamal reads ENV["VERSION"] once its config is loaded, so a VERSION that deploy.yml's
    ``Dotenv.load`` set is the version (the real Kamal 2.11's ``config`` in the same project)."""
    _dotenv_loaded(project, "VERSION=from-dotenv\n")
    kamal = subprocess.run(["kamal", "config"], cwd=project, capture_output=True, text=True,
                           env={k: v for k, v in os.environ.items() if k != "VERSION"})  # fmt: skip
    assert kamal.returncode == 0, kamal.stderr
    assert ":version: from-dotenv" in kamal.stdout.splitlines()
    code, out, err = run(capsys, "config")
    assert code == 0, err
    assert "version: from-dotenv" in out.splitlines()


def test_the_build_runs_with_env_as_kamals_process_has_it(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The local ``docker`` commands and ``builder.ssh``'s ``$VAR``s get Kamal's ENV: what
    deploy.yml's ``Dotenv.load`` added, and KAMAL_DESTINATION only for -d, never one left in
    the shell."""
    log = stand_in_docker(tmp_path, monkeypatch, "$1 $BUILD_SEES|${KAMAL_DESTINATION-unset}")
    monkeypatch.setenv("KAMAL_DESTINATION", "production")
    for name in ("BUILD_SEES", "AGENT"):
        monkeypatch.delenv(name, raising=False)
    set_builder(project, driver="docker", ssh="default=$AGENT")
    _dotenv_loaded(project, "BUILD_SEES=dotenv-42\nAGENT=/run/dotenv-agent.sock\n")
    (project / "Dockerfile").write_text("FROM scratch\n")
    code, _, err = run(capsys, "--version", "v9", "build", "push")
    assert code == 0, err
    runs = log.read_text().splitlines()  # each docker command backstaff ran, and what it saw
    assert [line.split()[1] for line in runs] == ["buildx", "--version", "login", "buildx"], runs
    assert {line.split(" ", 2)[2] for line in runs} == {"dotenv-42|unset"}
    ctx = _context()
    assert resolve_builder(ctx, ctx.app).config["ssh"] == "default=/run/dotenv-agent.sock"
