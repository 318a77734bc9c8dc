"""``app logs``, ``accessory logs`` and ``proxy logs`` on the test bed: ``-f`` keeps following
and shows a line written after it started, Ctrl-C ends it cleanly and leaves no ``docker logs``
on the host; ``--since``, ``--grep``, ``--grep-options``, ``-T``, ``-n`` show the lines the
real Kamal 2.11 shows, and ``--container-id`` that container's lines."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.backstaff.projects import SECRETS, enter, fresh_project, real_kamal, run_cli
from tests.testbed import Host, Testbed

pytestmark = pytest.mark.testbed


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from fresh_project(testbed, tmp_path_factory, "logs")


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


def ok(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = run_cli(capsys, *args)
    assert code == 0, f"{args}: {err}"
    return out


def kamal(project: Path, *args: str) -> str:
    """The real Kamal's output (-q: the log lines only)."""
    done = real_kamal(project, *args, "-q", timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def container(bed: Testbed, host: Host, *filters: str) -> str:
    found = bed.docker(host, "ps", "--format", "{{.Names}}", *filters).split()
    assert len(found) == 1, found
    return found[0]


def emit(bed: Testbed, host: Host, name: str, text: str) -> None:
    """A line on the container's stdout (its log), as if its main process wrote it."""
    bed.docker(host, "exec", name, "sh", "-c", 'echo "$1" > /proc/1/fd/1', "sh", text)


def remote(host: Host, *names: tuple[str, ...]) -> list[str]:
    """Command lines of the processes on the host that run one of ``names`` (``docker logs``
    and the ``grep`` after it)."""
    pids = subprocess.run(["ip", "netns", "pids", host.namespace], capture_output=True,
                          text=True, check=True).stdout.split()  # fmt: skip
    found = []
    for pid in pids:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        line = [a.decode(errors="replace") for a in argv if a]
        if line and any((line[0].rsplit("/", 1)[-1], *line[1 : len(n)]) == n for n in names):
            found.append(" ".join(line))
    return found


def wait_for(what: str, check: Callable[[], object], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


class Follow:
    """``python -m backstaff ARGS`` in its own process group, its output read as it comes."""

    def __init__(self, project: Path, *args: str) -> None:
        env = {**os.environ, "BACKSTAFF_KNOWN_HOSTS": str(project.parent / "known_hosts")}
        env.pop("VERSION", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backstaff", *args], cwd=project, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stdout is not None
        stdout = self.process.stdout
        threading.Thread(
            target=lambda: [self.lines.put(x.decode()) for x in stdout], daemon=True
        ).start()

    def wait_for_line(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.process.poll() is None, self.finish()
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not shown; shown: {self.seen}")

    def interrupt(self) -> tuple[int, str]:
        """Ctrl-C, as a terminal sends it: SIGINT to the whole process group."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.finish()

    def finish(self) -> tuple[int, str]:
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.process.returncode, err.decode()


def test_01_setup(capsys: pytest.CaptureFixture[str]) -> None:
    ok(capsys, "--version", "v1", "setup", "-P")


FOLLOWS = [
    # (args, host index, the container's filter, what -f shows a line of)
    (("app", "logs", "-f"), 0, ("--filter", "label=role=web")),
    (("app", "logs", "-f", "-h", "10.254.0.12", "-g", "KEEP"), 1, ("--filter", "label=role=web")),
    (("accessory", "logs", "cache", "-f", "-T"), 2, ("--filter", "name=tb-cache")),
    (("proxy", "logs", "-f", "-g", "after", "--skip-timestamps"), 0, ("--filter", "name=kamal-proxy")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "index", "filters"), FOLLOWS, ids=[" ".join(f[0]) for f in FOLLOWS]
)
def test_follow_shows_new_lines_until_interrupted(
    testbed: Testbed, project: Path, args: tuple[str, ...], index: int, filters: tuple[str, ...]
) -> None:  # fmt: skip
    host = testbed.hosts[index]
    name = container(testbed, host, *filters)
    assert remote(host, ("docker", "logs")) == []
    follow = Follow(project, *args)
    try:
        wait_for("docker logs --follow on the host", lambda: remote(host, ("docker", "logs")))
        marker = uuid.uuid4().hex
        grepping = "-g" in args
        if grepping:
            emit(testbed, host, name, f"drop {marker}")
        time.sleep(1)
        emit(testbed, host, name, f"KEEP after start {marker}")
        line = follow.wait_for_line(marker)
    except BaseException:
        follow.interrupt()
        raise
    assert "KEEP after start" in line and line.endswith("\n") and "\r" not in line
    assert line.startswith("20") != ("-T" in args or "--skip-timestamps" in args)  # 2026-…Z
    time.sleep(1)
    assert follow.process.poll() is None  # still following
    code, err = follow.interrupt()
    assert code in (0, 130), err
    assert "Traceback" not in err and f"Following logs on {host.address}..." in err
    if grepping:
        assert not any(f"drop {marker}" in seen for seen in follow.seen)
    assert not any(secret in "".join(follow.seen) + err for secret in SECRETS)
    wait_for("no docker logs (nor grep) left on the host",
             lambda: not remote(host, ("docker", "logs"), ("grep",)), 10)  # fmt: skip


def test_filters_as_kamal(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same lines as the real Kamal's for --since, --grep with --grep-options, -T and -n."""
    h1, h3 = testbed.hosts[0], testbed.hosts[2]
    web, cache = container(testbed, h1, "--filter", "label=role=web"), "tb-cache"
    marker = uuid.uuid4().hex
    for host, name in ((h1, web), (h3, cache), (h1, "kamal-proxy")):
        emit(testbed, host, name, f"old {marker}")
    time.sleep(1.5)
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    time.sleep(1.5)
    for host, name in ((h1, web), (h3, cache), (h1, "kamal-proxy")):
        emit(testbed, host, name, f"new {marker}")
        emit(testbed, host, name, f"NEW upper {marker}")

    def lines(output: str) -> list[str]:
        return [line for line in output.splitlines() if marker in line]

    cases = [
        ("app", "logs", "-h", "10.254.0.11", "-s", since),
        ("app", "logs", "-h", "10.254.0.11", "-g", "new", "--grep-options=-i", "-T"),
        ("app", "logs", "-h", "10.254.0.11", "-n", "2"),
        ("accessory", "logs", "cache", "-s", since, "-T"),
        ("accessory", "logs", "cache", "-g", "upper", "--grep-options=-v"),
        ("proxy", "logs", "-h", "10.254.0.11", "-s", since, "-g", "new"),
        ("proxy", "logs", "-h", "10.254.0.11", "-n", "1", "--skip-timestamps"),
    ]
    expected = {
        0: ["new", "NEW upper"], 1: ["new", "NEW upper"], 2: ["new", "NEW upper"],
        3: ["new", "NEW upper"], 4: ["old", "new"], 5: ["new"], 6: ["NEW upper"],
    }  # fmt: skip
    for index, args in enumerate(cases):
        ours, theirs = lines(ok(capsys, *args)), lines(kamal(project, *args))
        assert ours == theirs, args
        texts = [re.sub(r"^20\S+ ", "", line).replace(marker, "").strip() for line in ours]
        assert texts == expected[index], args
        assert all(line.startswith("20") != ("-T" in args or "--skip-timestamps" in args)
                   for line in ours)  # fmt: skip


def test_container_id(testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """That container's lines, even a stopped one's (Kamal 2.11 prints only the ID here)."""
    h1 = testbed.hosts[0]
    web = container(testbed, h1, "--filter", "label=role=web")
    marker = uuid.uuid4().hex
    emit(testbed, h1, web, f"by id {marker}")
    ident = testbed.docker(h1, "ps", "-q", "--filter", f"name={web}").strip()
    out = ok(
        capsys, "app", "logs", "-h", "10.254.0.11", "--container-id", ident, "-g", marker, "-T"
    )
    assert f"by id {marker}" in out.splitlines()
    assert kamal(project, "app", "logs", "-h", "10.254.0.11", "--container-id", ident).split() == [
        ident
    ]
    out = ok(capsys, "app", "logs", "-h", "10.254.0.11", "--container-id", "no-such-container")
    assert "Nothing found" in out
