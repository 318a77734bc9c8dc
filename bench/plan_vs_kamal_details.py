"""Benchmark: SSH commands per host and wall time of `backstaff plan`, next to `kamal details`.

Run as root (it brings up the 3-host test bed and deploys the example with the real Kamal 2.11
if nothing runs yet): ``python bench/plan_vs_kamal_details.py [--runs 5]``.
Prints one line per tool: median wall time and SSH commands per host per run (target for
plan: 1). Timings come from this machine; the command counts come from the hosts' sshd logs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from precompile import compile_backstaff  # noqa: E402

from tests import testbed  # noqa: E402

EXAMPLE = ROOT / "fixtures" / "example"


def measure(bed: testbed.Testbed, command: list[str], runs: int) -> tuple[float, dict[str, float]]:
    env = {
        **testbed.kamal_env(Path(bed.state_dir)),  # Kamal trusts the hosts' current keys
        "BACKSTAFF_KNOWN_HOSTS": f"{bed.state_dir}/bench_known_hosts",
        "VERSION": "v1",
    }
    times = []
    before = bed.command_counts()
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=EXAMPLE, capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 2):
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    after = bed.command_counts()
    return statistics.median(times), {h: (after[h] - before[h]) / runs for h in after}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    compile_backstaff()
    bed = testbed.up(3)
    if "tb-web-v1" not in bed.docker(bed.hosts[0], "ps", "--format", "{{.Names}}"):
        subprocess.run(["kamal", "setup", "-P", "--version=v1"], cwd=EXAMPLE, check=True,
                       capture_output=True, env=testbed.kamal_env(Path(bed.state_dir)))  # fmt: skip
    rows = [
        ("backstaff plan", [sys.executable, "-m", "backstaff", "plan", "--detailed-exitcode"]),
        ("kamal details", ["kamal", "details"]),
    ]
    results = {name: measure(bed, command, args.runs) for name, command in rows}
    print(f"{'tool':<16} {'median wall s':>13}  SSH commands per host per run")
    for name, (wall, counts) in results.items():
        per_host = " ".join(f"{h}={c:g}" for h, c in sorted(counts.items()))
        print(f"{name:<16} {wall:>13.2f}  {per_host}")
    ratio = results["backstaff plan"][0] / results["kamal details"][0]
    print(f"plan / details wall-time ratio: {ratio:.2f} ({args.runs} runs each, 3 hosts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
