"""Benchmark: setup, deploy and rollback with backstaff and with the real Kamal 2.11, in the same
run, on the same 3-host test bed, with the same config; images already in the registry.

Two configs: ``readiness-1`` (fixtures/example with ``readiness_delay: 1``, so that what is left
is each tool's own overhead) and ``example`` (as shipped: the workers role waits 7 s). For each
config and tool: a fresh test bed, ``setup`` v1, four ``deploy`` (v2, v3, v2, v3; the median is
reported), then ``rollback`` v2. Prints a summary table per config with the ratio
backstaff / Kamal, and the FLOOR beside each figure: the time neither tool can go below, from
backstaff's own step timings in the same run (the longest primary-role boot, which waits for
kamal-proxy's health check, plus the longest boot of the other roles, which waits for the
readiness delay: Kamal's primary-role barrier puts them one after the other), and backstaff's
overhead above it.

Run as root, with the test bed to itself and while nothing else loads the machine:
``flock /tmp/backstaff-testbed.lock python bench/deploy_vs_kamal.py [--configs readiness-1,example]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from precompile import compile_backstaff  # noqa: E402

from tests import testbed  # noqa: E402

EXAMPLE = ROOT / "fixtures" / "example"
BACKSTAFF = [sys.executable, "-m", "backstaff"]
KAMAL = [sys.executable, "-m", "kamal"] if shutil.which("kamal") is None else ["kamal"]
DEPLOYS = ("v2", "v3", "v2", "v3")
ROLLBACK_TO = "v2"
CONFIGS = {"readiness-1": "readiness_delay: 1\n", "example": ""}
GOALS = {"setup": 0.5, "deploy": 0.5, "rollback": 0.6}


@dataclass
class Timing:
    seconds: float
    commands: dict[str, int]  # SSH commands per host
    floor: float | None = None  # from backstaff's step timings (None for Kamal)


@dataclass
class Results:
    runs: dict[tuple[str, str], list[Timing]] = field(default_factory=dict)  # (tool, step)

    def add(self, tool: str, step: str, timing: Timing) -> None:
        self.runs.setdefault((tool, step), []).append(timing)

    def median(self, tool: str, step: str) -> float:
        return statistics.median(t.seconds for t in self.runs[(tool, step)])

    def floor(self, step: str) -> float:
        return statistics.median(t.floor or 0.0 for t in self.runs[("backstaff", step)])


def project(config: str, directory: Path) -> Path:
    """A copy of the example with the config's extra lines."""
    target = directory / config
    shutil.copytree(EXAMPLE, target)
    deploy = target / "config" / "deploy.yml"
    deploy.write_text(deploy.read_text() + CONFIGS[config])
    return target


def floor_of(events: list[dict[str, object]], primary_role: str) -> float:
    """The longest primary-role boot plus the longest boot of the other roles."""
    primary, others = [0.0], [0.0]
    for event in events:
        step = str(event.get("step", ""))
        if event.get("event") == "done" and step.startswith("app.boot."):
            role = step.removeprefix("app.boot.").split("[", 1)[0]
            (primary if role == primary_role else others).append(float(event["seconds"]))  # type: ignore[arg-type]
    return max(primary) + max(others)


def timed(bed: testbed.Testbed, cwd: Path, command: list[str], json_events: bool) -> Timing:
    env = {**testbed.kamal_env(Path(bed.state_dir)), "VERSION": "v1",
           "BACKSTAFF_KNOWN_HOSTS": f"{bed.state_dir}/bench_known_hosts"}  # fmt: skip
    before = bed.command_counts()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    after = bed.command_counts()
    floor = None
    if json_events:
        events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        floor = floor_of(events, "web")
    return Timing(elapsed, {h: after[h] - before[h] for h in after}, floor)


def commands(tool: str) -> list[tuple[str, list[str]]]:
    if tool == "kamal":
        steps = [("setup", KAMAL + ["setup", "-P", "--version=v1"])]
        steps += [("deploy", KAMAL + ["deploy", "-P", f"--version={v}"]) for v in DEPLOYS]
        return steps + [("rollback", KAMAL + ["rollback", ROLLBACK_TO])]
    events = ["--format", "json"]
    steps = [("setup", BACKSTAFF + ["--version", "v1", "setup", "-P", *events])]
    steps += [("deploy", BACKSTAFF + ["--version", v, "deploy", "-P", *events]) for v in DEPLOYS]
    return steps + [("rollback", BACKSTAFF + ["rollback", ROLLBACK_TO, *events])]


def run_config(bed: testbed.Testbed, cwd: Path, rounds: int) -> Results:
    results = Results()
    for round_ in range(rounds):
        # Kamal first in one round, backstaff first in the next: the machine's speed drifts.
        for tool in ("kamal", "backstaff") if round_ % 2 == 0 else ("backstaff", "kamal"):
            bed.reset()
            for step, command in commands(tool):
                results.add(tool, step, timed(bed, cwd, command, tool == "backstaff"))
    bed.reset()
    return results


def table(config: str, results: Results) -> str:
    header = ("step", "kamal s", "backstaff s", "ratio", "goal", "floor s", "backstaff - floor",
              "SSH cmds/host kamal | backstaff")  # fmt: skip
    rows = []
    for step in ("setup", "deploy", "rollback"):
        kamal, ours, floor = (results.median("kamal", step), results.median("backstaff", step),
                              results.floor(step))  # fmt: skip
        counts = " | ".join(
            ",".join(str(c) for _, c in sorted(results.runs[(tool, step)][-1].commands.items()))
            for tool in ("kamal", "backstaff")
        )
        if ours / kamal <= GOALS[step]:
            met = "met"
        elif GOALS[step] * kamal < floor:  # the goal is below the floor: the overhead counts
            met = f"below floor; overhead {'<=' if ours - floor <= 1 else '>'} 1 s"
        else:
            met = "not met"
        rows.append((step, f"{kamal:.2f}", f"{ours:.2f}", f"{ours / kamal:.2f}",
                     f"<= {GOALS[step]} ({met})", f"{floor:.2f}", f"{ours - floor:+.2f}", counts))  # fmt: skip
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    lines = [f"config {config}:"]
    for row in (header, *rows):
        lines.append("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--configs", default="readiness-1,example",
                        help="comma list of: " + ", ".join(CONFIGS))  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1, help="rounds of each tool's sequence")
    args = parser.parse_args()
    configs = [c for c in args.configs.split(",") if c]
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        raise SystemExit(f"unknown config {unknown[0]} (known: {', '.join(CONFIGS)})")
    compile_backstaff()
    load = os.getloadavg()
    bed = testbed.up(3)
    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        for config in configs:
            results = run_config(bed, project(config, Path(tmp)), args.rounds)
            tables.append(table(config, results))
            print(tables[-1], flush=True)
    print()
    print("SUMMARY (3 test-bed hosts, same run, same config; deploy = median of "
          f"{len(DEPLOYS) * args.rounds}, setup and rollback = median of {args.rounds};"
          " ratio = backstaff / kamal)")  # fmt: skip
    print("floor = longest primary-role boot + longest other-role boot (health check, then"
          " readiness delay), from backstaff's step timings; where the goal is below it, the"
          " goal becomes: backstaff's overhead above the floor <= 1 s")  # fmt: skip
    print(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
          f" (this machine: {os.cpu_count()} cores)")  # fmt: skip
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":
    sys.exit(main())
