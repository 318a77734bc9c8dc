"""Lightweight SIMULATED hosts for the fan-out benchmark (bench/gather_fanout.py).

Each simulated host is a network namespace of its own with a real sshd (real key exchange,
real authentication, one real SSH session per command), but no dockerd: its ``docker`` is
``files/sim-docker``, a recorded responder that replays the outputs a real test-bed host gave
(``fixtures/live/deployed-v1``), with the recorded host's address replaced by its own. That is
what lets 200 hosts fit on one machine; it is a simulation and every output says so.

Layout (separate from the real test bed's 10.254.0.0/24): bridge ``bsf0`` 10.254.64.1/24 in
the root namespace, host ``sN`` in namespace ``bsf-sN`` at 10.254.64.(10+N), N = 1..240.
Use from the shell: ``python -m tests.testbed.simhosts up 200 | down``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from backstaff.planner.commands.app import env_file_content
from backstaff.planner.live import split_sections
from tests.testbed import (
    FILES,
    TestbedError,
    _attach,
    _link_exists,
    _namespaces,
    _port_open,
    _sh,
    sshd_config,
)
from tests.testbed import _wait_for as wait_for

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("BACKSTAFF_SIM_DIR", "/tmp/bsf"))
BRIDGE, BRIDGE_ADDRESS, PREFIX = "bsf0", "10.254.64.1", 24
RECORDED = ROOT / "fixtures" / "live" / "inspect-deployed-v1" / "10.254.0.11.txt"
RECORDED_ADDRESS = "10.254.0.11"
MAX_HOSTS = 240
# The secret the recorded containers were started with (the example's), in the simulated
# hosts' env files too, so that the simulated fleet plans no change.
SECRET_TOKEN = "s3cr3t-token-123"


@dataclass(frozen=True)
class SimHost:
    name: str
    address: str
    directory: Path

    @property
    def namespace(self) -> str:
        return f"bsf-{self.name}"

    def commands_run(self) -> int:
        log = self.directory / "commands.log"
        return log.read_text().count("START") if log.exists() else 0


def sim_host(index: int, state: Path = STATE) -> SimHost:
    return SimHost(f"s{index}", f"10.254.64.{10 + index}", state / f"s{index}")


def recorded_sections(address: str) -> dict[str, str]:
    """The recorded gather output, split by section, as if ``address`` had answered."""
    text = RECORDED.read_text().replace(RECORDED_ADDRESS, address)
    return {name: body + "\n" for name, body in split_sections(text).items()}


def _replies(address: str) -> dict[str, str]:
    """What each docker command of the gather script answers (see files/sim-docker): ``docker
    ps`` as docker prints it for the recorded containers (the reference each runs when docker
    still resolves it to the container's image, else the image id; the container's name), the
    inspect lines, the proxy's table; and the short ids Kamal's ``docker ps`` gets."""
    sections = recorded_sections(address)
    objects = [json.loads(line) for line in sections["inspect"].splitlines() if line.strip()]
    tags = {tag: o["Id"] for o in objects if "RepoTags" in o for tag in o["RepoTags"] or ()}
    containers = [o for o in objects if "State" in o]
    ps = ""
    for c in containers:
        reference = c["Config"]["Image"]
        image = reference if tags.get(reference) == c["Image"] else c["Image"]
        ps += f"{c['Id']} {image} {c['Name'].lstrip('/')}\n"
    return {
        "ps": ps,
        "ids-short": "".join(c["Id"][:12] + "\n" for c in containers),
        "inspect": sections["inspect"],
        "proxy": sections["proxy"],
    }


def _prepare(host: SimHost, host_key: Path) -> None:
    home = host.directory / "home"
    for sub in ("bin", "replies", "home/.docker", "home/.kamal/apps/tb/env/roles"):
        (host.directory / sub).mkdir(parents=True, exist_ok=True)
    for name, text in _replies(host.address).items():
        (host.directory / "replies" / name).write_text(text)
    shutil.copy(FILES / "sim-docker", host.directory / "bin" / "docker")
    (host.directory / "bin" / "docker").chmod(0o755)
    (home / ".docker/config.json").write_text('{"auths": {"10.254.0.2:5000": {}}}\n')
    env_file = home / ".kamal/apps/tb/env/roles/web.env"
    env_file.write_text(env_file_content((("SECRET_TOKEN", SECRET_TOKEN),)))
    env_file.chmod(0o600)
    (host.directory / "commands.log").write_text("")
    (host.directory / "sshd_config").write_text(
        sshd_config(host.address, host_key, f"{STATE}/ssh/authorized_keys",
                    f"{host.directory}/sshd.pid", f"sh {FILES}/sim_command.sh {host.directory}",
                    max_startups=100, sftp=False)
    )  # fmt: skip


def up(count: int, state: Path = STATE) -> list[SimHost]:
    """Bring up (or reuse) ``count`` simulated hosts; returns them."""
    if os.geteuid() != 0:
        raise TestbedError("simulated hosts need root (network namespaces)")
    if not 1 <= count <= MAX_HOSTS:
        raise TestbedError(f"between 1 and {MAX_HOSTS} simulated hosts")
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    ssh = state / "ssh"
    ssh.mkdir(parents=True, exist_ok=True)
    for key, comment in (("id_ed25519", "backstaff-sim"), ("ssh_host_ed25519_key", "sim-host")):
        if not (ssh / key).exists():
            _sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(ssh / key))
    (ssh / "authorized_keys").write_text((ssh / "id_ed25519.pub").read_text())
    host_key = (ssh / "ssh_host_ed25519_key.pub").read_text().split()
    if not _link_exists(BRIDGE):
        _sh("ip", "link", "add", BRIDGE, "type", "bridge")
        _sh("ip", "addr", "add", f"{BRIDGE_ADDRESS}/{PREFIX}", "dev", BRIDGE)
        _sh("ip", "link", "set", BRIDGE, "up")
    hosts = [sim_host(i, state) for i in range(1, count + 1)]
    for host in hosts:
        _prepare(host, ssh / "ssh_host_ed25519_key")
        _attach(host.namespace, host.address, BRIDGE, PREFIX)
        if not _port_open(host.address, 22):
            # A private /root (the host's home), as on the real test-bed hosts: the login shell
            # must not read this machine's own ~/.bashrc on every command.
            _sh("ip", "netns", "exec", host.namespace, "unshare", "--mount", "--propagation",
                "private", "sh", "-c", 'mount --bind "$1" /root && exec /usr/sbin/sshd -f "$2" -E "$3"',
                "sim", str(host.directory / "home"), str(host.directory / "sshd_config"),
                str(host.directory / "sshd.log"))  # fmt: skip
    for host in hosts:
        wait_for(f"sshd on simulated host {host.name}", lambda h=host: _port_open(h.address, 22))
    (state / "known_hosts").write_text(
        "".join(f"{h.address} {host_key[0]} {host_key[1]}\n" for h in hosts)
    )
    return hosts


def down(state: Path = STATE) -> None:
    """Stop every simulated host's sshd and remove namespaces, links and the state directory."""
    namespaces = _namespaces()
    for pid_file in state.glob("s*/sshd.pid"):
        try:
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        except (ProcessLookupError, ValueError):
            pass
    links = {
        line.split(":")[1].strip().split("@")[0]
        for line in _sh("ip", "-o", "link").stdout.splitlines()
    }
    for index in range(1, MAX_HOSTS + 1):
        namespace = sim_host(index, state).namespace
        if namespace in namespaces:
            _sh("ip", "netns", "del", namespace, check=False)
        if namespace in links:
            _sh("ip", "link", "del", namespace, check=False)
    if _link_exists(BRIDGE):
        _sh("ip", "link", "del", BRIDGE, check=False)
    shutil.rmtree(state, ignore_errors=True)


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["up"]:
            hosts = up(int(argv[1]) if len(argv) > 1 else 10)
            print(f"{len(hosts)} SIMULATED hosts up: {hosts[0].address} .. {hosts[-1].address}")
        elif argv[:1] == ["down"]:
            down()
            print("simulated hosts removed")
        else:
            print("usage: python -m tests.testbed.simhosts up [N] | down", file=sys.stderr)
            return 2
    except TestbedError as exc:
        print(f"simulated hosts: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
