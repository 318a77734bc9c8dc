"""The order of a verb's steps (backstaff/adhoc.py): app start/stop follow Kamal's on_roles."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from backstaff.adhoc import step_order
from backstaff.planner import operations
from tests.backstaff.test_exit_codes import edit, run
from tests.conftest import FIXTURES
from tests.planner.scenarios import HOSTS, example


def _steps(parallel: bool) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    def change(data: dict) -> None:  # type: ignore[type-arg]
        data["servers"]["jobs"] = {"hosts": list(HOSTS), "cmd": "tb-worker 7"}
        data["boot"] = {"parallel_roles": parallel}

    app = example("v1", change)
    steps = [operations.app_start(app, role, host) for role in app.roles for host in role.hosts]
    return [s.id for s in steps], step_order(steps, parallel=app.boot.parallel_roles)


def test_roles_of_a_host_in_turn_by_default() -> None:
    ids, depends = _steps(parallel=False)
    web, jobs = (next(i for i in ids if i.startswith(f"app.start.{r}") and HOSTS[0] in i)
                 for r in ("web", "jobs"))  # fmt: skip
    assert depends[jobs] == (web,)
    assert depends[web] == ()


def test_parallel_roles_wait_for_nothing() -> None:
    ids, depends = _steps(parallel=True)
    assert len(ids) == 6 and all(depends[i] == () for i in ids)


@pytest.mark.parametrize("server", ["127.0.0.1", "root@127.0.0.1"])
def test_a_host_that_cannot_be_reached_is_named_and_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    server: str,
) -> None:  # fmt: skip
    """`server exec` and the other read-only verbs (show_on_hosts): Kamal exits 1 when a host
    cannot be reached; the hosts that answer are still shown. Each under its host name, as
    SSHKit's host prints itself (``root@127.0.0.1`` is 127.0.0.1)."""
    shutil.copytree(FIXTURES / "example", tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    with socket.socket() as closed:  # a loopback port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    # one host, on the loopback only (the example's accessories name test-bed hosts)
    edit(
        lambda d: (
            d.update(servers=[server]),
            d.pop("accessories"),
            d["ssh"].update(port=port),
        )
    )
    monkeypatch.setenv("HOME", str(tmp_path))  # no known_hosts of the user's
    code, out, err = run(capsys, "server", "exec", "true")
    assert code == 1
    assert "Host: 127.0.0.1\n" in out and "@" not in out and "ERROR" in err
    assert err.count("ERROR") == 1, err  # named once, also where a failed command is an error
