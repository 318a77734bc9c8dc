"""The step DAG: order, dependencies, boot groups, determinism."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest

from backstaff.planner.commands.words import render
from backstaff.planner.diff import diff
from backstaff.planner.graph import boot_groups, build_graph, ordered_steps
from backstaff.planner.live import LiveState
from backstaff.planner.model import App
from backstaff.planner.steps import Step
from tests.planner.scenarios import HOSTS, example, live


def steps_of(app: App, state: LiveState) -> tuple[list[str], Any]:
    graph = build_graph(app, diff(app, state))
    return [s.id for s in ordered_steps(graph)], graph


def test_fresh_order() -> None:
    ids, graph = steps_of(example(), live("fresh"))
    assert ids[0] == "lock.acquire[10.254.0.11]" and ids[-1] == "lock.release[10.254.0.11]"
    position = {step: index for index, step in enumerate(ids)}
    for host in ("10.254.0.11", "10.254.0.12"):
        assert position[f"network.kamal[{host}]"] < position[f"proxy.boot[{host}]"]
        assert position[f"registry.login[{host}]"] < position[f"image.pull[{host}]"]
        assert position[f"proxy.boot[{host}]"] < position[f"app.boot.web[{host}]"]
        assert position[f"app.boot.web[{host}]"] < position["app.boot.workers[10.254.0.13]"]
    assert position["accessory.boot.cache[10.254.0.13]"] < position["app.boot.web[10.254.0.11]"]
    assert position["image.tag_latest[10.254.0.13]"] < position["prune[10.254.0.13]"]
    assert nx.ancestors(graph, "app.boot.workers[10.254.0.13]") >= {
        "app.boot.web[10.254.0.11]", "app.boot.web[10.254.0.12]",
    }  # fmt: skip


def test_no_changes_no_steps() -> None:
    assert steps_of(example(), live("deployed-v1"))[0] == []


def test_deterministic() -> None:
    assert (
        steps_of(example("v2"), live("deployed-v1"))[0]
        == steps_of(example("v2"), live("deployed-v1"))[0]
    )


def test_boot_limit_makes_groups_with_waits() -> None:
    def limit(data: dict[str, Any]) -> None:
        data["boot"] = {"limit": 1, "wait": 2}

    ids, graph = steps_of(example("v2", limit), live("deployed-v1"))
    boots = [i for i in ids if i.startswith(("app.boot", "boot.wait"))]
    assert boots == ["app.boot.web[10.254.0.11]", "boot.wait.1[local]", "app.boot.web[10.254.0.12]",
                     "boot.wait.2[local]", "app.boot.workers[10.254.0.13]"]  # fmt: skip
    assert "boot.wait.1[local]" in set(graph.predecessors("app.boot.web[10.254.0.12]"))


def test_boot_step_commands_in_kamal_order() -> None:
    ids, graph = steps_of(example("v2"), live("deployed-v1"))
    step = graph.nodes["app.boot.web[10.254.0.11]"]["step"]
    lines = step.rendered()
    assert lines[0] == "mkdir -p .kamal/apps/tb/env/roles"
    assert (
        lines[1]
        == "# upload .kamal/apps/tb/env/roles/web.env (mode 0600, from the role web env file)"
    )
    # the id docker run prints is the proxy's target (its first 12 characters, docker's short
    # id): Kamal asks docker for it again; tests/planner/test_commands.py runs it in the shells
    assert lines[2].startswith(
        "booted=$( docker run --detach --restart unless-stopped --name tb-web-v2 "
    )
    assert lines[2].endswith(" 10.254.0.2:5000/tb/app:v2 )")
    assert lines[3].startswith(
        'docker exec kamal-proxy kamal-proxy deploy tb-web --target="${booted%"${booted#????????????}"}":80 '
    )
    assert len(lines) == 4
    # a failed boot (health check) stops the new container, never the old one
    assert [render(cmd) for cmd in step.on_failure] == ["docker stop -- tb-web-v2"]
    # the old one stops in a step of its own, once the new one serves; its failure leaves the
    # new one serving
    stop = graph.nodes["app.stop_old.web[10.254.0.11]"]["step"]
    assert stop.rendered() == ["docker stop -- tb-web-v1"]
    assert stop.on_failure == ()
    assert set(graph.predecessors(stop.id)) == {step.id}


def test_the_primary_barrier_opens_before_the_old_containers_stop() -> None:
    """Kamal's Boot#run: release_barrier, then stop_old_version. The other roles wait for the
    primary role's new container, not for its old one to stop; what comes after every boot
    (pruning, removals) and the next role on a host wait for the stops too."""
    ids, graph = steps_of(example("v2"), live("deployed-v1"))
    barrier = set(graph.predecessors("barrier.primary.1[local]"))
    assert barrier == {"app.boot.web[10.254.0.11]", "app.boot.web[10.254.0.12]"}
    after_all = set(graph.predecessors("barrier.boots[local]"))
    assert after_all == {"app.stop_old.web[10.254.0.11]", "app.stop_old.web[10.254.0.12]",
                         "app.stop_old.workers[10.254.0.13]"}  # fmt: skip

    def one_host(data: dict[str, Any]) -> None:
        data["servers"]["workers"]["hosts"] = ["10.254.0.11"]

    _, graph = steps_of(example("v2", one_host), live("deployed-v1"))
    workers = set(graph.predecessors("app.boot.workers[10.254.0.11]"))
    assert "app.stop_old.web[10.254.0.11]" in workers  # the host's roles one after another


def test_latest_is_tagged_while_the_old_containers_stop_and_pruned_after() -> None:
    """The tag waits for every new container, not for the old ones' stops (the last role's
    ``docker stop`` is then not followed by the tag); a host's prune waits for its own stops
    only, so it runs while other hosts still boot; the lock is released after all of them."""
    _, graph = steps_of(example("v2"), live("deployed-v1"))
    for host in HOSTS:
        tag = f"image.tag_latest[{host}]"
        assert set(graph.predecessors(tag)) == {"barrier.booted[local]"}
        assert not any(a.startswith("app.stop_old") for a in nx.ancestors(graph, tag))
        assert nx.ancestors(graph, tag) >= {b for b in graph if b.startswith("app.boot")}
    assert set(graph.predecessors("prune[10.254.0.13]")) == {"app.stop_old.workers[10.254.0.13]"}
    assert set(graph.predecessors("prune[10.254.0.11]")) == {"app.stop_old.web[10.254.0.11]"}
    assert "app.boot.workers[10.254.0.13]" not in nx.ancestors(graph, "prune[10.254.0.11]")
    assert nx.ancestors(graph, "lock.release[10.254.0.11]") >= {
        "app.stop_old.workers[10.254.0.13]", *(f"prune[{h}]" for h in HOSTS),
        *(f"image.tag_latest[{h}]" for h in HOSTS),
    }  # fmt: skip


def test_on_fresh_hosts_each_host_prunes_once_its_own_containers_are_up() -> None:
    _, graph = steps_of(example("v1"), live("fresh"))
    assert set(graph.predecessors("prune[10.254.0.11]")) == {"app.boot.web[10.254.0.11]"}
    assert set(graph.predecessors("prune[10.254.0.13]")) == {"app.boot.workers[10.254.0.13]"}


def test_boot_groups_wait_for_the_stops_of_the_group_before() -> None:
    def limit(data: dict[str, Any]) -> None:
        data["boot"] = {"limit": 1}

    _, graph = steps_of(example("v2", limit), live("deployed-v1"))
    assert set(graph.predecessors("app.boot.web[10.254.0.12]")) >= {"app.stop_old.web[10.254.0.11]"}


def test_redeploy_of_the_running_version_renames_first() -> None:
    def env(data: dict[str, Any]) -> None:
        data["env"]["clear"]["TB_MODE"] = "x"

    _, graph = steps_of(example("v1", env), live("deployed-v1"))
    boot = graph.nodes["app.boot.workers[10.254.0.13]"]["step"]
    lines = boot.rendered()
    assert lines[0].startswith("docker rename tb-workers-v1 tb-workers-v1_replaced_")
    renamed = lines[0].split()[-1]
    # Kamal's two audit lines, in its order; the rename's names versions, not containers
    suffix = renamed.removeprefix("tb-workers-v1")
    assert boot.audit == (f"[workers] Renaming container v1 to v1{suffix}",
                          "[workers] Booted app version v1")  # fmt: skip
    assert graph.nodes["app.stop_old.workers[10.254.0.13]"]["step"].rendered() == [
        f"docker stop -t 30 -- {renamed}"
    ]


def test_deletes_come_after_boots() -> None:
    def drop(data: dict[str, Any]) -> None:
        del data["servers"]["workers"]

    ids, _ = steps_of(example("v2", drop), live("deployed-v1"))
    assert ids.index("app.remove.workers[10.254.0.13]") > ids.index("app.boot.web[10.254.0.12]")


def test_stopped_container_of_the_version_is_renamed_not_stopped() -> None:
    from dataclasses import replace

    state = live("deployed-v1")
    h3 = state.host("10.254.0.13")
    stopped = tuple(
        replace(c, state="exited") if c.name == "tb-workers-v1" else c for c in h3.containers
    )
    state = replace(
        state, hosts=tuple(replace(h, containers=stopped) if h is h3 else h for h in state.hosts)
    )
    app = example("v1")
    (change,) = diff(app, state)
    assert (change.action.symbol, change.reasons) == ("+", ("container tb-workers-v1 is exited",))
    graph = build_graph(app, (change,))
    lines = graph.nodes["app.boot.workers[10.254.0.13]"]["step"].rendered()
    assert lines[0].startswith("docker rename tb-workers-v1 tb-workers-v1_replaced_")
    assert not any("docker stop" in line for line in lines)
    assert not any(node.startswith("app.stop_old") for node in graph)


def test_accessory_removal_waits_for_every_app_boot() -> None:
    def drop_cache(data: dict[str, Any]) -> None:
        del data["accessories"]["cache"]

    ids, graph = steps_of(example("v2", drop_cache), live("deployed-v1"))
    removal = "accessory.remove.cache[10.254.0.13]"
    boots = {i for i in ids if i.startswith("app.boot")}
    assert len(boots) == 3 and boots <= nx.ancestors(graph, removal)
    assert ids.index(removal) > max(ids.index(b) for b in boots)


def test_a_missing_dependency_is_an_error_not_a_dropped_edge(monkeypatch: Any) -> None:
    import pytest

    from backstaff.planner import graph as graph_module

    monkeypatch.setitem(graph_module.EDGES, "route", lambda nodes, step: ["proxy.boot[nowhere]"])
    monkeypatch.setitem(graph_module.EDGES, "app", lambda nodes, step: ["no.such.step[x]"])
    with pytest.raises(graph_module.GraphError, match="waits for no.such.step"):
        steps_of(example("v2"), live("deployed-v1"))


def test_every_step_kind_has_an_edge_rule() -> None:
    from backstaff.planner import graph as graph_module

    for scenario, version in (("fresh", "v1"), ("deployed-v1", "v2")):
        _, graph = steps_of(example(version), live(scenario))
        kinds = {data["step"].kind for _, data in graph.nodes(data=True)}
        assert kinds <= set(graph_module.EDGES)


def test_a_percentage_boot_limit_rounds_down() -> None:
    """Kamal: 50% of 3 hosts is 1 host per group (floor, at least 1), never 2."""

    def half(data: dict[str, Any]) -> None:
        data["boot"] = {"limit": "50%"}

    ids, graph = steps_of(example("v2", half), live("deployed-v1"))
    web2 = "app.boot.web[10.254.0.12]"
    assert "app.boot.web[10.254.0.11]" in nx.ancestors(graph, web2)
    assert web2 in nx.ancestors(graph, "app.boot.workers[10.254.0.13]")


def test_assets_are_ready_on_every_host_before_any_boot() -> None:
    def assets(data: dict[str, Any]) -> None:
        data["asset_path"] = "/www/assets"

    ids, graph = steps_of(example("v2", assets), live("deployed-v1"))
    prepared = [i for i in ids if i.startswith("assets.prepare")]
    assert prepared == ["assets.prepare.web[10.254.0.11]", "assets.prepare.web[10.254.0.12]"]
    for boot in ("app.boot.web[10.254.0.11]", "app.boot.web[10.254.0.12]"):
        assert set(prepared) <= nx.ancestors(graph, boot)
    assert "image.pull[10.254.0.12]" in nx.ancestors(graph, "assets.prepare.web[10.254.0.12]")
    step = graph.nodes["assets.prepare.web[10.254.0.11]"]["step"]
    extract, sync = step.rendered()
    assert extract == (
        "mkdir -p .kamal/apps/tb/assets/extracted/web-v2"
        " && docker container rm tb-web-assets 2> /dev/null || true"
        " && docker container create --name tb-web-assets 10.254.0.2:5000/tb/app:v2"
        " && docker container cp -L tb-web-assets:/www/assets/. .kamal/apps/tb/assets/extracted/web-v2"
        " && docker container rm tb-web-assets"
    )
    assert sync == (
        "mkdir -p .kamal/apps/tb/assets/volumes/web-v2"
        " ; cp -rnT .kamal/apps/tb/assets/extracted/web-v2 .kamal/apps/tb/assets/volumes/web-v2"
        " ; cp -rnT .kamal/apps/tb/assets/extracted/web-v2 .kamal/apps/tb/assets/volumes/web-v1 || true"
        " ; cp -rnT .kamal/apps/tb/assets/extracted/v1 .kamal/apps/tb/assets/volumes/web-v2 || true"
    ).replace("extracted/v1", "extracted/web-v1")
    stop_old = graph.nodes["app.stop_old.web[10.254.0.11]"]["step"].rendered()
    assert stop_old[-1] == (
        "find .kamal/apps/tb/assets/extracted -maxdepth 1 -name 'web-*' ! -name web-v2"
        " -exec rm -rf '{}' + ; find .kamal/apps/tb/assets/volumes -maxdepth 1 -name 'web-*'"
        " ! -name web-v2 -exec rm -rf '{}' +"
    )
    workers = graph.nodes["app.boot.workers[10.254.0.13]"]["step"].rendered()
    assert not any("assets" in line for line in workers)  # no proxy: no assets (Kamal's assets?)


def _three_roles(parallel: bool, limit: int | None = None) -> Any:
    """web on h1 and h2 (primary), jobs on every host, workers on h3; v2 over deployed v1."""

    def change(data: dict[str, Any]) -> None:
        data["servers"]["jobs"] = {"hosts": list(HOSTS), "cmd": "tb-worker 7"}
        data["boot"] = {"parallel_roles": parallel, **({"limit": limit} if limit else {})}

    return steps_of(example("v2", change), live("deployed-v1"))[1]


def _path(graph: Any, a: str, b: str) -> bool:
    return bool(nx.has_path(graph, a, b) or nx.has_path(graph, b, a))


def test_roles_of_a_host_boot_one_after_another_by_default() -> None:
    """Kamal's on_roles without parallel_roles: hosts in parallel, on each host its roles in
    turn (primary first, then by name)."""
    graph = _three_roles(parallel=False)
    h1, h3 = HOSTS[0], HOSTS[2]
    assert f"app.boot.jobs[{h3}]" in set(graph.predecessors(f"app.boot.workers[{h3}]"))
    assert nx.has_path(graph, f"app.boot.web[{h1}]", f"app.boot.jobs[{h1}]")


def test_parallel_roles_boot_each_role_on_its_own() -> None:
    """boot.parallel_roles: a thread per role; only the primary role's barrier orders them."""
    graph = _three_roles(parallel=True)
    h1, h2, h3 = HOSTS
    assert not _path(graph, f"app.boot.jobs[{h3}]", f"app.boot.workers[{h3}]")
    for host in (h3,):  # the barrier: every other role after the primary role's boots
        for role in ("jobs", "workers"):
            assert nx.has_path(graph, f"app.boot.web[{h1}]", f"app.boot.{role}[{host}]")
            assert nx.has_path(graph, f"app.boot.web[{h2}]", f"app.boot.{role}[{host}]")


def test_barrier_is_opened_once_for_every_boot_group() -> None:
    """boot.limit 1 (h1, h2, h3 in turn): the barrier opens in h1's group; in h2's group the
    roles boot in turn by default, and side by side with parallel_roles."""
    h1, h2, _ = HOSTS
    serial = _three_roles(parallel=False, limit=1)
    assert f"app.stop_old.web[{h2}]" in set(serial.predecessors(f"app.boot.jobs[{h2}]"))
    parallel = _three_roles(parallel=True, limit=1)
    assert not _path(parallel, f"app.boot.web[{h2}]", f"app.boot.jobs[{h2}]")
    for graph in (serial, parallel):
        assert nx.has_path(graph, f"app.boot.web[{h1}]", f"app.boot.jobs[{h1}]")
        assert nx.has_path(graph, f"app.boot.jobs[{h1}]", f"app.boot.web[{h2}]")  # groups in turn


@pytest.mark.parametrize(
    ("limit", "groups"),
    [
        (None, [["10.254.0.11", "10.254.0.12", "10.254.0.13"]]),
        ("2", [["10.254.0.11", "10.254.0.12"], ["10.254.0.13"]]),
        ("67%", [["10.254.0.11", "10.254.0.12"], ["10.254.0.13"]]),  # 2.01 hosts: 2
        ("66%", [["10.254.0.11"], ["10.254.0.12"], ["10.254.0.13"]]),  # 1.98 hosts: 1
        ("10%", [["10.254.0.11"], ["10.254.0.12"], ["10.254.0.13"]]),  # never 0
        ("100%", [["10.254.0.11", "10.254.0.12", "10.254.0.13"]]),
    ],
)
def test_boot_groups_of_a_limit(limit: str | None, groups: list[list[str]]) -> None:
    def set_limit(data: dict[str, Any]) -> None:
        if limit:
            data["boot"] = {"limit": limit}

    app = example("v2", set_limit)
    assert boot_groups(app, ["10.254.0.13", "10.254.0.12", "10.254.0.11"]) == groups
    assert boot_groups(app, []) == []


def test_boot_groups_start_with_the_primary_role_and_end_with_unknown_hosts() -> None:
    def workers_first(data: dict[str, Any]) -> None:
        data["primary_role"] = "workers"
        data["boot"] = {"limit": 2}

    app = example("v2", workers_first)
    hosts = ["10.0.0.99", "10.254.0.11", "10.254.0.12", "10.254.0.13", "10.254.0.11"]
    assert boot_groups(app, hosts) == [["10.254.0.13", "10.254.0.11"], ["10.254.0.12", "10.0.0.99"]]


def test_rollback_and_redeploy_graphs_neither_pull_nor_prune() -> None:
    app, changes = example("v2"), diff(example("v2"), live("deployed-v1"))
    kinds = {s.kind for s in ordered_steps(build_graph(app, changes))}
    assert {"pull", "prune"} <= kinds
    kinds = {s.kind for s in ordered_steps(build_graph(app, changes, pull=False))}
    assert "pull" not in kinds and "prune" in kinds
    kinds = {s.kind for s in ordered_steps(build_graph(app, changes, prune=False))}
    assert "pull" in kinds and "prune" not in kinds


def test_independent_steps_come_in_phase_order_not_name_order() -> None:
    graph: nx.DiGraph = nx.DiGraph()
    for name, phase in (("a[h]", 5), ("b[h]", 1), ("c[h]", 3)):
        graph.add_node(name, step=Step(name, "h", "x", name, phase, ()))
    assert [s.id for s in ordered_steps(graph)] == ["b[h]", "c[h]", "a[h]"]


def test_a_half_failed_deploy_converges_without_stopping_the_new_container() -> None:
    """A deploy of v2 that failed after h1's new container served but before its old one
    stopped leaves v1 (still the latest tag, so Kamal's current version) and v2 running. The
    next deploy renames the running v2 out of the way, boots v2, stops v1 after it, and stops
    the renamed container as stale: by its id, since its name now belongs to the new one."""
    from dataclasses import replace

    state = live("deployed-v1")
    h1 = state.host("10.254.0.11")
    v1 = next(c for c in h1.containers if c.name == "tb-web-v1")
    v2 = replace(v1, id="f" * 64, name="tb-web-v2", image="10.254.0.2:5000/tb/app:v2",
                 image_id="sha256:" + "e" * 64, created="2099-01-01T00:00:00Z")  # fmt: skip
    state = replace(state, hosts=tuple(
        replace(h, containers=(*h.containers, v2)) if h is h1 else h for h in state.hosts
    ))  # fmt: skip
    ids, graph = steps_of(example("v2"), state)
    boot = graph.nodes["app.boot.web[10.254.0.11]"]["step"].rendered()
    assert boot[0].startswith("docker rename tb-web-v2 tb-web-v2_replaced_")
    stop_old = graph.nodes["app.stop_old.web[10.254.0.11]"]["step"].rendered()
    assert stop_old == ["docker stop -- tb-web-v1"]
    stale = graph.nodes["stale.remove[10.254.0.11]"]["step"].rendered()
    assert stale == ["docker stop " + "f" * 12]
    assert ids.index("stale.remove[10.254.0.11]") > ids.index("app.stop_old.web[10.254.0.11]")
