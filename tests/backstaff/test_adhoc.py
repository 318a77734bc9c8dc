"""The order of a verb's steps (backstaff/adhoc.py): app start/stop follow Kamal's on_roles."""

from __future__ import annotations

from backstaff.adhoc import step_order
from backstaff.planner import operations
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
