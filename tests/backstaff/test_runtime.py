"""What the runtime reads at apply time: a file gone by the time it is uploaded fails its step
with a plain reason, not an OSError's repr; a secret that cannot be read is found before any
step runs, with Kamal's message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from backstaff.context import AppContext, Options
from backstaff.executors.apply import StepFailed
from backstaff.executors.gather import ConnectionPool
from backstaff.planner.steps import EnvFile, Step, Upload
from backstaff.runtime import _project_file, make_runtime, unreadable_secrets
from tests.conftest import FIXTURES


def test_a_file_gone_at_upload_fails_its_step_plainly(tmp_path: Path) -> None:
    with pytest.raises(
        StepFailed, match=r"^cannot read config/gone.sql: No such file or directory$"
    ):
        _project_file(tmp_path, "config/gone.sql")
    (tmp_path / "there").write_bytes(b"\x00data")
    assert _project_file(tmp_path, "there") == b"\x00data"


def _context(project: Path, monkeypatch: pytest.MonkeyPatch, secrets: str) -> AppContext:
    shutil.copytree(FIXTURES / "example", project)
    (project / ".kamal" / "secrets").write_text(secrets)
    monkeypatch.chdir(project)
    options = Options(config_file=Path("config/deploy.yml"), destination=None, hosts=None,
                      roles=None, primary=False, version="v1", verbose=False, quiet=False,
                      skip_hooks=False)  # fmt: skip
    return AppContext(options)


def test_unreadable_secrets_are_found_before_any_step_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry password on stdin and the env files: each reason once, Kamal's words."""
    ctx = _context(tmp_path / "app", monkeypatch, "SECRET_TOKEN=t\n")
    runtime = make_runtime(ctx, ctx.app, ConnectionPool(ctx.app.ssh), "deploy")
    cache = ctx.app.accessories[0]
    steps = (
        Step("registry.login[h1]", "h1", "registry", "log in", 1,
             stdin_secrets=("KAMAL_REGISTRY_PASSWORD",)),
        Step("app.boot.web[h1]", "h1", "app", "boot", 5,
             (Upload(".kamal/apps/tb/env/roles/web.env", "0600", EnvFile("role", "web")),)),
        Step("accessory.boot.cache[h3]", "h3", "accessory", "boot", 5,
             (Upload(cache.env_file, "0600", EnvFile("accessory", "cache")),)),
        Step("accessory.boot.cache[h4]", "h4", "accessory", "boot", 5,
             (Upload(cache.env_file, "0600", EnvFile("accessory", "cache")),)),
    )  # fmt: skip
    reasons = unreadable_secrets(steps, runtime)
    assert reasons == [
        "Secret 'KAMAL_REGISTRY_PASSWORD' not found in .kamal/secrets",
        "Secret 'CACHE_PASSWORD' not found in .kamal/secrets",
    ]
    whole = "KAMAL_REGISTRY_PASSWORD=p\nSECRET_TOKEN=t\nCACHE_PASSWORD=c\n"
    ctx = _context(tmp_path / "whole", monkeypatch, whole)
    runtime = make_runtime(ctx, ctx.app, ConnectionPool(ctx.app.ssh), "deploy")
    assert unreadable_secrets(steps, runtime) == []
