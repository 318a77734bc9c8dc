"""The client-CPU floor under `backstaff plan`'s read of a fleet: the SSH work of the read alone,
on paramiko, and nothing else.

backstaff's SSH library is paramiko (the project's card), and paramiko handles each connection
in Python: the key exchange, the authentication, the channel and the packets. This script does
only that part of the read, the cheapest way backstaff knows: a fresh interpreter, paramiko
imported, then for every host one connection made as backstaff makes it (its socket, its
transport, its choice of cipher and key exchange; host key checked against known_hosts, key
authentication), the host's gather script run as one command and its whole answer read; the
same concurrency as backstaff (at most ``STARTS`` connections starting at once, at most 64
hosts at a time). No configuration is read, nothing is validated, parsed or planned.

``bench/gather_fanout.py`` runs it in the same run as `backstaff plan` and `kamal details`, in
turns with them, and reports backstaff's client CPU beside it. It prints nothing: its CPU is read
by the benchmark from its exit. Usage:
``python bench/paramiko_floor.py SCRIPTS.json KEY KNOWN_HOSTS USER STARTS``, where SCRIPTS.json
maps each host to the command to run there.
"""

from __future__ import annotations

import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

# paramiko imports ``invoke`` at start-up, for ssh_config's `Match exec` (about 40 ms); backstaff
# keeps it from doing so (executors/__init__.py), and so does the floor, before paramiko loads.
sys.modules.setdefault("invoke", None)  # type: ignore[arg-type]

import paramiko  # noqa: E402

# backstaff's SSH layer alone: these modules import paramiko and nothing else of backstaff's
from backstaff.executors import ssh_socket, ssh_transport  # noqa: E402
from backstaff.executors.ssh_options import cipher_order, kex_order  # noqa: E402


class KnownHostsOnly(paramiko.MissingHostKeyPolicy):
    """Accept a host's key only if known_hosts records that very key for it. The file is read
    once for the whole fleet (``SSHClient.load_host_keys`` would read it again per host)."""

    def __init__(self, host_keys: paramiko.HostKeys) -> None:
        self._host_keys = host_keys

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        recorded = self._host_keys.lookup(hostname)
        if recorded is None or recorded.get(key.get_name()) != key:
            raise paramiko.SSHException(f"{hostname}: host key not in known_hosts")


def main(scripts_file: str, key_file: str, known_hosts: str, user: str, starts: str) -> int:
    with open(scripts_file) as f:
        scripts: dict[str, str] = json.load(f)
    key = paramiko.Ed25519Key.from_private_key_file(key_file)
    policy = KnownHostsOnly(paramiko.HostKeys(known_hosts))
    starting = threading.BoundedSemaphore(int(starts))
    factory = ssh_transport.asking_for(cipher_order(None), kex_order(None))

    def read(host: str) -> int:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(policy)
        with starting:
            client.connect(host, username=user, pkey=key, allow_agent=False, look_for_keys=False,
                           sock=ssh_socket.tcp_connection(host, 22, 30.0),
                           transport_factory=factory)  # fmt: skip
        transport = client.get_transport()
        assert transport is not None
        ssh_transport.wake_idle_transport_less(transport)
        try:
            _, stdout, stderr = client.exec_command(scripts[host])
            size = len(stdout.read()) + len(stderr.read())
            if stdout.channel.recv_exit_status() != 0 or size == 0:
                raise SystemExit(f"{host}: the gather script failed")
            return size
        finally:
            ssh_transport.shut_down(transport)
            client.close()

    with ThreadPoolExecutor(max_workers=min(len(scripts), 64)) as executor:
        list(executor.map(read, scripts))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
