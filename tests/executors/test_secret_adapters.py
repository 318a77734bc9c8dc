"""secrets fetch/extract: vendor CLIs are called as Kamal's adapters do; a missing one is named."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from backstaff.executors.secret_adapters import AdapterError, extract, fetch


def test_missing_cli_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AdapterError, match="the 1password adapter needs the `op` CLI"):
        fetch("1password", "acme", "Vault/Item", ["DB_PASSWORD"])
    with pytest.raises(AdapterError, match="unknown adapter 'vault9'"):
        fetch("vault9", None, None, ["X"])


def test_fetch_runs_the_vendor_cli_and_extract_picks_a_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "op"
    fake.write_text(
        '#!/bin/sh\n# stands in for the 1Password CLI: echoes what it was asked\necho "value-of-$2"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    values = fetch("1password", "acme", "Vault/Item", ["DB_PASSWORD", "API_KEY"])
    assert values == {
        "Vault/Item/DB_PASSWORD": "value-of-op://Vault/Item/DB_PASSWORD",
        "Vault/Item/API_KEY": "value-of-op://Vault/Item/API_KEY",
    }
    assert extract("API_KEY", values) == "value-of-op://Vault/Item/API_KEY"
    with pytest.raises(AdapterError, match="Could not find secret NOPE"):
        extract("NOPE", values)
