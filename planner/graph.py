"""From changes to a DAG of steps (networkx), built by a short list of ordered transforms.

Order: lock first; per host docker → network → login → image pull; proxy before routes;
accessories before the app; the primary role before the others; ``boot.limit`` groups one
after another (with ``boot.wait``); deletes, tagging and pruning after every boot; lock last.
``lexicographical_topological_sort`` on (phase, id) makes the order deterministic.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable

import networkx as nx

from backstaff.planner.changes import Action, Change
from backstaff.planner.commands import accessory as accessory_cmd
from backstaff.planner.commands import app as app_cmd
from backstaff.planner.commands import host as host_cmd
from backstaff.planner.commands import proxy as proxy_cmd
from backstaff.planner.commands.base import Cmd
from backstaff.planner.model import App, Role
from backstaff.planner.steps import Step, Upload

LOCK_DETAILS = "<lock details: user, time, version, message; base64>"
DOCKER_INSTALL: Cmd = (
    "sh", "-c", "'curl -fsSL https://get.docker.com || wget -O - https://get.docker.com || echo \"exit 1\"'",
    "|", "sh",
)  # fmt: skip


def _hex(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


class _Builder:
    def __init__(self, app: App, changes: tuple[Change, ...]) -> None:
        self.app = app
        self.changes = [c for c in changes if c.action is not Action.NOOP]
        self.graph: nx.DiGraph = nx.DiGraph()
        # Step ids by their first two parts ("app.boot") and by (those, host): lookups stay
        # O(1), so planning grows linearly with the fleet.
        self._by_prefix: dict[str, list[str]] = defaultdict(list)
        self._by_prefix_host: dict[tuple[str, str], list[str]] = defaultdict(list)
        self._changes_by_kind: dict[str, list[Change]] = defaultdict(list)
        for change in self.changes:
            self._changes_by_kind[change.kind].append(change)

    def add(self, step: Step, after: Iterable[str] = ()) -> str:
        self.graph.add_node(step.id, step=step)
        for dependency in after:
            if dependency in self.graph:
                self.graph.add_edge(dependency, step.id)
        prefix = ".".join(step.id.split("[", 1)[0].split(".")[:2])
        self._by_prefix[prefix].append(step.id)
        self._by_prefix_host[(prefix, step.host)].append(step.id)
        return step.id

    def barrier(self, name: str, description: str, after: list[str], phase: int) -> list[str]:
        """One step that waits for many: N steps waiting for M others cost N + M edges, not
        N x M (a large fleet plans in linear time). It runs nothing."""
        if len(after) <= 1:
            return after
        return [
            self.add(Step(f"barrier.{name}[local]", "local", "barrier", description, phase), after)
        ]

    def of(self, kind: str, host: str | None = None) -> list[Change]:
        return [c for c in self._changes_by_kind[kind] if host is None or c.host == host]

    def ids(self, prefix: str, host: str | None = None) -> list[str]:
        """Step ids whose first two parts are ``prefix`` (e.g. "app.boot"), on ``host``."""
        if host is None:
            return list(self._by_prefix.get(prefix, ()))
        return list(self._by_prefix_host.get((prefix, host), ()))

    # -- transforms, in order ---------------------------------------------------------------

    def host_prerequisites(self) -> None:
        for change in self.of("host"):
            self.add(Step(f"host.docker[{change.host}]", change.host, "docker",
                          "install docker", 1, (DOCKER_INSTALL,), changes=(change.address,)))  # fmt: skip
        for change in self.of("network"):
            self.add(
                Step(f"network.kamal[{change.host}]", change.host, "network",
                     "create the kamal network", 2, (host_cmd.network_create(),),
                     changes=(change.address,)),
                self.ids("host.docker", change.host),
            )  # fmt: skip
        registry = self.app.registry
        for change in self.of("registry"):
            username = registry.username or f"<secret:{registry.username_secret}>"
            self.add(
                Step(f"registry.login[{change.host}]", change.host, "login",
                     f"log in to {registry.server or 'Docker Hub'}", 3,
                     (host_cmd.login(registry, username),),
                     stdin_secret=registry.password_secret or "<registry.password>",
                     changes=(change.address,)),
                self.ids("host.docker", change.host),
            )  # fmt: skip

    def image_pulls(self) -> None:
        hosts = {c.host for c in self.of("app") if c.action in (Action.CREATE, Action.REPLACE)}
        for host in sorted(hosts):
            self.add(
                Step(f"image.pull[{host}]", host, "pull", f"pull {self.app.image}", 4,
                     host_cmd.pull(self.app)),
                self.ids("host.docker", host) + self.ids("registry.login", host),
            )  # fmt: skip

    def proxies(self) -> None:
        for change in self.of("proxy"):
            commands: tuple[Cmd, ...]
            if change.action is Action.CREATE:
                commands = (proxy_cmd.make_apps_config_directory(), proxy_cmd.boot(self.app))
            elif change.action is Action.UPDATE:
                commands = (("docker", "container", "start", proxy_cmd.CONTAINER),)
            else:
                commands = proxy_cmd.reboot(self.app)
            self.add(
                Step(f"proxy.boot[{change.host}]", change.host, "proxy",
                     f"{change.action.value} kamal-proxy", 5, commands, changes=(change.address,)),
                self.ids("network.kamal", change.host) + self.ids("registry.login", change.host)
                + self.ids("host.docker", change.host),
            )  # fmt: skip

    def accessories(self) -> None:
        by_name = {a.name: a for a in self.app.accessories}
        for change in self.of("accessory"):
            accessory = by_name.get(change.name)
            service = dict(change.before).get("container") or (accessory and accessory.service_name)
            if change.action is Action.DELETE or accessory is None:
                commands: tuple[Cmd, ...] = (accessory_cmd.stop(str(service)),
                                             accessory_cmd.remove_container(str(service)))  # fmt: skip
                self.add(Step(f"accessory.remove.{change.name}[{change.host}]", change.host,
                              "delete", f"remove accessory {change.name}", 10, commands,
                              changes=(change.address,)), self.ids("app.boot"))  # fmt: skip
                continue
            actions: tuple[Cmd | Upload, ...]
            if change.action is Action.UPDATE:
                actions = (accessory_cmd.start(accessory),)
            else:
                actions = accessory_cmd.make_directories(accessory)
                actions += tuple(
                    Upload(
                        f"{accessory.service_name}{m.remote}", m.mode or "0755", f"file:{m.local}"
                    )
                    for m in accessory.files
                )
                actions += (
                    Upload(accessory.env_file, "0600", f"envfile:accessory:{accessory.name}"),
                )
                if change.action is Action.REPLACE:
                    actions += (accessory_cmd.stop(accessory.service_name),
                                accessory_cmd.remove_container(accessory.service_name))  # fmt: skip
                actions += (accessory_cmd.run(self.app, accessory, change.host),)
            self.add(
                Step(f"accessory.boot.{accessory.name}[{change.host}]", change.host, "accessory",
                     f"{change.action.value} accessory {accessory.name}", 6, actions,
                     changes=(change.address,), audit=f"Booted {accessory.name} accessory"),
                self.ids("network.kamal", change.host) + self.ids("registry.login", change.host)
                + self.ids("host.docker", change.host),
            )  # fmt: skip

    def app_boots(self) -> None:
        roles = {role.name: role for role in self.app.roles}
        boots = [c for c in self.of("app") if c.action in (Action.CREATE, Action.REPLACE)]
        order = {host: i for i, host in enumerate(_boot_host_order(self.app))}
        hosts = sorted({c.host for c in boots}, key=lambda h: order.get(h, len(order)))
        previous: list[str] = []
        accessories = self.barrier(
            "accessories", "every accessory booted", self.ids("accessory.boot"), 6
        )
        groups = _groups(self.app, hosts)
        for index, group in enumerate(groups):
            group_ids: list[str] = []
            primary_ids: list[str] = []
            in_group = set(group)
            for change in sorted(boots, key=lambda c: (order.get(c.host, 0), c.name)):
                if change.host not in in_group:
                    continue
                role = roles[change.name]
                step = self._boot_step(role, change)
                after = (previous + self.ids("image.pull", change.host)
                         + self.ids("proxy.boot", change.host) + accessories)  # fmt: skip
                if not role.primary:
                    if len(primary_ids) > 1:
                        primary_ids[:] = self.barrier(f"primary.{index + 1}",
                                                      "the primary role booted", primary_ids, 7)  # fmt: skip
                    after += primary_ids
                step_id = self.add(step, after)
                group_ids.append(step_id)
                if role.primary:
                    primary_ids.append(step_id)
            last = index == len(groups) - 1
            if last:
                break
            previous = self.barrier(
                f"group.{index + 1}", f"boot group {index + 1} done", group_ids, 7
            )
            if self.app.boot.wait:
                wait = Step(f"boot.wait.{index + 1}[local]", "local", "wait",
                            f"wait {self.app.boot.wait}s after boot group {index + 1}", 7,
                            (("sleep", str(self.app.boot.wait)),))  # fmt: skip
                previous = [self.add(wait, previous)]

    def _boot_step(self, role: Role, change: Change) -> Step:
        app, host = self.app, change.host
        before = dict(change.before)
        name = role.container_name(app.version)
        commands: list[Cmd | Upload] = []
        old_container = before.get("container")
        if old_container == name or "name_taken_by" in before:
            # The name is taken (same version redeployed, a stopped container, a rollback):
            # rename it out of the way, as Kamal does.
            clashing = before.get("name_taken_id") or before.get("id", "")
            renamed = f"{name}_replaced_{_hex(host, name, clashing)}"  # unique per container
            commands.append(app_cmd.rename(role, app.version, renamed))
            if old_container == name:
                running = before.get("state") in ("running", "restarting")
                old_container = renamed if running else None
        commands += [
            app_cmd.make_env_directory(app),
            Upload(role.env_file, "0600", f"envfile:role:{role.name}"),
            app_cmd.run(app, role, host, app.version),
        ]
        if role.proxy:
            target = f"$({' '.join(app_cmd.container_id(role, app.version))})"
            commands.append(
                proxy_cmd.deploy(app, role.container_prefix, role.proxy, target, role.name)
            )
        else:
            commands.append(
                app_cmd.wait_ready(role, app.version, app.readiness_delay, app.deploy_timeout)
            )
        if old_container:
            commands.append(app_cmd.stop_container(old_container, role, app.drain_timeout))
        return Step(
            f"app.boot.{role.name}[{host}]", host, "app",
            f"boot {name}" + (f" (replacing {before.get('container')})" if before else ""),
            7, tuple(commands), changes=(change.address,),
            audit=f"[{role.name}] Booted app version {app.version}",
            on_failure=(app_cmd.stop_container(name, None, app.drain_timeout),),
        )  # fmt: skip

    def routes(self) -> None:
        roles = {role.name: role for role in self.app.roles}
        for change in self.of("route"):
            role = roles[change.name]
            assert role.proxy is not None
            target = dict(change.after)["target"].rsplit(":", 1)[0]
            command = proxy_cmd.deploy(
                self.app, role.container_prefix, role.proxy, target, role.name
            )
            self.add(
                Step(f"route.{role.name}[{change.host}]", change.host, "route",
                     f"point {role.container_prefix} at {target}", 8, (command,),
                     changes=(change.address,)),
                self.ids("proxy.boot", change.host),
            )  # fmt: skip

    def deletes(self) -> None:
        boots = self.barrier("boots", "every boot done", self.ids("app.boot"), 9)
        for change in self.of("app"):
            if change.action is not Action.DELETE:
                continue
            container = dict(change.before)["container"]
            prefix = container.rsplit("-", 1)[0]
            commands: tuple[Cmd, ...] = (
                ("docker", "exec", "kamal-proxy", "kamal-proxy", "remove", prefix, "||", "true"),
            ) if change.downtime else ()  # fmt: skip
            commands += (app_cmd.stop_container(container, None, self.app.drain_timeout),)
            self.add(Step(f"app.remove.{change.name}[{change.host}]", change.host, "delete",
                          f"stop {container} ({change.reasons[0]})", 10, commands,
                          changes=(change.address,)), boots)  # fmt: skip
        for host in sorted({c.host for c in self.of("stale")}):
            stale = self.of("stale", host)
            commands = tuple(
                ("docker", "rm", c.name) if dict(c.before).get("state") != "running"
                else app_cmd.stop_container(c.name, None, self.app.drain_timeout)
                for c in stale
            )  # fmt: skip
            self.add(Step(f"stale.remove[{host}]", host, "delete",
                          f"remove {len(stale)} stale container(s)", 10, commands,
                          changes=tuple(c.address for c in stale)), boots)  # fmt: skip

    def tag_and_prune(self) -> None:
        boot_ids = self.ids("app.boot")
        boots = self.ids("barrier.boots") or boot_ids
        boot_hosts = sorted({self.graph.nodes[b]["step"].host for b in boot_ids})
        for host in boot_hosts:
            self.add(Step(f"image.tag_latest[{host}]", host, "tag",
                          f"tag {self.app.image} as {self.app.latest_image}", 9,
                          (app_cmd.tag_latest(self.app),),
                          audit=f"Tagging {self.app.image} as the latest image"), boots)  # fmt: skip
        for host in boot_hosts:
            self.add(
                Step(f"prune[{host}]", host, "prune",
                     f"prune stopped containers beyond {self.app.retain_containers} and unused images",
                     11, (host_cmd.prune_containers(self.app),) + host_cmd.prune_images(self.app)),
                self.ids("image.tag_latest", host) + self.ids("app.remove", host)
                + self.ids("stale.remove", host) + self.ids("accessory.remove", host),
            )  # fmt: skip

    def lock(self) -> None:
        """The lock first and last: it precedes every step without other dependencies and
        follows every step nothing else waits for (the rest is implied by the order)."""
        primary = self.app.primary_host
        if not self.graph or primary is None:
            return
        sources = [n for n in self.graph if self.graph.in_degree(n) == 0]
        sinks = [n for n in self.graph if self.graph.out_degree(n) == 0]
        acquire = Step(f"lock.acquire[{primary}]", primary, "lock", "take the deploy lock", 0,
                       (("mkdir", "-p", ".kamal"), host_cmd.lock_acquire(self.app, LOCK_DETAILS)))  # fmt: skip
        release = Step(f"lock.release[{primary}]", primary, "lock", "release the deploy lock", 12,
                       (host_cmd.lock_release(self.app),))  # fmt: skip
        self.add(acquire)
        self.add(release, sinks)
        for node in sources:
            self.graph.add_edge(acquire.id, node)


def _boot_host_order(app: App) -> list[str]:
    """App hosts, primary-role hosts first (Kamal's KAMAL.hosts)."""
    ordered: list[str] = []
    for role in app.roles:
        ordered += role.hosts
    return list(dict.fromkeys(ordered))


def _groups(app: App, hosts: list[str]) -> list[list[str]]:
    limit = app.boot.limit
    if not limit or not hosts:
        return [hosts] if hosts else []
    if limit.endswith("%"):
        size = max(math.floor(len(app.all_hosts) * int(limit[:-1]) / 100), 1)
    else:
        size = int(limit)
    return [hosts[i : i + size] for i in range(0, len(hosts), size)]


TRANSFORMS = (
    _Builder.host_prerequisites,
    _Builder.image_pulls,
    _Builder.proxies,
    _Builder.accessories,
    _Builder.app_boots,
    _Builder.routes,
    _Builder.deletes,
    _Builder.tag_and_prune,
    _Builder.lock,
)


def build_graph(app: App, changes: tuple[Change, ...]) -> nx.DiGraph:
    builder = _Builder(app, changes)
    for transform in TRANSFORMS:
        transform(builder)
    if not nx.is_directed_acyclic_graph(builder.graph):
        raise ValueError("step graph has a cycle")  # a bug in the transforms, not user input
    return builder.graph


def ordered_steps(graph: nx.DiGraph) -> list[Step]:
    steps = {node: data["step"] for node, data in graph.nodes(data=True)}
    order = nx.lexicographical_topological_sort(graph, key=lambda node: steps[node].sort_key)
    return [steps[node] for node in order]
