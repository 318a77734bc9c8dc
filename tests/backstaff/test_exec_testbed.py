"""Interactive exec on the test bed, under a real pseudo-terminal: ``python -m backstaff``
runs in a tmux pane, keys are typed into it and the screen is read back. A new container is
not the running one, ``--reuse`` is; the remote pty has the pane's size and follows it; the
remote exit status becomes backstaff's; the local terminal is back in its normal mode after."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.backstaff.projects import enter, fresh_project, real_kamal, run_cli
from tests.backstaff.terminal import Pane, tmux_server
from tests.schemas.helpers import kamal_yaml
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed

WEB_HOST, CACHE_HOST = "10.254.0.11", "10.254.0.13"
INJECTED = "/tmp/bst-injected-audit"  # what a command run by its audit line would create


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    for path in fresh_project(testbed, tmp_path_factory, "exec"):
        config = path / "config" / "deploy.yml"
        data = yaml.safe_load(config.read_text())
        data["aliases"] = {"console": 'app exec --interactive --reuse "sh"'}
        config.write_text(kamal_yaml(data, sort_keys=False))
        yield path


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


@pytest.fixture(scope="module", autouse=True)
def tmux() -> Iterator[None]:
    yield from tmux_server()


def _hostname(testbed: Testbed, host: int, container: str) -> str:
    return testbed.docker(testbed.hosts[host], "exec", container, "hostname").strip()


def test_0_setup(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "--version", "v1", "setup", "-P")
    assert code == 0, err


def test_app_exec_interactive_new_container(project: Path, testbed: Testbed) -> None:
    pane = Pane(project, "new", "app", "exec", "-i", "sh")
    pane.wait_for(r"Launching interactive command with version latest via SSH from new container"
                  rf" on {re.escape(WEB_HOST)}")  # fmt: skip
    assert pane.run("echo $((6*7))", "M1") == "42"
    hostname = pane.run("hostname", "M2")
    assert hostname and hostname != _hostname(testbed, 0, "tb-web-v1")  # not the running one
    assert pane.run("echo $TB_GREETING", "M3") == "hello"  # the role's env
    assert pane.run("stty size", "M4") == "40 120"  # the pane's size
    pane.resize(100, 30)
    time.sleep(0.5)
    assert pane.run("stty size", "M5") == "30 100"  # followed on SIGWINCH
    pane.finish("exit 7", 7)
    listed = testbed.docker(testbed.hosts[0], "ps", "-a", "--format", "{{.Names}}").split()
    assert not [n for n in listed if "-exec-" in n]  # --rm: the exec container is gone


def test_app_exec_interactive_reuse_and_env(project: Path, testbed: Testbed) -> None:
    pane = Pane(project, "reuse", "app", "exec", "-i", "--reuse", "-e", "WHO=it's me", "sh")
    assert pane.run("hostname", "M1") == _hostname(testbed, 0, "tb-web-v1")
    assert pane.run('echo "$WHO"', "M2") == "it's me"
    pane.finish("exit", 0)


def test_console_alias(project: Path, testbed: Testbed) -> None:
    pane = Pane(project, "console", "console")
    assert pane.run("echo $((6*7))", "M1") == "42"
    assert pane.run("hostname", "M2") == _hostname(testbed, 0, "tb-web-v1")
    pane.finish("exit 3", 3)


def test_accessory_exec_interactive(project: Path, testbed: Testbed) -> None:
    running = _hostname(testbed, 2, "tb-cache")
    pane = Pane(project, "acc", "accessory", "exec", "-i", "--reuse", "cache", "sh")
    assert pane.run("hostname", "M1") == running
    assert pane.run("echo $CACHE_MODE", "M2") == "lru"
    pane.finish("exit 0", 0)
    pane = Pane(project, "accnew", "accessory", "exec", "-i", "cache", "sh")
    assert pane.run("cat /etc/cache.conf | grep -c maxmemory", "M1") == "1"  # its files
    assert pane.run("hostname", "M2") != running
    pane.finish("exit 5", 5)


def test_server_exec_interactive(project: Path) -> None:
    pane = Pane(project, "server", "server", "exec", "-i", "sh")
    pane.wait_for(rf"Running 'sh' on {re.escape(WEB_HOST)} interactively")
    assert pane.run("hostname", "M1") == "h1"
    assert pane.run("echo $((6*7))", "M2") == "42"
    pane.finish("exit 9", 9)
    pane = Pane(project, "h3", "-h", CACHE_HOST, "server", "exec", "-i", "hostname", prompt=False)
    pane.wait_for(r"^h3\s*$")
    pane.wait_for(r"^EXIT=0\s*$")


def test_non_interactive_exec_still_prints_per_host(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(capsys, "app", "exec", "-r", "web", "-e", "X=1", "sh -c 'echo $X'")
    assert code == 0, err
    assert out.count("App Host: ") == 2 and out.count("\n1\n") == 2


def test_a_command_that_fails_fails_the_exec(capsys: pytest.CaptureFixture[str]) -> None:
    """As Kamal's ``capture`` raises on it: every host's output is still shown, then each
    host whose command failed is named with its status and the exit status is 1 (a CI job
    running ``app exec 'bin/rails db:migrate'`` must fail with the migration)."""
    code, out, err = run_cli(capsys, "app", "exec", "-r", "web", "sh -c 'echo out; exit 3'")
    assert code == 1 and out.count("App Host: ") == 2 and out.count("\nout\n") == 2
    assert err.splitlines() == [
        f"  ERROR: {WEB_HOST}: the command exited 3",
        "  ERROR: 10.254.0.12: the command exited 3",
    ]
    code, out, err = run_cli(capsys, "server", "exec", "-h", CACHE_HOST, "exit 4")
    assert code == 1 and err == f"  ERROR: {CACHE_HOST}: the command exited 4\n"
    code, out, err = run_cli(capsys, "accessory", "exec", "--reuse", "cache", "sh -c 'exit 5'")
    assert code == 1 and err == f"  ERROR: {CACHE_HOST}: the command exited 5\n"
    code, out, err = run_cli(capsys, "server", "exec", "-h", CACHE_HOST, "true")
    assert code == 0 and err == ""


@pytest.mark.parametrize(
    ("args", "connected"),
    [
        (("app", "exec", "-r", "web", "pwd"), {"h1": 1, "h2": 1, "h3": 0}),  # login, command
        (("app", "exec", "--reuse", "pwd"), {"h1": 1, "h2": 1, "h3": 1}),  # question, command
        (("accessory", "exec", "cache", "pwd"), {"h1": 0, "h2": 0, "h3": 1}),  # login, command
    ],
    ids=["app", "app-reuse", "accessory"],
)
def test_an_exec_connects_to_each_host_once(
    testbed: Testbed, capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
    connected: dict[str, int],
) -> None:  # fmt: skip
    """The registry login (a new container), the version question (``--reuse``: the first
    host's running container) and the command itself share one connection per host."""
    before = testbed.connection_counts()
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    after = testbed.connection_counts()
    assert {name: after[name] - before[name] for name in after} == connected


def test_the_hosts_run_at_once_and_print_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As Kamal's ``on(hosts)``, the hosts' commands run at the same time: each one waits
    until all three have started, which would never happen one host after another (each
    gives up after 10 s). Their output is still printed host by host, in the order given."""
    meeting = tmp_path / "meeting"  # the test hosts share the machine's /tmp
    meeting.mkdir()
    wait = (f"touch {meeting}/$(hostname); n=0; until [ $(ls {meeting} | wc -l) -ge 3 ];"
            " do n=$((n+1)); [ $n -lt 200 ] || exit 7; sleep 0.05; done; echo met $(hostname)")  # fmt: skip
    code, out, err = run_cli(capsys, "server", "exec", wait)
    assert code == 0, err
    assert out.splitlines() == [
        line
        for number, address in enumerate(("10.254.0.11", "10.254.0.12", "10.254.0.13"), 1)
        for line in (f"App Host: {address}", f"met h{number}", "")
    ]


def test_ctrl_c_while_the_hosts_run_ends_at_once(project: Path, tmp_path: Path) -> None:
    """Ctrl-C in a real terminal while three hosts run a command (server exec): backstaff
    ends at once with 130 and Kamal's "Aborted.", not once the commands are done, and without
    an error of its own (closing the connections while their commands run)."""
    started = tmp_path / "started"  # the test hosts share the machine's /tmp
    started.mkdir()
    pane = Pane(project, "ctrl-c", "server", "exec", f"touch {started}/$(hostname); sleep 60",
                prompt=False)  # fmt: skip
    deadline = time.monotonic() + 30
    while len(list(started.iterdir())) < 3:
        assert time.monotonic() < deadline, pane.screen()
        time.sleep(0.1)
    pane.press("C-c")
    pane.wait_for(r"^EXIT=130\s*$", timeout=10)  # the commands would run for 60 s
    screen = pane.screen()
    assert "Aborted." in screen and "ERROR" not in screen, screen
    pane.ended(130)


def _appended(testbed: Testbed, run: Callable[[], object]) -> list[tuple[str, str]]:
    """The lines ``run`` appends to each host's audit log, host by host, with Kamal's first
    two tags (the time, and the performer: git's email, which Kamal's own HOME here lacks)
    made alike."""
    logs = [(h.address, Path(h.directory) / "root/.kamal/tb-audit.log") for h in testbed.hosts]
    before = {address: log.read_text() if log.exists() else "" for address, log in logs}
    run()
    return [
        (address, re.sub(r"^\[[^]]*\] \[[^]]*\]", "[TIME] [PERFORMER]", line))
        for address, log in logs
        for line in (log.read_text() if log.exists() else "")[len(before[address]) :].splitlines()
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("app", "exec", "-r", "web", "echo hi"),
        (
            "app",
            "exec",
            "--reuse",
            "-r",
            "workers",
            "pwd",
        ),  # not `true`: Thor takes it for --reuse's value
        ("server", "exec", "-h", CACHE_HOST, f"true '$(touch {INJECTED})' '`touch {INJECTED}`'"),
        ("accessory", "exec", "--reuse", "cache", "pwd"),
    ],
    ids=["app", "app-reuse", "server", "accessory"],
)
def test_a_non_interactive_exec_is_audited_as_kamal_audits_it(
    project: Path, testbed: Testbed, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    """Kamal appends ``Executed cmd '<cmd>' on ...`` to each host's audit log before it runs
    the command there (with the role for ``app exec --reuse``): the same lines as the real
    Kamal's, run on the same hosts with the same arguments, and the command's text is data
    in the line, never run by it."""

    def ours() -> None:
        code, _, err = run_cli(capsys, *args)
        assert code == 0, err

    def kamal() -> None:
        done = real_kamal(project, *args)
        assert done.returncode == 0, done.stderr

    lines = _appended(testbed, ours)
    assert lines and lines == _appended(testbed, kamal)
    assert all(" Executed cmd '" in line for _, line in lines)
    assert not Path(INJECTED).exists()


def test_reuse_runs_in_the_container_kamal_picks(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two running containers of the role on one host, the newest not on the ``latest`` image
    (a container started again by hand after a rollback): Kamal's current container is the one
    on the ``latest`` image; ``--reuse`` runs there and its audit line names that version, in
    backstaff as in the real Kamal."""
    host = testbed.hosts[0]
    image = testbed.docker(host, "inspect", "--format", "{{.Config.Image}}", "kamal-proxy")
    testbed.docker(host, "run", "--detach", "--name", "tb-web-v9", "--label", "service=tb",
                   "--label", "destination=", "--label", "role=web", "--env", "KAMAL_VERSION=v9",
                   "--entrypoint", "sleep", image.strip(), "600")  # fmt: skip
    args = ("app", "exec", "--reuse", "-r", "web", "-h", WEB_HOST, "sh -c 'echo $KAMAL_VERSION'")
    try:
        outputs: list[str] = []

        def ours() -> None:
            code, out, err = run_cli(capsys, *args)
            assert code == 0, (out, err)
            outputs.append(out)

        def kamal() -> None:
            done = real_kamal(project, *args)
            assert done.returncode == 0, done.stderr
            outputs.append(done.stdout)

        lines = _appended(testbed, ours)
        assert lines == _appended(testbed, kamal)
        assert [line for _, line in lines] == [
            "[TIME] [PERFORMER] [web] Executed cmd 'sh -c 'echo $KAMAL_VERSION'' on app version v1"
        ]
        assert all(re.search(r"^v1$", out, re.MULTILINE) for out in outputs), outputs
    finally:
        testbed.docker(host, "rm", "--force", "tb-web-v9")
