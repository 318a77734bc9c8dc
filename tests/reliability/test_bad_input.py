"""Broken configs and secrets files: each gives ONE clear error line, exit 1, never a
traceback; and (hypothesis) loading any YAML document raises nothing but ConfigErrors."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backstaff.cli import main
from backstaff.schemas import ConfigErrors, ConfigSources, load_config
from tests.conftest import FIXTURES
from tests.schemas.helpers import kamal_yaml

CASES = sorted(p for p in (FIXTURES / "bad-inputs").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_clear_error(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    shutil.copytree(case, tmp_path / "app")
    monkeypatch.chdir(tmp_path / "app")
    monkeypatch.setenv("VERSION", "v1")
    monkeypatch.delenv("BACKSTAFF_TEST_UNSET", raising=False)
    meta = yaml.safe_load((case / "case.yml").read_text())
    code = main(shlex.split(meta["command"]))
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out + err
    lines = err.rstrip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("  ERROR: "), err
    if meta["error"]:
        assert lines[0] == f"  ERROR: {meta['error']}"


def _load(text: str) -> None:
    try:
        load_config(ConfigSources("config/deploy.yml", text, env={}))
    except ConfigErrors:
        pass


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=20))  # fmt: skip
keys = st.one_of(st.sampled_from(
    ["service", "image", "servers", "registry", "builder", "env", "proxy", "accessories", "ssh",
     "sshkit", "boot", "logging", "aliases", "labels", "volumes", "hosts", "roles", "cmd",
     "options", "clear", "secret", "tags", "arch", "host", "port", "files", "directories",
     "healthcheck", "ssl", "run", "limit", "username", "password", "web", "db", "x-extra"]),
    st.text(max_size=8))  # fmt: skip
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=6)), max_leaves=30)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_loading_any_document_raises_only_config_errors(document: object) -> None:
    _load(kamal_yaml(document, allow_unicode=True))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_loading_any_text_raises_only_config_errors(text: str) -> None:
    _load(text)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, documents, max_size=8))
def test_loading_variations_of_a_valid_config(extra: dict[str, object]) -> None:
    base = {"service": "app", "image": "a/app", "registry": {"username": "u", "password": "p"},
            "builder": {"arch": "amd64"}, "servers": ["1.1.1.1"]}  # fmt: skip
    _load(kamal_yaml({**base, **extra}, allow_unicode=True))
