"""The real gather script, run by real shells on this machine against a fake ``docker`` that
replays a recorded test-bed answer (fixtures/live/inspect-deployed-v1), with hostile values on
the "host": lock messages, lock files, proxy output and env file names that hold marker lines,
NULs and invalid UTF-8. The parsed state must be the recorded one whatever they hold, also
where no temporary file or named pipe can be made; docker is asked at most three times."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backstaff.planner.facts import CONTENT, MARKER, NETWORK, frame_answer, gather_script
from backstaff.planner.live import (
    UNREADABLE_LOCK,
    LiveHost,
    parse_host,
    parse_routes,
    split_sections,
)
from tests.conftest import FIXTURES
from tests.planner.gather_output import kamal_lock_file
from tests.planner.scenarios import example

SHELLS = [
    pytest.param(shell, id=shell[-1] if len(shell) == 1 else " ".join(shell))
    for shell in (["sh"], ["dash"], ["bash"], ["busybox", "sh"])
    if shutil.which(shell[0])
]
FAKE_DOCKER = """#!/bin/sh
# FAKE DOCKER for tests: replays recorded answers from $FAKE_REPLIES, logs every call.
R=$FAKE_REPLIES
printf '%s\\n' "$*" >> "$R/calls"
case "$1" in
  ps) cat "$R/ps" ;;
  inspect) cat "$R/inspect" ;;
  exec) cat "$R/proxy" ;;
  *) exit 1 ;;
esac
"""
RECORDED = FIXTURES / "live" / "inspect-deployed-v1" / "10.254.0.11.txt"
ENV_FILE = ".kamal/apps/tb/env/roles/web.env"
ENV_TEXT = "SECRET_TOKEN=s3cr3t\n"
HOSTILE = (
    f"\n{MARKER} containers\n[]\n{MARKER} end\n{CONTENT}{MARKER} end\r{MARKER} end\n".encode()
    + b"\x00nul\xff\xfe invalid utf-8 \xe2\x82\n!none\n"
)
DETAILS = b"Locked by: Alice at 2026-11-22T21:08:59Z\nVersion: v1\nMessage: " + HOSTILE


def _replies(replies: Path) -> None:
    """What docker answers on the recorded host: ``docker ps`` (each container's id and the
    image reference it runs, as docker prints them), the inspect lines, the proxy's table."""
    sections = split_sections(RECORDED.read_text())
    objects = [json.loads(line) for line in sections["inspect"].splitlines()]
    ps = "".join(
        f"{o['Id']} {o['Config']['Image']} {o['Name'].lstrip('/')}\n"
        for o in objects
        if "State" in o
    )
    (replies / "ps").write_text(ps)
    (replies / "inspect").write_text(sections["inspect"] + "\n")
    (replies / "proxy").write_text(sections["proxy"] + "\n")


def _host(root: Path, *, proxy: bytes | None = None, no_temporary: bool = False) -> Path:
    """A fake host's home: the fake docker, its replies, a docker login, an env file."""
    home, bin_dir, replies = root / "home", root / "bin", root / "replies"
    for directory in (home / ".docker", home / ".kamal/apps/tb/env/roles", bin_dir, replies):
        directory.mkdir(parents=True, exist_ok=True)
    _replies(replies)
    if proxy is not None:
        (replies / "proxy").write_bytes(proxy)
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    if no_temporary:  # neither a temporary file nor a named pipe can be made
        for tool in ("mktemp", "mkfifo"):
            (bin_dir / tool).write_text("#!/bin/sh\nexit 1\n")
            (bin_dir / tool).chmod(0o755)
    (home / ".docker/config.json").write_text('{"auths": {"10.254.0.2:5000": {}}}\n')
    (home / ENV_FILE).write_text(ENV_TEXT)
    written = int(split_sections(RECORDED.read_text())["envkeys"].split()[0])
    os.utime(home / ENV_FILE, (written, written))  # as recorded: the containers' --env is read
    return home


def _lock(home: Path, details_file: bytes | None) -> None:
    lock = home / ".kamal/lock-tb"
    lock.mkdir(parents=True, exist_ok=True)
    if details_file is not None:
        (lock / "details").write_bytes(details_file)


def _gather(shell: list[str], home: Path, greeting: str = "") -> LiveHost:
    """The script run by ``shell`` in ``home``, after ``greeting`` (what a login shell's
    rc files print), its answer framed and parsed as the gather does."""
    app = example()
    assert app.primary_host is not None
    return parse_host(app.primary_host, _answer(shell, home, greeting))


def _answer(shell: list[str], home: Path, greeting: str = "", host: str | None = None) -> str:
    """The script's answer on ``host`` (the primary host by default), framed as the gather
    frames it (``split_sections`` reads it)."""
    app = example()
    host = host or app.primary_host
    assert host is not None
    env = {
        "PATH": f"{home.parent / 'bin'}:{os.environ['PATH']}",
        "HOME": str(home),
        "FAKE_REPLIES": str(home.parent / "replies"),
        "LANG": "C.UTF-8",
    }
    (home.parent / "replies" / "calls").write_text("")
    done = subprocess.run(
        [*shell, "-c", greeting + gather_script(app, host, "t0ken")],
        cwd=home, env=env, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    calls = (home.parent / "replies" / "calls").read_text().splitlines()
    assert len(calls) <= 3, calls  # issue #14: at most three docker calls, whatever runs
    inspected = next(c for c in calls if c.startswith("inspect"))
    for line in (home.parent / "replies" / "ps").read_text().splitlines():
        container, image, _ = line.split()
        assert f" {container} " in inspected and f" {image} " in inspected
    assert inspected.endswith(f" {app.latest_image} {NETWORK}")
    stdout, stderr = (stream.decode("utf-8", "replace") for stream in (done.stdout, done.stderr))
    return frame_answer(stdout, stderr, "t0ken")


def _assert_recorded_state(host: LiveHost, clear_env: bool = True) -> None:
    """The recorded state; ``clear_env=False``: the env files' names could not all be read, so
    no container's --env value may be taken (and none is)."""
    recorded = parse_host("10.254.0.11", RECORDED.read_text())
    if not clear_env:
        assert all(c.clear_env == () for c in host.containers)
        unread = tuple(replace(c, clear_env=()) for c in recorded.containers)
        recorded = replace(recorded, containers=unread)
    assert host.error is None and host.docker_version == recorded.docker_version
    assert host.networks == recorded.networks and host.images == recorded.images
    assert host.containers == recorded.containers and len(host.containers) == 2
    assert host.image_id(example().latest_image) == recorded.containers[1].image_id
    assert host.image_env == recorded.image_env and host.image_env
    assert host.registry_login is True and host.lock_known
    assert host.envfile_digest(ENV_FILE) == hashlib.sha256(ENV_TEXT.encode()).hexdigest()


@pytest.mark.parametrize("no_temporary", [False, True], ids=["tmp", "no-tmp"])
@pytest.mark.parametrize("shell", SHELLS)
def test_hostile_kamal_lock_message(shell: list[str], no_temporary: bool, tmp_path: Path) -> None:
    home = _host(tmp_path, no_temporary=no_temporary)
    _lock(home, kamal_lock_file(DETAILS).encode())
    host = _gather(shell, home)
    _assert_recorded_state(host)
    assert host.routes == parse_host("h", RECORDED.read_text()).routes and host.routes
    assert host.lock is not None and host.lock.details == DETAILS.decode("utf-8", "replace")


@pytest.mark.parametrize("shell", SHELLS)
def test_hostile_lock_file_and_proxy_output(shell: list[str], tmp_path: Path) -> None:
    """A details file written by hand (not base64), a proxy answer that prints marker lines,
    an env file whose name holds a marker line: the state is read all the same."""
    home = _host(tmp_path, proxy=HOSTILE)
    _lock(home, HOSTILE)
    (home / ".kamal/apps/tb/env/roles" / f"x\n{MARKER} end\n.env").write_text("X=1\n")
    host = _gather(shell, home)
    _assert_recorded_state(host, clear_env=False)
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


@pytest.mark.parametrize("shell", SHELLS)
def test_what_a_login_shell_prints_first_is_no_part_of_the_answer(
    shell: list[str], tmp_path: Path
) -> None:
    """rc files that print on stdout and stderr (a greeting, a warning), even lines that look
    like sections: they come before the script's first marker, in no section."""
    home = _host(tmp_path)
    greeting = f"echo 'Welcome'; echo '{MARKER} lock'; echo '|!held' >&2; echo '{MARKER} end' >&2\n"
    host = _gather(shell, home, greeting)
    _assert_recorded_state(host)
    assert host.lock is None and host.routes == parse_host("h", RECORDED.read_text()).routes


@pytest.mark.parametrize("shell", SHELLS)
def test_the_registry_login_is_counted_by_the_shell(shell: list[str], tmp_path: Path) -> None:
    """As ``grep -c`` would count the lines naming the registry, the last one without its line
    break too; no docker config, or one naming another registry (or this one's name as a
    pattern would match it), is logged out."""
    home = _host(tmp_path)
    config = home / ".docker/config.json"
    config.write_text(
        '{\n\t"auths": {\n\t\t"10.254.0.2:5000": {\n\t\t\t"auth": "eA=="\n\t\t}\n\t}\n}'
    )
    assert _gather(shell, home).registry_login is True
    config.write_text('{"auths": {"10.254.0.2:5000": {}}, "credHelpers": {"10.254.0.2:5000": "x"}}')
    assert _gather(shell, home).registry_login is True
    for other in (
        '{"auths": {"10x254x0x2:5000": {}}}\n',
        '{"auths": {"10.254.0.2:50000": {}}}\n',
        "",
    ):
        config.write_text(other)
        assert _gather(shell, home).registry_login is False
    config.unlink()
    assert _gather(shell, home).registry_login is False
    config.mkdir()
    assert _gather(shell, home).registry_login is False


@pytest.mark.parametrize("shell", SHELLS)
def test_a_job_the_login_shell_left_running_is_not_waited_for(
    shell: list[str], tmp_path: Path
) -> None:
    """The script waits for its own background read of the proxy, not for every job."""
    home = _host(tmp_path)
    started = time.monotonic()
    host = _gather(shell, home, "sleep 20 >/dev/null 2>&1 &\n")
    assert time.monotonic() - started < 10
    _assert_recorded_state(host)
    assert host.routes == parse_host("h", RECORDED.read_text()).routes and host.routes


@pytest.mark.parametrize("shell", SHELLS)
def test_a_host_without_the_proxy_asks_for_its_routes_only_when_one_runs_there(
    shell: list[str], tmp_path: Path
) -> None:
    """A worker's host, not meant to run kamal-proxy, asks docker for the routes only when
    ``docker ps`` shows a container named kamal-proxy there: a proxy left behind is still
    read; without one, docker is asked twice and the section says what docker's "No such
    container" would have made it say."""
    app = example()
    worker = next(h for h in app.all_hosts if h not in app.proxy_host_set)
    home = _host(tmp_path)
    replies = home.parent / "replies"

    def docker_calls() -> list[str]:
        return sorted(call.split()[0] for call in (replies / "calls").read_text().splitlines())

    left_behind = split_sections(_answer(shell, home, host=worker))
    assert docker_calls() == ["exec", "inspect", "ps"]
    recorded = parse_host("h", RECORDED.read_text()).routes
    assert parse_routes(left_behind["proxy"]) == recorded and recorded

    ps = (replies / "ps").read_text().splitlines(keepends=True)
    assert any(line.endswith(" kamal-proxy\n") for line in ps)
    (replies / "ps").write_text(
        "".join(line for line in ps if "kamal-proxy" not in line.split()[2])
    )
    none = split_sections(_answer(shell, home, host=worker))
    assert docker_calls() == ["inspect", "ps"]
    assert none["proxy"] == "!not-running" and none["docker"] == "answering"
    assert none["inspect"] == left_behind["inspect"] and none["end"] == ""

    # a proxy host reads its routes while docker ps runs, whatever that shows
    _answer(shell, home)
    assert docker_calls() == ["exec", "inspect", "ps"]


@pytest.mark.parametrize("shell", SHELLS)
def test_the_env_files_names_and_dates_are_read_by_the_shell(
    shell: list[str], tmp_path: Path
) -> None:
    """Each env file's variable names (a name, then ``=``, at the start of a line; never a
    value) and its date, one ``stat`` for every file: lines that only look like variables,
    CRLF line ends, a last line without its line break, values holding ``=``, names and
    NULs; a directory named like an env file is none. The names are the ones ``sed`` found
    before (``^[A-Za-z_][A-Za-z0-9_]*=``)."""
    home = _host(tmp_path)
    web = home / ENV_FILE
    web.write_bytes(
        b"SECRET_TOKEN=a=b=c\n_UNDER_1=x\r\nexport NOT_THIS=1\n NOT_INDENTED=1\n1NOT=1\n"
        b"NOT-DASHED=1\n# COMMENT=1\n\nNOT_ASSIGNED\nVALUE_NAMES=OTHER=1 $(x) `y`\n"
        b"NUL_IN_VALUE=a\x00b\nLAST=no line break"
    )
    cache = home / ".kamal/apps/tb/env/accessories/tb-cache.env"
    cache.parent.mkdir(parents=True)
    cache.write_text("CACHE_PASSWORD=p\n")
    (home / ".kamal/apps/tb/env/roles/dir.env").mkdir()
    os.utime(web, (1_700_000_000, 1_700_000_000))
    os.utime(cache, (1_700_000_042, 1_700_000_042))
    section = split_sections(_answer(shell, home))["envkeys"].splitlines()
    assert sorted(section) == [
        f"1700000000 {ENV_FILE} SECRET_TOKEN _UNDER_1 VALUE_NAMES NUL_IN_VALUE LAST",
        "1700000042 .kamal/apps/tb/env/accessories/tb-cache.env CACHE_PASSWORD",
    ]
    assert "a=b=c" not in _answer(shell, home)
