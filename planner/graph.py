"""From changes to a DAG of steps (networkx), in two phases: every node first, then the edges.

Nodes come from planner/operations.py, one function per resource action. Edges come from one
table, keyed by step kind: what each kind of step waits for. An edge to a step that does not
exist is an error, never silently dropped.

Order: lock first; per host docker → network → login → image pull; proxy before routes;
accessories before the app; the primary role's first healthy new container before the other
roles (Kamal's barrier opens before the old container stops: a boot is two steps, start and
stop-old); the roles of a host one after another unless ``boot.parallel_roles``;
``boot.limit`` groups one after another (with ``boot.wait``); deletes (accessories included)
and tagging after every boot, each host's prune after its own boots, stops and removals;
lock last. ``lexicographical_topological_sort`` on
(phase, id) makes the order deterministic.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from backstaff.planner import operations as op
from backstaff.planner.changes import Action, Change
from backstaff.planner.commands.app import has_assets
from backstaff.planner.model import App
from backstaff.planner.steps import Step

if TYPE_CHECKING:  # imported where used: networkx takes 0.1 s to load, which a command
    import networkx as nx  # overlaps with reading the hosts (backstaff/planning.py)


class GraphError(ValueError):
    """A step waits for a step that is not in the plan: a bug in the edge table."""


class _Nodes:
    """Phase one: every step of the plan, indexed for the edge rules."""

    def __init__(
        self, app: App, changes: tuple[Change, ...], pull: bool = True, prune: bool = True
    ) -> None:
        self.app = app
        self.pull, self.prune = pull, prune
        self.changes = [c for c in changes if c.action is not Action.NOOP]
        self.steps: dict[str, Step] = {}
        self._by_prefix: dict[str, list[str]] = defaultdict(list)
        self._by_prefix_host: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.collected: dict[str, list[str]] = {}  # a barrier's name -> [its id] or what it joins
        self.boot_group: dict[str, int] = {}  # app.boot step id -> its boot group
        self.boot_end: dict[str, str] = {}  # app.boot id -> its app.stop_old id, or itself
        self.stop_of: dict[str, str] = {}  # app.stop_old id -> the app.boot it follows
        self.primary_boots: dict[int, list[str]] = defaultdict(list)
        self.previous_role: dict[str, str] = {}  # app.boot id -> the end of the boot before it
        self.group_count = 0

    def add(self, step: Step) -> str:
        if step.id in self.steps:
            raise GraphError(f"two steps with the id {step.id}")
        self.steps[step.id] = step
        prefix = ".".join(step.id.split("[", 1)[0].split(".")[:2])
        self._by_prefix[prefix].append(step.id)
        self._by_prefix_host[(prefix, step.host)].append(step.id)
        return step.id

    def collect(self, name: str, description: str, ids: list[str], phase: int) -> None:
        """Many steps others wait for: one barrier step when there are several (N + M edges,
        not N x M, so a large fleet plans in linear time)."""
        if len(ids) > 1:
            ids = [self.add(op.barrier(name, description, phase))]
        self.collected[name] = ids

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    def ids(self, prefix: str, host: str | None = None) -> list[str]:
        """Step ids whose first two parts are ``prefix`` (e.g. "app.boot"), on ``host``."""
        if host is None:
            return list(self._by_prefix.get(prefix, ()))
        return list(self._by_prefix_host.get((prefix, host), ()))


def _add_nodes(nodes: _Nodes) -> None:
    app = nodes.app
    for change in nodes.of("host"):
        nodes.add(op.docker_install(change.host, (change.address,)))
    for change in nodes.of("network"):
        nodes.add(op.network_create(change.host, (change.address,)))
    for change in nodes.of("registry"):
        nodes.add(op.registry_login(app, change.host, (change.address,)))
    boots = [c for c in nodes.of("app") if c.action in (Action.CREATE, Action.REPLACE)]
    for host in sorted({c.host for c in boots}) if nodes.pull else ():
        nodes.add(op.image_pull(app, host))
    for change in nodes.of("proxy"):
        nodes.add(op.proxy_boot(app, change.host, change.action, (change.address,)))
    roles = {role.name: role for role in app.roles}
    for change in boots:
        role = roles[change.name]
        if has_assets(role):
            old = dict(change.before).get("version")
            nodes.add(op.assets_prepare(app, role, change.host, str(old) if old else None))
    nodes.collect("assets", "assets ready on every host", nodes.ids("assets.prepare"), 6)
    routed = {a.name for a in app.accessories if a.proxy}  # accessories with a route
    routed_hosts = {c.host for c in nodes.of("accessory")
                    if c.action is not Action.DELETE and c.name in routed}  # fmt: skip
    for host in sorted({c.host for c in boots} | routed_hosts):
        files = op.proxy_files(app, host)
        if files is not None:
            nodes.add(files)
    _accessory_nodes(nodes)
    _boot_nodes(nodes, boots)
    for change in nodes.of("route"):
        target = dict(change.after)["target"].rsplit(":", 1)[0]
        nodes.add(op.route(app, roles[change.name], change.host, target, (change.address,)))
    nodes.collect("boots", "every boot done", list(nodes.boot_end.values()), 9)
    nodes.collect("booted", "every new container up", nodes.ids("app.boot"), 9)
    for change in nodes.of("app"):
        if change.action is Action.DELETE:
            before = dict(change.before)
            container = str(before["container"])
            prefix = str(before["prefix"])
            nodes.add(op.app_remove(app, change.name, change.host, container, prefix,
                                    change.downtime, change.reasons[0], (change.address,)))  # fmt: skip
    for host in sorted({c.host for c in nodes.of("stale")}):
        stale = [c for c in nodes.of("stale") if c.host == host]
        containers = tuple((str(dict(c.before)["id"]), str(dict(c.before)["state"])) for c in stale)
        nodes.add(op.stale_remove(app, host, containers, tuple(c.address for c in stale)))
    boot_hosts = sorted({nodes.steps[b].host for b in nodes.ids("app.boot")})
    for host in boot_hosts:
        nodes.add(op.tag_latest(app, host))
    for host in boot_hosts if nodes.prune else ():
        nodes.add(op.prune(app, host))
    if nodes.steps and app.primary_host is not None:
        nodes.add(op.lock_acquire(app))
        nodes.add(op.lock_release(app))


def _accessory_nodes(nodes: _Nodes) -> None:
    by_name = {a.name: a for a in nodes.app.accessories}
    for change in nodes.of("accessory"):
        accessory = by_name.get(change.name)
        if change.action is Action.DELETE or accessory is None:
            service = dict(change.before).get("container") or change.name
            nodes.add(
                op.accessory_remove(change.name, str(service), change.host, (change.address,))
            )
        else:
            if accessory.registry is not None and change.action is not Action.UPDATE:
                # its own registry (Kamal's prepare): the image is pulled by docker run
                nodes.add(op.accessory_registry_login(nodes.app, accessory, change.host,
                                                      (change.address,)))  # fmt: skip
            nodes.add(op.accessory_boot(nodes.app, accessory, change.host, change.action,
                                        (change.address,)))  # fmt: skip
    nodes.collect("accessories", "every accessory booted", nodes.ids("accessory.boot"), 6)


def _boot_nodes(nodes: _Nodes, boots: list[Change]) -> None:
    """The boots, group by group. Without ``boot.parallel_roles`` the roles of a host boot one
    after another (Kamal's host-first ``on_roles``: primary role first, then by name); with
    it, each role boots on its own, waiting only for the primary role's barrier."""
    app = nodes.app
    roles = {role.name: role for role in app.roles}
    rank = {role.name: i for i, role in enumerate(app.roles)}  # primary first, then by name
    order = {host: i for i, host in enumerate(_boot_host_order(app))}
    groups = boot_groups(app, {c.host for c in boots})
    nodes.group_count = len(groups)
    for index, group in enumerate(groups, start=1):
        in_group = set(group)
        ids = []
        last_on_host: dict[str, str] = {}
        for change in sorted(boots, key=lambda c: (order.get(c.host, 0), rank[c.name])):
            if change.host in in_group:
                role = roles[change.name]
                before, address = dict(change.before), (change.address,)
                step_id = nodes.add(op.app_boot(app, role, change.host, before, address))
                stop = op.app_stop_old(app, role, change.host, before, address)
                end = nodes.add(stop) if stop is not None else step_id
                nodes.boot_group[step_id], nodes.boot_end[step_id] = index, end
                if stop is not None:
                    nodes.stop_of[end] = step_id
                ids.append(end)
                if change.host in last_on_host and not app.boot.parallel_roles:
                    nodes.previous_role[step_id] = last_on_host[change.host]
                last_on_host[change.host] = end
                if role.primary:
                    nodes.primary_boots[index].append(step_id)
        if not any(nodes.primary_boots[g] for g in range(1, index)):  # the barrier's group
            nodes.collect(
                f"primary.{index}", "the primary role booted", nodes.primary_boots[index], 7
            )
        if index < len(groups):
            nodes.collect(f"group.{index}", f"boot group {index} done", ids, 7)
            if app.boot.wait:
                nodes.add(op.boot_wait(index, app.boot.wait))


# -- phase two: edges ---------------------------------------------------------------------------

Rule = Callable[[_Nodes, Step], list[str]]


def _host_ready(nodes: _Nodes, step: Step) -> list[str]:
    h = step.host
    return (
        nodes.ids("host.docker", h) + nodes.ids("network.kamal", h) + nodes.ids("registry.login", h)
    )


def _app_boot(nodes: _Nodes, step: Step) -> list[str]:
    group = nodes.boot_group[step.id]
    after = nodes.ids("image.pull", step.host) + nodes.ids("proxy.boot", step.host)
    after += nodes.ids("proxy.files", step.host)
    after += nodes.collected["accessories"] + nodes.collected["assets"]
    if group > 1:
        wait = nodes.ids("boot.wait", None)
        previous = [w for w in wait if w == f"boot.wait.{group - 1}[local]"]
        after += previous or nodes.collected[f"group.{group - 1}"]
    # The primary role's barrier (Kamal's Healthcheck::Barrier, one for the whole boot): the
    # other roles wait for it in the first group where the primary role boots; once open, it
    # stays open for the later groups, which wait for the previous group anyway.
    barrier = next((g for g in range(1, group + 1) if nodes.primary_boots[g]), None)
    if barrier == group and step.id not in nodes.primary_boots[group]:
        after += nodes.collected[f"primary.{group}"]
    if step.id in nodes.previous_role:
        after.append(nodes.previous_role[step.id])
    return after


def _barrier(nodes: _Nodes, step: Step) -> list[str]:
    name = step.id.removeprefix("barrier.").split("[", 1)[0]
    if name == "accessories":
        return nodes.ids("accessory.boot")
    if name == "boots":
        return list(nodes.boot_end.values())
    if name == "booted":
        return nodes.ids("app.boot")
    if name == "assets":
        return nodes.ids("assets.prepare")
    kind, _, number = name.partition(".")
    group = int(number)
    if kind == "primary":
        return list(nodes.primary_boots[group])
    return [nodes.boot_end[b] for b, g in nodes.boot_group.items() if g == group]


def _boot_wait(nodes: _Nodes, step: Step) -> list[str]:
    group = int(step.id.split("[", 1)[0].rsplit(".", 1)[1])
    return nodes.collected[f"group.{group}"]


def _prune(nodes: _Nodes, step: Step) -> list[str]:
    """After this host's boots, its old containers' stops and its removals, which decide what
    it keeps: the stopped containers it counts, the images still in use. Not after the other
    hosts' boots, as Kamal's prune is, nor after the ``latest`` tag: what a prune removes is
    the same before and after it (``latest`` is kept by its name, an image in use by its
    container), so each host prunes while the others still boot."""
    h = step.host
    stops = [nodes.boot_end[b] for b in nodes.ids("app.boot", h)]
    return (stops + nodes.ids("app.remove", h) + nodes.ids("stale.remove", h)
            + nodes.ids("accessory.remove", h))  # fmt: skip


def _after_boots(nodes: _Nodes, step: Step) -> list[str]:
    return nodes.collected["boots"]


def _after_new_containers(nodes: _Nodes, step: Step) -> list[str]:
    """``latest`` is tagged once every new container is up, while the old ones stop: Kamal
    tags after its boots, stops included, but a stop changes nothing the tag depends on, and
    the last role's stop (up to ``docker stop``'s wait) is then not followed by the tag."""
    return nodes.collected["booted"]


def _none(nodes: _Nodes, step: Step) -> list[str]:
    return []


# What each kind of step waits for (the lock is added around everything afterwards).
EDGES: dict[str, Rule] = {
    "docker": _none,
    "network": lambda n, s: n.ids("host.docker", s.host),
    "login": lambda n, s: n.ids("host.docker", s.host),
    "pull": lambda n, s: n.ids("host.docker", s.host) + n.ids("registry.login", s.host),
    "proxy": _host_ready,
    "accessory": lambda n, s: (  # its route needs kamal-proxy and its files
        _host_ready(n, s) + n.ids("proxy.boot", s.host) + n.ids("proxy.files", s.host)
    ),
    "proxy_files": lambda n, s: _host_ready(n, s) + n.ids("proxy.boot", s.host),
    "assets": lambda n, s: n.ids("image.pull", s.host),
    "barrier": _barrier,
    "app": _app_boot,
    "app_stop": lambda n, s: [n.stop_of[s.id]],  # the primary-role barrier does not wait for it
    "wait": _boot_wait,
    "route": lambda n, s: n.ids("proxy.boot", s.host),
    "delete": _after_boots,  # app, stale and accessory removals: after every boot
    "tag": _after_new_containers,
    "prune": _prune,
    "lock": _none,
}


Dependencies = tuple[tuple[str, tuple[str, ...]], ...]  # step id -> the ids it waits for


def plan_steps(
    app: App, changes: tuple[Change, ...], *, pull: bool = True, prune: bool = True
) -> tuple[tuple[Step, ...], Dependencies]:
    """The plan's steps in order, and what each waits for (``pull``/``prune`` as in
    ``build_graph``). Changes that make no step (none: a drift check's plan) need no graph,
    and so no networkx, which takes longer to load than such a plan to make."""
    nodes = _all_nodes(app, changes, pull, prune)
    if not nodes.steps:
        return (), ()
    graph = _graph(nodes)
    steps = tuple(ordered_steps(graph))
    return steps, tuple((s.id, tuple(sorted(graph.predecessors(s.id)))) for s in steps)


def build_graph(
    app: App, changes: tuple[Change, ...], *, pull: bool = True, prune: bool = True
) -> nx.DiGraph:
    """``pull=False``: boot from the images already on the hosts (rollback); ``prune=False``:
    no prune after the boots (redeploy, rollback), as Kamal's verbs."""
    return _graph(_all_nodes(app, changes, pull, prune))


def _all_nodes(app: App, changes: tuple[Change, ...], pull: bool, prune: bool) -> _Nodes:
    """Phase one: every step the changes make."""
    nodes = _Nodes(app, changes, pull, prune)
    _add_nodes(nodes)
    return nodes


def _graph(nodes: _Nodes) -> nx.DiGraph:
    """Phase two: the edges between the nodes, by the table above."""
    import networkx as nx

    graph: nx.DiGraph = nx.DiGraph()
    for step in nodes.steps.values():
        graph.add_node(step.id, step=step)
    for step in nodes.steps.values():
        rule = EDGES.get(step.kind)
        if rule is None:
            raise GraphError(f"no edge rule for steps of kind {step.kind} ({step.id})")
        for dependency in rule(nodes, step):
            if dependency not in graph:
                raise GraphError(f"{step.id} waits for {dependency}, which is not in the plan")
            if dependency != step.id:
                graph.add_edge(dependency, step.id)
    _lock_around(nodes, graph)
    if not nx.is_directed_acyclic_graph(graph):
        raise GraphError("step graph has a cycle")  # a bug in the edge table, not user input
    return graph


def _lock_around(nodes: _Nodes, graph: nx.DiGraph) -> None:
    """The lock first and last: it precedes every step without other dependencies and
    follows every step nothing else waits for (the rest is implied by the order)."""
    acquire, release = nodes.ids("lock.acquire"), nodes.ids("lock.release")
    if not acquire:
        return
    others = [n for n in graph if n not in (acquire[0], release[0])]
    sources = [n for n in others if graph.in_degree(n) == 0]
    sinks = [n for n in others if graph.out_degree(n) == 0]
    for node in sources:
        graph.add_edge(acquire[0], node)
    for node in sinks:
        graph.add_edge(node, release[0])


def _boot_host_order(app: App) -> list[str]:
    """App hosts, primary-role hosts first (Kamal's KAMAL.hosts)."""
    ordered: list[str] = []
    for role in app.roles:
        ordered += role.hosts
    return list(dict.fromkeys(ordered))


def boot_groups(app: App, hosts: Iterable[str]) -> list[list[str]]:
    """The hosts that boot, primary-role hosts first, in ``boot.limit`` groups (Kamal's)."""
    order = {host: i for i, host in enumerate(_boot_host_order(app))}
    return _groups(app, sorted(set(hosts), key=lambda h: order.get(h, len(order))))


def _groups(app: App, hosts: list[str]) -> list[list[str]]:
    limit = app.boot.limit
    if not limit or not hosts:
        return [hosts] if hosts else []
    if limit.endswith("%"):
        size = max(math.floor(len(app.all_hosts) * int(limit[:-1]) / 100), 1)
    else:
        size = int(limit)
    return [hosts[i : i + size] for i in range(0, len(hosts), size)]


def ordered_steps(graph: nx.DiGraph) -> list[Step]:
    import networkx as nx

    steps = {node: data["step"] for node, data in graph.nodes(data=True)}
    order = nx.lexicographical_topological_sort(graph, key=lambda node: steps[node].sort_key)
    return [steps[node] for node in order]
