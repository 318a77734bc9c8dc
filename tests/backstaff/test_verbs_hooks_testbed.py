"""rollback without the registry, redeploy as Kamal's, and hook environments compared with the
real Kamal 2.11's on the test bed."""

from __future__ import annotations

import base64
import json
import re
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backstaff.projects import enter, fresh_project, real_kamal, run_cli
from tests.testbed import Testbed

pytestmark = pytest.mark.testbed
WEB = ("10.254.0.11", "10.254.0.12")
HOOKS = ("pre-connect", "pre-deploy", "pre-app-boot", "post-app-boot", "post-deploy")
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


@pytest.fixture(scope="module")
def project(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield from fresh_project(testbed, tmp_path_factory, "verbs-hooks")


@pytest.fixture(autouse=True)
def in_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enter(project, monkeypatch)


backstaff = run_cli


kamal = real_kamal


def served(host: str) -> str:
    with urllib.request.urlopen(f"http://{host}/", timeout=10) as response:
        return response.read().decode().strip()


def registry(testbed: Testbed, method: str, path: str) -> urllib.request.Request:
    auth = base64.b64encode(f"{testbed.registry_user}:{testbed.registry_password}".encode())
    return urllib.request.Request(f"http://{testbed.registry}/v2/tb/app/{path}", method=method,
                                  headers={"Authorization": f"Basic {auth.decode()}",
                                           "Accept": MANIFEST})  # fmt: skip


def delete_tag(testbed: Testbed, tag: str) -> None:
    with urllib.request.urlopen(registry(testbed, "HEAD", f"manifests/{tag}"), timeout=10) as r:
        digest = r.headers["Docker-Content-Digest"]
    urllib.request.urlopen(registry(testbed, "DELETE", f"manifests/{digest}"), timeout=10).close()


def tag_exists(testbed: Testbed, tag: str) -> bool:
    try:
        urllib.request.urlopen(registry(testbed, "HEAD", f"manifests/{tag}"), timeout=10).close()
    except urllib.error.HTTPError:
        return False
    return True


def test_rollback_uses_the_image_on_the_hosts(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert backstaff(capsys, "--version", "v1", "setup", "-P")[0] == 0
    assert backstaff(capsys, "--version", "v2", "deploy", "-P")[0] == 0
    delete_tag(testbed, "v1")
    try:
        assert not tag_exists(testbed, "v1")
        code, out, err = backstaff(capsys, "rollback", "v1")
        assert code == 0, err
        assert "image.pull" not in out and "prune[" not in out
        assert [served(h) for h in WEB] == ["tb v1", "tb v1"]
    finally:  # the other tests need v1 in the registry: push it back from a host
        image = f"{testbed.registry}/tb/app:v1"
        testbed.docker(testbed.hosts[0], "push", image)
    assert tag_exists(testbed, "v1")
    # the version's container gone from a host: refused, as Kamal, before anything runs
    testbed.docker(testbed.hosts[2], "rm", "-f", "tb-workers-v2")
    code, _, err = backstaff(capsys, "rollback", "v2")
    assert (
        code == 1 and "The app version 'v2' is not available as a container on 10.254.0.13" in err
    )


def test_redeploy_boots_the_app_only(
    testbed: Testbed, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    testbed.docker(testbed.hosts[2], "stop", "tb-cache")  # deploy would start it again
    try:
        code, out, err = backstaff(capsys, "--version", "v2", "redeploy", "-P")
        assert code == 0, err
        assert "accessory" not in out and "proxy.boot" not in out and "prune[" not in out
        assert [served(h) for h in WEB] == ["tb v2", "tb v2"]
        running = testbed.docker(testbed.hosts[2], "ps", "--format", "{{.Names}}").split()
        assert "tb-cache" not in running
    finally:
        testbed.docker(testbed.hosts[2], "start", "tb-cache")


def write_hooks(project: Path, out: Path) -> None:
    hooks = project / ".kamal" / "hooks"
    hooks.mkdir(parents=True, exist_ok=True)
    for name in HOOKS:
        script = hooks / name
        script.write_text(f'#!/bin/sh\nn=$(ls {out} | grep -c "^{name}-")\n'
                          f'env | sort > {out}/{name}-$n.env\necho "hook {name} ran"\n')  # fmt: skip
        script.chmod(0o755)


def kamal_vars(out: Path) -> dict[str, dict[str, str]]:
    """Per hook run: its KAMAL_* variables and the secrets it got; time and performer by shape."""
    runs = {}
    for path in sorted(out.glob("*.env")):
        env = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        got = {k: v for k, v in env.items() if k.startswith("KAMAL_")}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", got.pop("KAMAL_RECORDED_AT"))
        assert got.pop("KAMAL_PERFORMER")
        if "KAMAL_RUNTIME" in got:
            assert got.pop("KAMAL_RUNTIME").isdigit()
        runs[path.stem] = got
    return runs


def test_hook_environments_match_kamal(
    testbed: Testbed, project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = project / "config" / "deploy.yml"
    config.write_text(config.read_text() + "\nboot:\n  limit: 1\n")
    theirs, ours = tmp_path / "kamal", tmp_path / "backstaff"
    theirs.mkdir(), ours.mkdir()
    try:
        assert backstaff(capsys, "--version", "v1", "deploy", "-P")[0] == 0
        write_hooks(project, theirs)
        done = kamal(project, "deploy", "-P", "--version", "v2", version="v2")
        assert done.returncode == 0, done.stdout[-3000:]
        assert "hook pre-deploy ran" not in done.stdout  # default: named, output not shown
        shutil.rmtree(project / ".kamal" / "hooks")
        assert backstaff(capsys, "--version", "v1", "deploy", "-P")[0] == 0
        write_hooks(project, ours)
        code, _, err = backstaff(capsys, "--version", "v2", "deploy", "-P")
        assert code == 0, err
        assert "Running the pre-deploy hook" in err and "hook pre-deploy ran" not in err
        expected, got = kamal_vars(theirs), kamal_vars(ours)
        assert sorted(expected) == sorted(got)  # the same hooks, as often (a boot group each)
        assert got == expected, json.dumps({"kamal": expected, "backstaff": got}, indent=1)
        assert got["pre-app-boot-0"]["KAMAL_HOSTS"] == "10.254.0.11"
        assert got["pre-deploy-0"]["KAMAL_LOCK"] == "true"
        assert got["pre-connect-0"]["KAMAL_LOCK"] == got["post-deploy-0"]["KAMAL_LOCK"] == "false"
        for name in ("pre-connect-0", "pre-deploy-0", "post-deploy-0", "pre-app-boot-0"):
            secret = "KAMAL_REGISTRY_PASSWORD=tbpass" in (ours / f"{name}.env").read_text()
            assert secret == (name != "pre-app-boot-0")  # secrets as Kamal gives them
    finally:
        shutil.rmtree(project / ".kamal" / "hooks", ignore_errors=True)
