"""known_hosts is parsed once per process and new keys are appended: the other entries (and
the file's own lines) stay exactly as they were."""

from __future__ import annotations

from pathlib import Path

import paramiko

from backstaff.executors.ssh import _KnownHostsCache

OTHER = "10.0.0.9 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJhZ/y3zFGdikMR1hkcckMzXvJy15oOhZNRzBkeuTGUj"


def test_a_new_key_is_appended_and_found_again(tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("# mine\n" + OTHER)  # no final newline
    key = paramiko.RSAKey.generate(1024)
    cache = _KnownHostsCache()
    assert cache.keys_for(known_hosts, "10.0.0.1") == {}
    cache.record(known_hosts, "[10.0.0.1]:2222", key)
    lines = known_hosts.read_text().splitlines()
    assert lines[:2] == ["# mine", OTHER]
    assert lines[2] == f"[10.0.0.1]:2222 ssh-rsa {key.get_base64()}"
    assert cache.keys_for(known_hosts, "[10.0.0.1]:2222") == {"ssh-rsa": key}
    assert _KnownHostsCache().keys_for(known_hosts, "[10.0.0.1]:2222") == {"ssh-rsa": key}
    assert set(_KnownHostsCache().keys_for(known_hosts, "10.0.0.9")) == {"ssh-ed25519"}


def test_a_file_changed_by_someone_else_is_read_again(tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    cache = _KnownHostsCache()
    assert cache.keys_for(known_hosts, "10.0.0.9") == {}
    known_hosts.write_text(OTHER + "\n")
    assert set(cache.keys_for(known_hosts, "10.0.0.9")) == {"ssh-ed25519"}
