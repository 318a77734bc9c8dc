"""Faults during apply, on the real test bed. Each: a clear error naming host and step, the
lock released, every host still serving, `plan` showing what is left, a second apply converging.
The module ends by grepping everything it produced for the secrets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from backstaff.cli import main
from tests.backstaff.projects import enter
from tests.conftest import FIXTURES
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
SECRETS = ("tbpass", "s3cr3t-token-123", "cache-pass-456")
WEB = ("10.254.0.11", "10.254.0.12")
OUTPUTS: list[str] = []  # everything printed in this module, grepped at the end


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    testbed.reset()
    path = tmp_path_factory.mktemp("faults") / "app"
    shutil.copytree(FIXTURES / "example", path)
    (path / "log-offsets.json").write_text(json.dumps(
        {h.name: h.command_log.stat().st_size if h.command_log.exists() else 0 for h in testbed.hosts}
    ))  # fmt: skip
    yield path
    testbed.reset()


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    OUTPUTS.append(out + err)
    return code, out, err


def spawn(project: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "BACKSTAFF_KNOWN_HOSTS": str(project.parent / "known_hosts")}
    env.pop("VERSION", None)
    return subprocess.Popen([sys.executable, "-m", "backstaff", *args], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def served(host: str) -> str:
    with urllib.request.urlopen(f"http://{host}/", timeout=10) as response:
        return response.read().decode().strip()


def no_lock(capsys: pytest.CaptureFixture[str]) -> bool:
    return "There is no deploy lock" in run(capsys, "lock", "status")[1]


def converge(capsys: pytest.CaptureFixture[str], version: str) -> None:
    code, _, err = run(capsys, "--version", version, "deploy", "-P")
    assert code == 0, err
    assert run(capsys, "--version", version, "plan", "--detailed-exitcode")[0] == 0


def hook(project: Path, name: str, body: str) -> Path:
    path = project / ".kamal" / "hooks" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return path


def test_0_setup(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version", "v1", "setup", "-P")[0] == 0
    assert [served(h) for h in WEB] == ["tb v1", "tb v1"]


def test_ssh_connection_dies_mid_deploy(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    h2 = testbed.hosts[1]
    killer = hook(project, "pre-app-boot", f"for p in $(ip netns pids {h2.namespace}); do "
                  f'[ "$(cat /proc/$p/comm)" = sshd ] && kill -9 $p; done; true')  # fmt: skip
    try:
        code, out, err = run(capsys, "--version", "v2", "deploy", "-P")
    finally:
        killer.unlink()
        testbed.start_sshd(h2)
    assert code == 1, out + err
    assert "[10.254.0.12]: 10.254.0.12: connection lost" in err  # names the step and the host
    assert no_lock(capsys)
    assert served("10.254.0.12") == "tb v1"  # its boot never ran: v1 still serves
    code, out, _ = run(capsys, "--version", "v2", "plan", "--detailed-exitcode")
    line = next(line for line in out.splitlines() if "app.web[10.254.0.12]" in line)
    assert code == 2 and line.split() == [
        "-/+",
        "app.web[10.254.0.12]",
        "new",
        "version",
        "v1",
        "→",
        "v2",
    ]
    converge(capsys, "v2")
    assert [served(h) for h in WEB] == ["tb v2", "tb v2"]


def test_host_unreachable_from_the_start(
    testbed: Testbed, capsys: pytest.CaptureFixture[str]
) -> None:
    h3 = testbed.hosts[2]
    testbed.kill_sshd(h3)
    try:
        code, out, err = run(capsys, "--version", "v3", "deploy", "-P")
    finally:
        testbed.start_sshd(h3)
    assert code == 1 and "cannot apply: 10.254.0.13: cannot connect on port 22" in err
    assert no_lock(capsys)
    assert [served(h) for h in WEB] == ["tb v2", "tb v2"]  # nothing was changed anywhere


def test_dockerd_stopped(testbed: Testbed, capsys: pytest.CaptureFixture[str]) -> None:
    h3 = testbed.hosts[2]
    testbed.stop_dockerd(h3)
    try:
        code, out, err = run(capsys, "--version", "v3", "deploy", "-P")
        assert code == 1
        assert "10.254.0.13: docker is installed but its daemon does not answer" in err
        assert "host.docker" not in out  # never "installs docker" over a stopped daemon
    finally:
        testbed.start_dockerd(h3)
    assert no_lock(capsys)
    converge(capsys, "v2")


def test_registry_refuses_the_login(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "registry", "logout")[0] == 0
    secrets = project / ".kamal" / "secrets"
    original = secrets.read_text()
    secrets.write_text(
        original.replace("KAMAL_REGISTRY_PASSWORD=tbpass", "KAMAL_REGISTRY_PASSWORD=wrong")
    )
    try:
        code, _, err = run(capsys, "--version", "v3", "deploy", "-P")
    finally:
        secrets.write_text(original)
    assert code == 1 and "registry.login[10.254.0.11]" in err and "unauthorized" in err.lower()
    assert no_lock(capsys)
    assert [served(h) for h in WEB] == ["tb v2", "tb v2"]
    converge(capsys, "v3")


def test_disk_full_on_env_file_upload(testbed: Testbed, capsys: pytest.CaptureFixture[str]) -> None:
    h1 = testbed.hosts[0]
    testbed.fill_disk(h1, ".kamal/apps/tb/env/roles")
    try:
        code, _, err = run(capsys, "--version", "v1", "deploy", "-P")
    finally:
        testbed.free_disk(h1, ".kamal/apps/tb/env/roles")
    assert (
        code == 1
        and "app.boot.web[10.254.0.11]: 10.254.0.11: upload of .kamal/apps/tb/env/roles/web.env failed"
        in err
    )
    assert no_lock(capsys)
    assert served("10.254.0.11") == "tb v3"
    converge(capsys, "v1")


def test_a_failed_rename_leaves_the_serving_container_running(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The running version booted again (its env changed): its container is renamed out of
    the way first. When that rename fails (the new name taken), the boot's cleanup must not
    stop the container still holding the name: it is the one serving (Kamal renames outside
    the boot it cleans up after)."""
    h1 = testbed.hosts[0]
    deploy = project / "config" / "deploy.yml"
    original = deploy.read_text()
    deploy.write_text(original.replace("TB_MODE: testbed", "TB_MODE: renamed"))
    try:
        _, planned, _ = run(capsys, "--version", "v1", "plan", "--verbose")
        renames = [
            line.split() for line in planned.splitlines() if "docker rename tb-web-v1" in line
        ]
        taken = renames[0][-1]  # h1's: the first host's steps come first
        testbed.docker(h1, "create", "--name", taken, "10.254.0.2:5000/tb/app:v1")
        try:
            code, _, err = run(capsys, "--version", "v1", "deploy", "-P")
        finally:
            testbed.docker(h1, "rm", "--force", taken)
    finally:
        deploy.write_text(original)
    assert code == 1 and "app.boot.web[10.254.0.11]" in err and "is already in use" in err
    assert no_lock(capsys)
    assert served("10.254.0.11") == "tb v1"  # still serving: not stopped by the cleanup
    names = testbed.docker(h1, "ps", "--filter", "name=tb-web", "--format", "{{.Names}}")
    assert names.split() == ["tb-web-v1"]
    converge(capsys, "v1")


def test_ctrl_c_during_apply(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    interrupter = hook(project, "pre-app-boot", "kill -INT $PPID; sleep 1")
    try:
        process = spawn(project, "--version", "v2", "deploy", "-P")
        out, err = process.communicate(timeout=300)
    finally:
        interrupter.unlink()
    OUTPUTS.append(out + err)
    assert process.returncode == 130, err
    assert "Interrupted: running steps were finished" in err
    assert no_lock(capsys)
    assert all(served(h) in ("tb v1", "tb v2") for h in WEB)
    converge(capsys, "v2")


def test_two_applies_at_once(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The first holds the lock a while (taken before it reads the hosts; its pre-deploy hook
    # sleeps), so the second meets it.
    hook = project / ".kamal" / "hooks" / "pre-deploy"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\nsleep 3\n")
    hook.chmod(0o755)
    try:
        first = spawn(project, "--version", "v3", "deploy", "-P")
        time.sleep(0.3)
        second = spawn(project, "--version", "v3", "deploy", "-P")
        results = [(p.wait(timeout=300), *p.communicate()) for p in (first, second)]
    finally:
        hook.unlink()
    OUTPUTS.extend(o + e for _, o, e in results)
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    refused = next(err for code, _, err in results if code == 1)
    assert "Deploy lock" in refused and "Locked by" in refused
    assert no_lock(capsys)
    assert [served(h) for h in WEB] == ["tb v3", "tb v3"]


def test_saved_plan_for_another_config_or_destination(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "--version", "v1", "plan", "--out", "v1.json")[0] == 0
    config = project / "config" / "deploy.yml"
    original = config.read_text()
    config.write_text(original.replace("TB_MODE: testbed", "TB_MODE: other"))
    try:
        code, _, err = run(capsys, "apply", "v1.json", "-y")
    finally:
        config.write_text(original)
    assert code == 1 and "this plan was made for another config or destination" in err
    (project / "config" / "deploy.staging.yml").write_text("env:\n  clear:\n    TB_MODE: testbed\n")
    code, _, err = run(capsys, "-d", "staging", "apply", "v1.json", "-y")
    assert code == 1 and "another config or destination" in err
    code, _, err = run(capsys, "apply", "v1.json", "-y")
    assert code == 0, err


def test_z_no_secret_anywhere(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """setup/deploy/plan (every format)/audit/--verbose outputs, saved plans, audit logs and
    every command line the hosts ran (their process list) hold none of the secret values."""
    # every run must have done its work: one that failed early would leak nothing
    code, _, err = run(capsys, "-v", "--version", "v2", "deploy", "-P")
    assert code == 0, err
    for fmt in ("text", "json", "markdown"):
        code, out, err = run(capsys, "-v", "--version", "v3", "plan", "--format", fmt,
                             "--out", f"plan-{fmt}.json")  # fmt: skip
        assert code == 0 and "app.web[10.254.0.11]" in out, err
    assert run(capsys, "audit")[0] == 0
    assert run(capsys, "--version", "v2", "config")[0] == 0  # no git here: a version is needed
    assert run(capsys, "-v", "drift")[0] == 0
    offsets = json.loads((project / "log-offsets.json").read_text())
    texts = list(OUTPUTS) + [p.read_text() for p in project.glob("*.json")]
    for host in testbed.hosts:
        with open(host.command_log) as log:
            log.seek(offsets[host.name])
            texts.append(log.read())
        texts.append((Path(host.directory) / "root/.kamal/tb-audit.log").read_text())
    assert len(texts) > 20
    for secret in SECRETS:
        hits = [t for t in texts if secret in t]
        assert not hits, f"{secret!r} leaked: {hits[0][:500]}"
    for host in testbed.hosts:
        for env_file in (Path(host.directory) / "root/.kamal/apps/tb/env").rglob("*.env"):
            assert oct(env_file.stat().st_mode & 0o777) == "0o600"
