"""A real test bed on this machine: N hosts, each a network namespace with its own sshd and dockerd.

Layout (all addresses are ours, in namespaces we create; nothing else is ever contacted):
- bridge ``bst0`` 10.254.0.1/24 in the root namespace, so tests reach the hosts directly;
- registry namespace ``bst-reg`` 10.254.0.2: Debian's docker-registry on :5000, htpasswd auth;
- host ``hN`` namespace ``bst-hN`` 10.254.0.(10+N): sshd (root, key auth, every command logged)
  and dockerd (Debian 20.10, vfs, no iptables), with private /run and /root (unshare);
- images from busybox-static via ``docker import``; kamal-proxy is a TEST DOUBLE (see files/).

Use from pytest (the ``testbed`` fixture) or the shell: ``python -m tests.testbed up 3``.
``down`` removes only what ``up`` made (recorded in the state directory).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.testbed import images

FILES = Path(__file__).parent / "files"
STATE = Path(os.environ.get("BACKSTAFF_TESTBED_DIR", "/tmp/bst"))
BRIDGE, BRIDGE_ADDRESS, PREFIX = "bst0", "10.254.0.1", 24
REGISTRY_NS, REGISTRY_ADDRESS, REGISTRY_PORT = "bst-reg", "10.254.0.2", 5000
REGISTRY_USER, REGISTRY_PASSWORD = "tb", "tbpass"
REQUIRED_TOOLS = ("ip", "unshare", "dockerd", "sshd", "docker-registry", "ssh-keygen", "htpasswd")


class TestbedError(Exception):
    __test__ = False  # not a pytest test class


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    namespace: str
    directory: str

    @property
    def docker_socket(self) -> str:
        return f"unix://{self.directory}/run/docker.sock"

    @property
    def command_log(self) -> Path:
        return Path(self.directory) / "commands.log"


@dataclass(frozen=True)
class Testbed:
    __test__ = False  # not a pytest test class
    hosts: tuple[Host, ...]
    registry: str
    registry_user: str
    registry_password: str
    ssh_key: str
    state_dir: str

    def docker(self, host: Host, *args: str, input: bytes | None = None) -> str:
        """Run the Debian docker client against a host's daemon (from the root namespace)."""
        done = subprocess.run(
            ["/usr/bin/docker", "-H", host.docker_socket, *args],
            input=input,
            capture_output=True,
            env={**os.environ, "DOCKER_CONFIG": f"{self.state_dir}/docker-client"},
            timeout=300,
        )
        if done.returncode != 0:
            raise TestbedError(
                f"docker {' '.join(args[:2])} on {host.name}: {done.stderr.decode()}"
            )
        return done.stdout.decode()

    def reset(self) -> None:
        """Back to fresh hosts: no containers, no kamal network or proxy state, no .kamal, no
        registry login (the images stay, as on a reused server)."""
        for host in self.hosts:
            ids = self.docker(host, "ps", "-aq").split()
            if ids:
                self.docker(host, "rm", "-f", *ids)
            if "kamal" in self.docker(host, "network", "ls", "--format", "{{.Name}}").split():
                self.docker(host, "network", "rm", "kamal")
            self.docker(host, "volume", "prune", "-f")
            home = Path(host.directory) / "root"
            for name in (".kamal", ".docker", "tb-cache"):
                shutil.rmtree(home / name, ignore_errors=True)

    # -- faults, for the reliability tests ----------------------------------------------

    def _pid_in(self, host: Host) -> int:
        """A long-lived process inside the host's namespaces (to nsenter into them): dockerd,
        else the listening sshd (not a short-lived session)."""
        pid_file = Path(host.directory) / "dockerd.pid"
        if pid_file.exists() and Path(f"/proc/{pid_file.read_text().strip()}").exists():
            return int(pid_file.read_text())
        for pid in _sh("ip", "netns", "pids", host.namespace).stdout.split():
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
                parent = Path(f"/proc/{pid}/stat").read_text().split()[3]
                parent_comm = Path(f"/proc/{parent}/comm").read_text().strip()
            except OSError:
                continue
            if comm == "sshd" and parent_comm != "sshd":
                return int(pid)
        raise TestbedError(f"no process left in {host.name}'s namespaces")

    def _nsenter(self, host: Host, *args: str, background: bool = False) -> None:
        command = ["nsenter", "-t", str(self._pid_in(host)), "-m", "-n", "-u", *args]
        if background:
            subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        else:
            _sh(*command)

    def _kill(self, host: Host, name: str) -> None:
        for pid in _sh("ip", "netns", "pids", host.namespace).stdout.split():
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                    os.kill(int(pid), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                continue

    def kill_sshd(self, host: Host) -> None:
        """Every sshd of the host dies: open connections drop, new ones are refused."""
        self._kill(host, "sshd")
        _wait_for(f"sshd gone on {host.name}", lambda: not _port_open(host.address, 22), 10)

    def start_sshd(self, host: Host) -> None:
        self._nsenter(host, "/usr/sbin/sshd", "-f", f"{host.directory}/sshd_config",
                      "-E", f"{host.directory}/sshd.log")  # fmt: skip
        _wait_for(f"sshd on {host.name}", lambda: _port_open(host.address, 22), 20)

    def stop_dockerd(self, host: Host) -> None:
        pid = int((Path(host.directory) / "dockerd.pid").read_text())
        os.kill(pid, signal.SIGTERM)
        _wait_for(f"dockerd to stop on {host.name}", lambda: not Path(f"/proc/{pid}").exists(), 60)

    def start_dockerd(self, host: Host) -> None:
        self._nsenter(host, "sh", str(FILES / "start_dockerd.sh"), host.directory)
        _wait_for(f"dockerd on {host.name}", lambda: _docker_ready(self, host))

    def fill_disk(self, host: Host, path: str) -> None:
        """Mount a full 16 KiB tmpfs at ``path`` (relative to root's home) on the host."""
        target = f"/root/{path}"
        self._nsenter(host, "sh", "-c", f"mkdir -p {target} && mount -t tmpfs -o size=16k tmpfs {target}"
                      f" && dd if=/dev/zero of={target}/filler bs=1k count=64 2>/dev/null; true")  # fmt: skip

    def free_disk(self, host: Host, path: str) -> None:
        self._nsenter(host, "umount", f"/root/{path}")

    def command_counts(self) -> dict[str, int]:
        """SSH commands each host has run so far (from the ForceCommand logs)."""
        return {
            h.name: sum(1 for line in _read_lines(h.command_log) if "\tSTART\t" in line)
            for h in self.hosts
        }

    def connection_counts(self) -> dict[str, int]:
        """SSH connections each host has accepted so far (from its sshd's log)."""
        return {
            h.name: sum(1 for line in _read_lines(Path(h.directory) / "sshd.log")
                        if line.startswith("Accepted publickey for "))
            for h in self.hosts
        }  # fmt: skip


def _read_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise TestbedError(f"{' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
    return done


def _link_exists(name: str) -> bool:
    return _sh("ip", "link", "show", name, check=False).returncode == 0


def _namespaces() -> set[str]:
    return {line.split()[0] for line in _sh("ip", "netns", "list").stdout.splitlines() if line}


def _attach(namespace: str, address: str, bridge: str = BRIDGE, prefix: int = PREFIX) -> None:
    """A namespace with a veth to the bridge, the address, and no default route."""
    if namespace not in _namespaces():
        _sh("ip", "netns", "add", namespace)
    if not _link_exists(namespace):
        _sh(
            "ip",
            "link",
            "add",
            namespace,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            namespace,
        )
        _sh("ip", "link", "set", namespace, "master", bridge, "up")
        _sh("ip", "-n", namespace, "addr", "add", f"{address}/{prefix}", "dev", "eth0")
        _sh("ip", "-n", namespace, "link", "set", "eth0", "up")
        _sh("ip", "-n", namespace, "link", "set", "lo", "up")


def _start(args: list[str], log: Path, pid_file: Path) -> None:
    with open(log, "ab") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    pid_file.write_text(str(process.pid))


def _wait_for(what: str, ready, timeout: float = 90.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise TestbedError(f"timed out waiting for {what}")


def _port_open(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


def _check_prerequisites() -> None:
    if os.geteuid() != 0:
        raise TestbedError("the test bed needs root (network namespaces, dockerd)")
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing or not Path("/usr/bin/docker").exists():
        raise TestbedError(
            f"missing {', '.join(missing or ['/usr/bin/docker'])}: install docker.io openssh-server"
            " docker-registry busybox-static iproute2 apache2-utils (see .ci/run)"
        )


def sshd_config(
    address: str,
    host_key: Path,
    authorized_keys: str,
    pid_file: str,
    force_command: str,
    max_startups: int = 200,
    sftp: bool = True,
) -> str:
    """An sshd_config for one test host: root by key only, every command through ``force_command``."""
    subsystem = "Subsystem sftp /usr/lib/openssh/sftp-server\n" if sftp else ""
    return f"""ListenAddress {address}
Port 22
HostKey {host_key}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AuthorizedKeysFile {authorized_keys}
PidFile {pid_file}
MaxStartups {max_startups}
MaxSessions {max_startups}
{subsystem}ForceCommand {force_command}
"""


def _start_registry(state: Path) -> str:
    reg = state / "registry"
    (reg / "data").mkdir(parents=True, exist_ok=True)
    _attach(REGISTRY_NS, REGISTRY_ADDRESS)
    htpasswd = _sh("htpasswd", "-Bbn", REGISTRY_USER, REGISTRY_PASSWORD).stdout
    (reg / "htpasswd").write_text(htpasswd)
    (reg / "config.yml").write_text(
        f"""version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {reg}/data
  delete:
    enabled: true
http:
  addr: {REGISTRY_ADDRESS}:{REGISTRY_PORT}
auth:
  htpasswd:
    realm: backstaff-testbed
    path: {reg}/htpasswd
"""
    )
    if not _port_open(REGISTRY_ADDRESS, REGISTRY_PORT):
        _start(
            [
                "ip",
                "netns",
                "exec",
                REGISTRY_NS,
                "docker-registry",
                "serve",
                str(reg / "config.yml"),
            ],
            reg / "registry.log",
            reg / "registry.pid",
        )
        _wait_for("the registry", lambda: _port_open(REGISTRY_ADDRESS, REGISTRY_PORT))
    return f"{REGISTRY_ADDRESS}:{REGISTRY_PORT}"


def _start_host(state: Path, index: int, public_key: str) -> Host:
    name, address = f"h{index}", f"10.254.0.{10 + index}"
    host = Host(name, address, f"bst-{name}", str(state / name))
    host_dir = Path(host.directory)
    for sub in ("run", "root/.ssh", "docker"):
        (host_dir / sub).mkdir(parents=True, exist_ok=True)
    (host_dir / "root/.ssh/authorized_keys").write_text(public_key)
    key = host_dir / "ssh_host_ed25519_key"
    if not key.exists():
        _sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key))
    shutil.copy(FILES / "ssh_command_logger.sh", host_dir / "ssh_command_logger.sh")
    (host_dir / "sshd_config").write_text(
        sshd_config(address, host_dir / "ssh_host_ed25519_key", "/root/.ssh/authorized_keys",
                    "/run/sshd.pid", f"{host_dir}/ssh_command_logger.sh {host_dir}/commands.log")
    )  # fmt: skip
    _attach(host.namespace, address)
    if not _port_open(address, 22):
        _start(
            ["ip", "netns", "exec", host.namespace, "unshare", "--mount", "--uts",
             "--propagation", "private", "sh", str(FILES / "host_init.sh"), str(host_dir), name,
             address],
            host_dir / "init.log",
            host_dir / "init.pid",
        )  # fmt: skip
    return host


def up(count: int = 3, state: Path = STATE) -> Testbed:
    """Bring up (or reuse) ``count`` hosts and the registry; returns their description."""
    _check_prerequisites()
    state.mkdir(parents=True, exist_ok=True)
    (state / "docker-client").mkdir(exist_ok=True)
    key = state / "ssh" / "id_ed25519"
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        _sh(
            "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "backstaff-testbed", "-f", str(key)
        )
    if not _link_exists(BRIDGE):
        _sh("ip", "link", "add", BRIDGE, "type", "bridge")
        _sh("ip", "addr", "add", f"{BRIDGE_ADDRESS}/{PREFIX}", "dev", BRIDGE)
        _sh("ip", "link", "set", BRIDGE, "up")
    registry = _start_registry(state)
    public_key = (key.parent / "id_ed25519.pub").read_text()
    hosts = tuple(_start_host(state, i, public_key) for i in range(1, count + 1))
    bed = Testbed(hosts, registry, REGISTRY_USER, REGISTRY_PASSWORD, str(key), str(state))
    for host in hosts:
        _wait_for(f"dockerd on {host.name}", lambda h=host: _docker_ready(bed, h))
        _wait_for(f"sshd on {host.name}", lambda h=host: _port_open(h.address, 22))
    _load_images(bed)
    (state / "testbed.json").write_text(json.dumps(asdict(bed), indent=2))
    return bed


def _docker_ready(bed: Testbed, host: Host) -> bool:
    try:
        bed.docker(host, "version", "--format", "{{.Server.Version}}")
        return True
    except (TestbedError, subprocess.TimeoutExpired):
        return False


def _load_images(bed: Testbed) -> None:
    marker = Path(bed.state_dir) / "images.done"
    for host in bed.hosts:
        labels = bed.docker(host, "image", "ls", "--filter", "label=backstaff.test-double",
                            "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")  # fmt: skip
        current = bed.docker(host, "image", "inspect", "--format",
                             '{{index .Config.Labels "backstaff.test-double-digest"}}',
                             images.PROXY_IMAGE) if labels.strip() else ""  # fmt: skip
        if current.strip() != images.proxy_double_digest():
            images.import_proxy_double(
                lambda *a, input=None, h=host: bed.docker(h, *a, input=input)
            )
    if marker.exists() and marker.read_text().strip() == images.files_digest():
        return
    first = bed.hosts[0]
    bed.docker(first, "login", bed.registry, "-u", bed.registry_user, "--password-stdin",
               input=bed.registry_password.encode())  # fmt: skip
    images.push_app_images(lambda *a, input=None: bed.docker(first, *a, input=input), bed.registry)
    marker.write_text(images.files_digest() + "\n")


def kamal_env(state: Path = STATE) -> dict[str, str]:
    """The environment to run the real Kamal in: this environment with HOME set to a directory
    of the test bed's, whose ``.ssh/known_hosts`` names the hosts' current keys. Kamal (net-ssh)
    trusts ``~/.ssh/known_hosts``; the hosts get new keys each time the test bed is brought up,
    so the user's file would hold stale ones after any earlier run and Kamal would refuse them
    (Net::SSH::HostKeyMismatch)."""
    bed = load(state)
    home = state / "kamal-home"
    (home / ".ssh").mkdir(parents=True, exist_ok=True)
    lines = []
    for host in bed.hosts if bed else ():
        kind, key = (Path(host.directory) / "ssh_host_ed25519_key.pub").read_text().split()[:2]
        lines.append(f"{host.address} {kind} {key}\n")
    (home / ".ssh" / "known_hosts").write_text("".join(lines))
    return {**os.environ, "HOME": str(home)}


def load(state: Path = STATE) -> Testbed | None:
    """The test bed described in the state directory, if one is up."""
    path = state / "testbed.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Testbed(**{**data, "hosts": tuple(Host(**h) for h in data["hosts"])})


def _kill_group(pid_file: Path) -> None:
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    pid_file.unlink()


def _kill_namespace(namespace: str) -> None:
    pids = _sh("ip", "netns", "pids", namespace, check=False).stdout.split()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(int(pid), sig)
            except ProcessLookupError:
                pass
        time.sleep(0.5)


def down(state: Path = STATE) -> None:
    """Stop and remove what ``up`` made: containers, daemons, namespaces, links, state."""
    bed = load(state)
    hosts = bed.hosts if bed else ()
    for host in hosts:
        try:
            ids = bed.docker(host, "ps", "-q").split() if bed else []  # type: ignore[union-attr]
            if ids and bed:
                bed.docker(host, "kill", *ids)
        except (TestbedError, subprocess.TimeoutExpired):
            pass
    namespaces = _namespaces()
    for ns in [h.namespace for h in hosts] + [REGISTRY_NS]:
        if ns in namespaces:
            _kill_namespace(ns)
            _sh("ip", "netns", "del", ns, check=False)
        if _link_exists(ns):
            _sh("ip", "link", "del", ns, check=False)
    for pid_file in list(state.glob("*/init.pid")) + [state / "registry" / "registry.pid"]:
        _kill_group(pid_file)
    if _link_exists(BRIDGE):
        _sh("ip", "link", "del", BRIDGE, check=False)
    if state.exists():
        shutil.rmtree(state, ignore_errors=True)
