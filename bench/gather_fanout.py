"""Benchmark: `backstaff plan` fanning out to 10, 50 and 200 hosts.

The hosts are SIMULATED (tests/testbed/simhosts.py): each is a network namespace with a real
sshd, but its `docker` is a recorded responder replaying a real host's outputs, so hundreds of
hosts fit on one machine. Their sshd and responder share this machine's 2 cores with the
client, which a real fleet would not. Run as root: ``python bench/gather_fanout.py [--runs 3]``.

Prints, per fleet size: the median wall time of the `backstaff plan` command, the gather
alone (in-process), SSH commands per host per plan (target 1), and the most connections
started at once against ``sshkit.max_concurrent_starts``; the CPU seconds of the plan process
and of everything else on the machine (the simulated hosts' sshd and scripts, which a real
fleet runs on its own machines); then the 200/10 wall-time ratio (target: at most 3).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backstaff.executors.config_files import load  # noqa: E402
from backstaff.executors.gather import ConnectionPool, gather  # noqa: E402
from backstaff.planner.desired import build_desired  # noqa: E402
from tests.testbed import simhosts  # noqa: E402

SIZES = (10, 50, 200)
CONFIG = """\
# Fan-out benchmark: {count} SIMULATED hosts (tests/testbed/simhosts.py).
service: tb
image: tb/app
servers:
  web:
{hosts}
builder:
  arch: amd64
registry:
  server: 10.254.0.2:5000
  username: tb
  password: [KAMAL_REGISTRY_PASSWORD]
ssh:
  user: root
  keys_only: true
  keys: [{key}]
sshkit:
  max_concurrent_starts: {starts}
proxy:
  app_port: 80
  healthcheck: {{path: /up, interval: 1, timeout: 3}}
env:
  clear: {{TB_GREETING: hello, TB_MODE: testbed}}
  secret: [SECRET_TOKEN]
"""


def write_project(directory: Path, hosts: list[simhosts.SimHost], starts: int) -> Path:
    (directory / "config").mkdir(parents=True, exist_ok=True)
    (directory / ".kamal").mkdir(exist_ok=True)
    (directory / ".kamal/secrets").write_text(
        f"KAMAL_REGISTRY_PASSWORD=unused\nSECRET_TOKEN={simhosts.SECRET_TOKEN}\n"
    )
    config = directory / "config/deploy.yml"
    config.write_text(
        CONFIG.format(
            count=len(hosts),
            hosts="\n".join(f"    - {h.address}" for h in hosts),
            key=simhosts.STATE / "ssh/id_ed25519",
            starts=starts,
        )
    )
    return config


def machine_cpu() -> float:
    """CPU seconds spent by the whole machine so far (user + nice + system), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    return sum(int(f) for f in fields[:3]) / os.sysconf("SC_CLK_TCK")


def plan_wall(
    directory: Path, hosts: list[simhosts.SimHost], runs: int
) -> tuple[float, set[float], float, float]:
    """Median wall time of the CLI, the SSH commands per host per run (as a set), and the CPU
    seconds per run of the CLI process and of everything else (the simulated hosts)."""
    command = [sys.executable, "-m", "backstaff", "--known-hosts",
               str(simhosts.STATE / "known_hosts"), "--no-trust-new-hosts", "--version", "v1",
               "plan", "--detailed-exitcode"]  # fmt: skip
    before = {h.name: h.commands_run() for h in hosts}
    times = []
    children, machine = _children_cpu(), machine_cpu()
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=directory, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:  # 0 = no changes: the simulated fleet runs v1 as configured
            raise SystemExit(
                f"plan exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
    client = (_children_cpu() - children) / runs
    everything = (machine_cpu() - machine) / runs
    per_host = {(h.commands_run() - before[h.name]) / runs for h in hosts}
    return statistics.median(times), per_host, client, everything - client


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def gather_in_process(config: Path, runs: int) -> tuple[float, int, int]:
    """Median gather time (fresh connections each run) and the peak of connection starts."""
    app = build_desired(load(config, None), "v1")
    times, peak = [], 0
    for _ in range(runs):
        pool = ConnectionPool(app.ssh, known_hosts=simhosts.STATE / "known_hosts",
                              trust_new_hosts=False)  # fmt: skip
        start = time.perf_counter()
        live = gather(app, app.all_hosts, pool)
        times.append(time.perf_counter() - start)
        pool.close()
        errors = [h for h in live.hosts if h.error]
        if errors:
            raise SystemExit(f"{errors[0].host}: {errors[0].error}")
        peak = max(peak, pool.peak_starts)
    return statistics.median(times), peak, app.ssh.max_concurrent_starts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="leave the simulated hosts up")
    args = parser.parse_args()
    all_hosts = simhosts.up(max(SIZES))
    walls: dict[int, float] = {}
    print("SIMULATED hosts (real sshd, recorded-responder docker); this machine's cores are")
    print("shared by the client and every simulated host.")
    print(f"{'hosts':>5} {'plan wall s':>11} {'client CPU s':>12} {'hosts CPU s':>11}"
          f" {'gather s':>9} {'SSH cmds/host':>13} {'peak starts':>11} {'bound':>5}")  # fmt: skip
    try:
        for size in SIZES:
            hosts = all_hosts[:size]
            with tempfile.TemporaryDirectory() as tmp:
                for starts in (30, 10):
                    config = write_project(Path(tmp), hosts, starts)
                    gathered, peak, bound = gather_in_process(config, args.runs)
                    if starts == 30:
                        walls[size], per_host, client, rest = plan_wall(Path(tmp), hosts, args.runs)
                        counts = ",".join(f"{c:g}" for c in sorted(per_host))
                        wall = f"{walls[size]:>11.2f} {client:>12.2f} {rest:>11.2f}"
                    else:
                        counts, wall = "", f"{'':>11} {'':>12} {'':>11}"
                    print(f"{size:>5} {wall} {gathered:>9.2f} {counts:>13} {peak:>11} {bound:>5}")
    finally:
        if not args.keep:
            simhosts.down()
    ratio = walls[max(SIZES)] / walls[min(SIZES)]
    print(f"plan wall time {max(SIZES)} hosts / {min(SIZES)} hosts: {ratio:.2f} (target <= 3;"
          f" median of {args.runs} runs)")  # fmt: skip
    return 0


if __name__ == "__main__":
    os.environ.pop("BACKSTAFF_KNOWN_HOSTS", None)
    sys.exit(main())
