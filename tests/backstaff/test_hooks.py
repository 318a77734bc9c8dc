"""backstaff/hooks.py: a hook's output is shown as ``hooks_output`` says, written as Kamal's own
docs write it (``pre-build: :verbose``, a Ruby Symbol)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from backstaff.hooks import hook
from backstaff.schemas.load import parse_yaml


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], hooks_output: str) -> str:
    hooks = tmp_path / ".kamal/hooks"
    hooks.mkdir(parents=True)
    (hooks / "pre-build").write_text("#!/bin/sh\necho from the hook\n")
    (hooks / "pre-build").chmod(0o755)
    data, _ = parse_yaml(f"hooks_output:\n{hooks_output}", "config/deploy.yml")
    options = SimpleNamespace(skip_hooks=False, quiet=False, verbose=False)
    config = SimpleNamespace(data=data, env=dict(os.environ))
    ctx = SimpleNamespace(options=options, cwd=tmp_path, config=config)
    app = SimpleNamespace(hooks_path=".kamal/hooks")
    hook(ctx, app, "pre-build", {})  # type: ignore[arg-type]
    return capsys.readouterr().err


@pytest.mark.parametrize("setting", ["  pre-build: :verbose\n", "  pre-build: verbose\n"])
def test_verbose_shows_the_hooks_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str
) -> None:
    """The Symbol form is Kamal's documentation's (corpus ``kamal-docs-configuration``): read
    with its colon, it was no level, and the output stayed hidden."""
    assert "pre-build: from the hook" in _run(tmp_path, capsys, setting)


def test_quiet_hides_even_the_hooks_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path, capsys, "  pre-build: :quiet\n") == ""


def test_by_default_the_hook_is_named_and_its_output_hidden(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path, capsys, "  post-build: :verbose\n") == "  Running the pre-build hook\n"
