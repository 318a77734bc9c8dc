"""Benchmark: setup, deploy and rollback with backstaff and with the real Kamal 2.11 on the
same 3-host test bed and the same config (fixtures/example). Prints wall times, the ratio
and SSH commands per host for each. Run as root: ``python bench/deploy_vs_kamal.py [--runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import testbed  # noqa: E402

EXAMPLE = ROOT / "fixtures" / "example"
BACKSTAFF = [sys.executable, "-m", "backstaff", "-q"]
STEPS = {
    "setup": (
        ["kamal", "setup", "-P", "--version=v1"],
        BACKSTAFF + ["--version", "v1", "setup", "-P"],
    ),
    "deploy": (
        ["kamal", "deploy", "-P", "--version=v2"],
        BACKSTAFF + ["--version", "v2", "deploy", "-P"],
    ),
    "rollback": (["kamal", "rollback", "v1"], BACKSTAFF + ["rollback", "v1"]),
}


def timed(bed: testbed.Testbed, command: list[str]) -> tuple[float, dict[str, int]]:
    env = {
        **os.environ,
        "VERSION": "v1",
        "BACKSTAFF_KNOWN_HOSTS": f"{bed.state_dir}/bench_known_hosts",
    }
    before = bed.command_counts()
    start = time.perf_counter()
    done = subprocess.run(command, cwd=EXAMPLE, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    after = bed.command_counts()
    return elapsed, {h: after[h] - before[h] for h in after}


def one_round(bed: testbed.Testbed, tool: int) -> dict[str, tuple[float, dict[str, int]]]:
    bed.reset()
    return {name: timed(bed, commands[tool]) for name, commands in STEPS.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bed = testbed.up(3)
    rounds: dict[str, list[dict[str, tuple[float, dict[str, int]]]]] = {
        "kamal": [],
        "backstaff": [],
    }
    for _ in range(args.runs):
        rounds["kamal"].append(one_round(bed, 0))
        rounds["backstaff"].append(one_round(bed, 1))
    bed.reset()
    print(
        f"{'step':<9} {'kamal s':>8} {'backstaff s':>12} {'ratio':>6}   SSH commands per host (kamal | backstaff)"
    )
    for step in STEPS:
        kamal = statistics.median(r[step][0] for r in rounds["kamal"])
        ours = statistics.median(r[step][0] for r in rounds["backstaff"])
        counts_k = " ".join(f"{h}={c}" for h, c in sorted(rounds["kamal"][-1][step][1].items()))
        counts_b = " ".join(f"{h}={c}" for h, c in sorted(rounds["backstaff"][-1][step][1].items()))
        print(
            f"{step:<9} {kamal:>8.2f} {ours:>12.2f} {ours / kamal:>6.2f}   {counts_k} | {counts_b}"
        )
    print(f"(median of {args.runs} runs each, 3 hosts; ratio = backstaff / kamal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
