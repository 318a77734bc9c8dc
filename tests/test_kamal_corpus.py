"""Real-world configs (fixtures/corpus/): backstaff gives the real Kamal 2.11's verdict and, for
the configs Kamal accepts, ``backstaff config`` prints what ``kamal config`` printed (recorded in
each case's kamal.yml by fixtures/record_kamal_corpus.py), key for key and in the same order.

Each case runs as Kamal ran it: in the case folder, with the case's env, VERSION=v1 and the
harmless stand-ins of fixtures/corpus/bin/ first on PATH."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import yaml

from backstaff.executors.config_files import read_sources
from backstaff.planner.config_view import MASK, kamal_view
from backstaff.planner.desired import build_desired
from backstaff.schemas import ConfigErrors, load_config
from tests.conftest import FIXTURES

CORPUS = FIXTURES / "corpus"
CASES = sorted(p for p in CORPUS.iterdir() if (p / "case.yml").exists())

_spec = importlib.util.spec_from_file_location(
    "record_kamal_corpus", FIXTURES / "record_kamal_corpus.py"
)
assert _spec and _spec.loader
recorder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recorder)

# Real configs Kamal accepts and backstaff deliberately rejects (docs/kamal-differences.md,
# "Deliberately stricter"): case -> the message backstaff gives.
STRICTER: dict[str, str] = {
    "labtec-openlis": "accessories/db/port: invalid port '127.0.0.1:5432:5432 --publish"
    " [::1]:5432:5432': one port, PORT or [IP:]HOST_PORT:PORT (publish another with the"
    " accessory's options: publish: [...])",
    "business-manager-production": "ssh/port: invalid port 'SSH_PORT'",  # a template's placeholder
}

# Configs Kamal accepts for deploys but whose `kamal config` crashes (a Kamal bug, so there is
# no output to compare): backstaff accepts them. case -> why Kamal crashes.
KAMAL_CONFIG_CRASHES = {
    "kamal-it-app-with-proxied-accessory": "no `servers` (accessories only): "
    "Configuration#role_names calls raw_config.servers.keys on nil (NoMethodError)",
}


def _load(case: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], list[str]]:
    """(``kamal config``'s view, []) when backstaff accepts the case, else ({}, errors)."""
    meta = recorder.case_meta(case)
    env = recorder.case_env(case)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(case)
    try:
        loaded = load_config(read_sources(Path("config/deploy.yml"), meta.get("destination"), env))
    except ConfigErrors as exc:
        return {}, [str(e) for e in exc.errors]
    return kamal_view(build_desired(loaded, "v1"), loaded.data), []


def _kamal_message(error: str) -> str:
    return error.split("): ", 1)[1] if "): " in error else error


def _normalized(kamal: dict[str, Any]) -> dict[str, Any]:
    """Kamal prints an SSH proxy as a net-ssh object and ``key_data`` unmasked; backstaff
    prints the proxy's jump host or command, and masks the keys."""
    ssh = kamal.get("ssh_options") or {}
    proxy = ssh.get("proxy")
    if isinstance(proxy, dict):
        ssh["proxy"] = proxy.get("jump_proxies") or proxy.get("command_line_template")
    if ssh.get("key_data"):
        ssh["key_data"] = [MASK for _ in ssh["key_data"]]
    return kamal


def _ordered(value: Any) -> Any:
    """Mappings as lists of pairs, so that key order counts in comparisons."""
    if isinstance(value, dict):
        return [(k, _ordered(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_ordered(v) for v in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_verdict_and_config_as_kamal(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kamal = yaml.safe_load((case / "kamal.yml").read_text())
    view, errors = _load(case, monkeypatch)
    if case.name in STRICTER:
        assert kamal["exit"] == 0, "a stricter case is one Kamal accepts"
        assert errors and errors[0] == STRICTER[case.name]
        return
    if case.name in KAMAL_CONFIG_CRASHES:
        assert kamal["exit"] != 0 and "NoMethodError" in kamal["error"]
        assert not errors, errors
        return
    assert bool(errors) == (kamal["exit"] != 0), errors or kamal["error"]
    if errors:
        message = kamal["error"] or ""
        if "ConfigurationError" in message or "ArgumentError" in message:
            assert errors[0] == _kamal_message(message)
        return
    expected = _normalized(kamal["config"])
    for key in expected:  # one key at a time: a failure names the key that differs
        assert _ordered(view.get(key)) == _ordered(expected[key]), key
    assert list(view) == list(expected)


def test_every_case_names_its_source() -> None:
    for case in CASES:
        assert recorder.case_meta(case).get("source"), case.name
        assert (case / "kamal.yml").exists(), f"{case.name}: run fixtures/record_kamal_corpus.py"


def test_stricter_cases_are_documented() -> None:
    documented = (FIXTURES.parent / "docs" / "kamal-differences.md").read_text()
    for name in STRICTER:
        assert f"`{name}`" in documented


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_recording_is_what_kamal_says_now(case: Path) -> None:
    """The real Kamal 2.11 (the dev dependency) run again on each case gives what kamal.yml
    holds: the verdicts compared above are Kamal's, not hand-written."""
    recorded = yaml.safe_load((case / "kamal.yml").read_text())
    assert recorder.record(case) == recorded
