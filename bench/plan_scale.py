"""Benchmark: planning is pure and fast. A synthetic fleet (N hosts, 3 roles, 10 accessories)
with a generated live state (every app one version behind, so every host has changes) is
planned in-process; prints wall time and peak memory (tracemalloc) at each size.

``python bench/plan_scale.py [--sizes 10,100,1000,5000]`` (target: 1,000 hosts < 1 s, < 300 MB).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from backstaff.planner.desired import build_desired  # noqa: E402
from backstaff.planner.live import LiveContainer, LiveHost, LiveRoute, LiveState, value_digest  # noqa: E402
from backstaff.planner.plan import make_plan  # noqa: E402
from backstaff.schemas import ConfigSources, load_config  # noqa: E402

ROLES = ("web", "jobs", "cron")
ACCESSORIES = 10


def fleet_config(hosts: int) -> str:
    names = [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in range(hosts)]
    third = max(hosts // 3, 1)
    return yaml.safe_dump({
        "service": "shop", "image": "acme/shop",
        "registry": {"server": "registry.example", "username": "u", "password": ["PW"]},
        "builder": {"arch": "amd64"},
        "servers": {
            "web": {"hosts": names[:third] or names[:1]},
            "jobs": {"hosts": names[third:2 * third] or names[:1], "cmd": "bin/jobs"},
            "cron": {"hosts": names[2 * third:] or names[:1], "cmd": "bin/cron"},
        },
        "env": {"clear": {"RAILS_ENV": "production"}, "secret": ["KEY"]},
        "proxy": {"host": "shop.example"},
        "accessories": {f"acc{i}": {"image": f"svc{i}:1", "host": names[i % hosts]}
                        for i in range(ACCESSORIES)},
    })  # fmt: skip


def live_for(app, version: str) -> LiveState:  # type: ignore[no-untyped-def]
    hosts = []
    env = tuple(sorted([("RAILS_ENV", value_digest("production")), ("KEY", value_digest("k"))]))
    for host in app.all_hosts:
        containers = []
        routes = []
        for role in app.roles:
            if host in role.hosts:
                name = role.container_name(version)
                labels = tuple(sorted(app.labels_for(role)))
                containers.append(LiveContainer(f"{hash((host, name)) & 0xFFFFFFFFFFFF:012x}" * 2, name,
                                                f"{app.repository}:{version}", "sha256:old", "running",
                                                "2026-01-01", labels, env, tuple(role.cmd.split()) if role.cmd else (), ()))  # fmt: skip
                if role.proxy:
                    routes.append(LiveRoute(role.container_prefix, role.proxy.hosts, ("/",),
                                            f"{containers[-1].short_id}:80", "running", False))  # fmt: skip
        for accessory in app.accessories:
            if host in accessory.hosts:
                containers.append(LiveContainer("a" * 24, accessory.service_name, accessory.image, "sha256:a",
                                                "running", "2026-01-01", (("service", accessory.service_name),),
                                                (), (), ()))  # fmt: skip
        hosts.append(LiveHost(host, docker_version="27.0", networks=("kamal",), containers=tuple(containers),
                              routes=tuple(routes), registry_login=True, lock_known=host == app.primary_host))  # fmt: skip
    return LiveState(tuple(hosts))


def measure(size: int) -> tuple[float, float, int, int]:
    loaded = load_config(ConfigSources("deploy.yml", fleet_config(size)))
    live = live_for(build_desired(loaded, "v1"), "v1")
    start = time.perf_counter()  # timed without tracing (tracemalloc slows Python ~2-3x)
    plan = make_plan(build_desired(loaded, "v2"), live, "digest")
    elapsed = time.perf_counter() - start
    tracemalloc.start()  # a second, traced run for the peak memory of planning
    make_plan(build_desired(loaded, "v2"), live, "digest")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak / 2**20, len(plan.changes), len(plan.steps)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000,5000")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    print(f"{'hosts':>6} {'plan s':>8} {'peak MB':>8} {'changes':>8} {'steps':>7} {'us/host':>8}")
    for size in (int(s) for s in args.sizes.split(",")):
        elapsed, peak, changes, steps = measure(size)
        rows.append(
            {"hosts": size, "seconds": elapsed, "peak_mb": peak, "changes": changes, "steps": steps}
        )
        print(
            f"{size:>6} {elapsed:>8.3f} {peak:>8.1f} {changes:>8} {steps:>7} {elapsed / size * 1e6:>8.0f}"
        )
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
