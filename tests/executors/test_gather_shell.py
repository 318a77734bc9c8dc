"""The real gather script, run by real shells on this machine against a fake ``docker`` that
replays a recorded test-bed answer (fixtures/live/lock-held), with hostile values on the
"host": lock messages, lock files, proxy output and env file names that hold marker lines,
NULs and invalid UTF-8. The parsed state must be the recorded one whatever they hold, by
both of the script's paths (concurrent through named pipes, and sequential)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backstaff.planner.facts import CONTENT, MARKER, gather_script
from backstaff.planner.live import UNREADABLE_LOCK, LiveHost, parse_host
from tests.planner.gather_output import LOCK_HOST, kamal_lock_file, recorded_sections
from tests.planner.scenarios import example

SHELLS = [
    pytest.param(shell, id=shell[-1] if len(shell) == 1 else " ".join(shell))
    for shell in (["sh"], ["dash"], ["bash"], ["busybox", "sh"])
    if shutil.which(shell[0])
]
FAKE_DOCKER = """#!/bin/sh
# FAKE DOCKER for tests: replays recorded answers from $FAKE_REPLIES.
R=$FAKE_REPLIES
case "$1" in
  version) cat "$R/docker" ;;
  network) cat "$R/networks" ;;
  ps) cat "$R/ids" ;;
  inspect) cat "$R/containers" ;;
  image) case "$2" in ls) cat "$R/images" ;; *) cat "$R/image_env" ;; esac ;;
  exec) cat "$R/proxy" ;;
  *) exit 1 ;;
esac
"""
ENV_FILE = ".kamal/apps/tb/env/roles/web.env"
ENV_TEXT = "SECRET_TOKEN=s3cr3t\n"
HOSTILE = (
    f"\n{MARKER} containers\n[]\n{MARKER} end\n{CONTENT}{MARKER} end\r{MARKER} end\n".encode()
    + b"\x00nul\xff\xfe invalid utf-8 \xe2\x82\n!none\n"
)
DETAILS = b"Locked by: Alice at 2026-11-22T21:08:59Z\nVersion: v1\nMessage: " + HOSTILE


def _host(root: Path, *, proxy: bytes | None = None, sequential: bool = False) -> Path:
    """A fake host's home: the fake docker, its replies, a docker login, an env file."""
    home, bin_dir, replies = root / "home", root / "bin", root / "replies"
    for directory in (home / ".docker", home / ".kamal/apps/tb/env/roles", bin_dir, replies):
        directory.mkdir(parents=True, exist_ok=True)
    sections = recorded_sections()
    for name in ("docker", "networks", "containers", "image_env", "images", "proxy"):
        (replies / name).write_text(sections[name] + "\n")
    ids = [line.split('"')[3] for line in sections["containers"].splitlines() if '"Id"' in line]
    (replies / "ids").write_text("".join(f"{i}\n" for i in ids))
    if proxy is not None:
        (replies / "proxy").write_bytes(proxy)
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    if sequential:  # no temporary directory: the script's fallback path
        (bin_dir / "mktemp").write_text("#!/bin/sh\nexit 1\n")
        (bin_dir / "mktemp").chmod(0o755)
    (home / ".docker/config.json").write_text('{"auths": {"10.254.0.2:5000": {}}}\n')
    (home / ENV_FILE).write_text(ENV_TEXT)
    return home


def _lock(home: Path, details_file: bytes | None) -> None:
    lock = home / ".kamal/lock-tb"
    lock.mkdir(parents=True, exist_ok=True)
    if details_file is not None:
        (lock / "details").write_bytes(details_file)


def _gather(shell: list[str], home: Path) -> LiveHost:
    app = example()
    assert app.primary_host is not None
    env = {
        "PATH": f"{home.parent / 'bin'}:{os.environ['PATH']}",
        "HOME": str(home),
        "FAKE_REPLIES": str(home.parent / "replies"),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        [*shell, "-c", gather_script(app, app.primary_host)],
        cwd=home, env=env, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return parse_host(app.primary_host, done.stdout.decode("utf-8", "replace"))


def _assert_recorded_state(host: LiveHost) -> None:
    recorded = parse_host("10.254.0.11", LOCK_HOST.read_text())
    assert host.error is None and host.docker_version == recorded.docker_version
    assert host.networks == recorded.networks and host.images == recorded.images
    assert host.containers == recorded.containers and len(host.containers) == 2
    assert host.image_env == recorded.image_env and host.image_env
    assert host.registry_login is True and host.lock_known
    assert host.envfile_digest(ENV_FILE) == hashlib.sha256(ENV_TEXT.encode()).hexdigest()


@pytest.mark.parametrize("sequential", [False, True], ids=["pipes", "sequential"])
@pytest.mark.parametrize("shell", SHELLS)
def test_hostile_kamal_lock_message(shell: list[str], sequential: bool, tmp_path: Path) -> None:
    home = _host(tmp_path, sequential=sequential)
    _lock(home, kamal_lock_file(DETAILS).encode())
    host = _gather(shell, home)
    _assert_recorded_state(host)
    assert host.routes == parse_host("h", LOCK_HOST.read_text()).routes and host.routes
    assert host.lock is not None and host.lock.details == DETAILS.decode("utf-8", "replace")


@pytest.mark.parametrize("shell", SHELLS)
def test_hostile_lock_file_and_proxy_output(shell: list[str], tmp_path: Path) -> None:
    """A details file written by hand (not base64), a proxy answer that prints marker lines,
    an env file whose name holds a marker line: the state is read all the same."""
    home = _host(tmp_path, proxy=HOSTILE)
    _lock(home, HOSTILE)
    (home / ".kamal/apps/tb/env/roles" / f"x\n{MARKER} end\n.env").write_text("X=1\n")
    host = _gather(shell, home)
    _assert_recorded_state(host)
    assert host.routes is None  # not a kamal-proxy table
    assert host.lock == parse_host("h", f"\n{MARKER} lock\n|!held\n|!\n\n{MARKER} end\n").lock
    assert host.lock is not None and host.lock.details == UNREADABLE_LOCK


@pytest.mark.parametrize("shell", SHELLS)
def test_lock_states(shell: list[str], tmp_path: Path) -> None:
    home = _host(tmp_path)
    assert _gather(shell, home).lock is None
    _lock(home, None)  # a lock directory without details is still a lock
    lock = _gather(shell, home).lock
    assert lock is not None and lock.details == UNREADABLE_LOCK
    big = os.urandom(300_000)  # far beyond what Kamal can write on one command line
    _lock(home, kamal_lock_file(big).encode())
    host = _gather(shell, home)
    _assert_recorded_state(host)
    assert host.lock is not None and host.lock.details == big.decode("utf-8", "replace")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(message=st.binary(max_size=2000))
def test_any_lock_message_by_the_real_shell(
    message: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = _host(tmp_path_factory.mktemp("host"))
    details = b"Locked by: Alice at 2026-11-22T21:08:59Z\nVersion: v1\nMessage: " + message
    _lock(home, kamal_lock_file(details).encode())
    host = _gather(["sh"], home)
    _assert_recorded_state(host)
    assert host.lock is not None and host.lock.details == details.decode("utf-8", "replace")
