"""``Dotenv.load`` in deploy.yml's ERB reads .env files as the real Kamal 2.11 does (dotenv
3.2): fixtures/dotenv-load/ cases, each with ``kamal config``'s output recorded by
``python fixtures/record_kamal_corpus.py fixtures/dotenv-load/<case>`` (what was loaded shows
in builder.args, which ``kamal config`` prints as written). Rendered by backstaff's own ERB
evaluator: no Ruby is involved (Debian's ruby-dotenv is another dotenv)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from backstaff.executors import erb_host
from tests.conftest import FIXTURES
from tests.test_kamal_corpus import _load, _normalized, _ordered, recorder

CASES = sorted(p for p in (FIXTURES / "dotenv-load").iterdir() if (p / "case.yml").exists())


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_same_config_as_kamal(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_ruby(*args: object) -> None:
        raise AssertionError("rendered with Ruby")

    monkeypatch.setattr(erb_host.LocalErbHost, "render_with_ruby", no_ruby)
    kamal = yaml.safe_load((case / "kamal.yml").read_text())
    assert kamal["exit"] == 0, kamal["error"]
    view, errors = _load(case, monkeypatch)
    assert not errors, errors
    expected = _normalized(kamal["config"])
    for key in expected:
        assert _ordered(view.get(key)) == _ordered(expected[key]), key


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_the_recording_is_what_kamal_says_now(case: Path) -> None:
    assert recorder.record(case) == yaml.safe_load((case / "kamal.yml").read_text())
