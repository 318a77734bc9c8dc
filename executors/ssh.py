"""SSH to the hosts with paramiko: one connection per host, reused for every command of a run.

Host keys are checked against a known_hosts file. By default a host seen for the first time is
trusted and recorded (trust on first use); a host whose key changed is always refused.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from backstaff.planner.model import SshSettings

# paramiko logs its own view of a failed connection ("Exception (client): Error reading SSH
# protocol banner...") to stderr through Python's last-resort handler; the error each host
# reports says it in plain words instead. With -v the CLI attaches a handler and they show.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")
NewKeyCallback = Callable[[str, str], None]  # (host, "type SHA256:fingerprint")


class SshError(Exception):
    """A host could not be reached or refused us; the message names the host."""


@dataclass(frozen=True)
class Result:
    exit_status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


class _KnownHostsCache:
    """Each known_hosts file parsed once per process, not once per connection: with hundreds
    of hosts, re-reading the whole file for every connection made fan-out quadratic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[Path, tuple[tuple[int, int], paramiko.HostKeys]] = {}

    def keys_for(self, known_hosts: Path, name: str) -> dict[str, paramiko.PKey]:
        """The recorded keys of ``name`` (``host`` or ``[host]:port``), by key type."""
        with self._lock:
            keys = self._parsed(known_hosts)
            entry = keys.lookup(name)
            return dict(entry) if entry else {}

    def record(self, known_hosts: Path, name: str, key: paramiko.PKey) -> None:
        """Append a new host's key (never rewrite the file: other entries stay as they are)."""
        with self._lock:
            keys = self._parsed(known_hosts)
            known_hosts.parent.mkdir(parents=True, exist_ok=True)
            line = f"{name} {key.get_name()} {key.get_base64()}\n".encode()
            with open(known_hosts, "ab+") as handle:
                size = handle.seek(0, os.SEEK_END)
                if size and (handle.seek(size - 1) or handle.read(1) != b"\n"):
                    line = b"\n" + line
                handle.write(line)
            keys.add(name, key.get_name(), key)
            self._files[known_hosts] = (_signature(known_hosts), keys)

    def _parsed(self, known_hosts: Path) -> paramiko.HostKeys:
        signature = _signature(known_hosts)
        cached = self._files.get(known_hosts)
        if cached is None or cached[0] != signature:
            keys = paramiko.HostKeys()
            if known_hosts.exists():
                keys.load(str(known_hosts))
            cached = (signature, keys)
            self._files[known_hosts] = cached
        return cached[1]


def _signature(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, -1)
    return (stat.st_mtime_ns, stat.st_size)


KNOWN_HOSTS = _KnownHostsCache()


class _TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
    """Record a new host's key; paramiko itself refuses a key that differs from a recorded one."""

    def __init__(self, known_hosts: Path, on_new_key: NewKeyCallback | None) -> None:
        self.known_hosts = known_hosts
        self.on_new_key = on_new_key

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        KNOWN_HOSTS.record(self.known_hosts, hostname, key)
        if self.on_new_key:
            self.on_new_key(hostname, f"{key.get_name()} {fingerprint(key)}")


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class SshConnection:
    """One host's connection; ``run`` executes a command string in the login directory."""

    def __init__(
        self,
        host: str,
        settings: SshSettings,
        *,
        known_hosts: Path = DEFAULT_KNOWN_HOSTS,
        trust_new_hosts: bool = True,
        timeout: float = 30.0,
        key_data: tuple[str, ...] = (),
        on_new_key: NewKeyCallback | None = None,
    ) -> None:
        self.host = host
        self._on_new_key = on_new_key
        self._settings = settings
        self._known_hosts = known_hosts.expanduser()
        self._trust_new = trust_new_hosts
        self._timeout = timeout
        self._key_data = key_data
        self._client: paramiko.SSHClient | None = None
        self._jump: SshConnection | None = None

    def _sock(self) -> Any:
        """A jump host (``ssh.proxy``), a ``ssh.proxy_command``, or ssh config's ProxyCommand/
        ProxyJump when deploy.yml sets neither; None for a direct connection."""
        settings = self._settings
        options = _ssh_config_options(self.host, settings)
        port = settings.port
        jump = settings.proxy or (options.get("proxyjump") if not settings.proxy_command else None)
        if jump:
            user, _, address = jump.rpartition("@")
            jump_host, _, jump_port = address.partition(":")
            self._jump = SshConnection(
                jump_host,
                SshSettings(user=user or "root", port=int(jump_port or 22), keys=settings.keys,
                            keys_only=settings.keys_only, config=settings.config),
                known_hosts=self._known_hosts, trust_new_hosts=self._trust_new,
                timeout=self._timeout, key_data=self._key_data, on_new_key=self._on_new_key,
            )  # fmt: skip
            self._jump.connect()
            assert self._jump._client is not None
            transport = self._jump._client.get_transport()
            assert transport is not None
            return transport.open_channel("direct-tcpip", (self.host, port), ("127.0.0.1", 0))
        command = settings.proxy_command or options.get("proxycommand")
        if command:
            command = command.replace("%h", self.host).replace("%p", str(port))
            return paramiko.ProxyCommand(command.replace("%r", settings.user))
        return None

    def connect(self) -> None:
        client = paramiko.SSHClient()
        settings = self._settings
        name = self.host if settings.port == 22 else f"[{self.host}]:{settings.port}"
        for key_type, key in KNOWN_HOSTS.keys_for(self._known_hosts, name).items():
            client.get_host_keys().add(name, key_type, key)
        policy: paramiko.MissingHostKeyPolicy = (
            _TrustOnFirstUse(self._known_hosts, self._on_new_key)
            if self._trust_new
            else paramiko.RejectPolicy()
        )
        client.set_missing_host_key_policy(policy)
        key_files: Any = [str(Path(k).expanduser()) for k in settings.keys] or None
        try:
            sock = self._sock()
            client.connect(
                self.host,
                port=settings.port,
                username=settings.user,
                key_filename=key_files,  # paramiko accepts a list; its stubs say str
                pkey=_first_key(self._key_data),
                look_for_keys=not settings.keys_only,
                allow_agent=not settings.keys_only,
                timeout=self._timeout,
                banner_timeout=self._timeout,
                auth_timeout=self._timeout,
                sock=sock,
            )
        except paramiko.BadHostKeyException:
            client.close()
            raise SshError(
                f"{self.host}: host key changed (not the one recorded in {self._known_hosts})."
                " Refusing to connect: if the change is expected, remove the old key with"
                f" `ssh-keygen -R {self.host} -f {self._known_hosts}`"
            ) from None
        except (paramiko.SSHException, TimeoutError, EOFError, OSError) as exc:
            # "No existing session" only says the handshake thread died: its error is the cause.
            transport = client.get_transport()
            cause = getattr(transport, "saved_exception", None) if transport else None
            client.close()
            raise SshError(f"{self.host}: {self._describe(cause or exc)}") from None
        transport = client.get_transport()
        if transport is not None:
            transport.set_keepalive(30)
        self._client = client

    def _describe(self, exc: BaseException) -> str:
        """A failed connection in plain words: what the user can check or fix."""
        port = self._settings.port
        user = self._settings.user
        if isinstance(exc, paramiko.AuthenticationException):
            keys = ", ".join(self._settings.keys) or "the default keys and the agent"
            return f"authentication failed as user {user} (tried {keys})"
        if "not found in known_hosts" in str(exc):
            return (
                "unknown host key and new hosts are not trusted"
                f" (add it to {self._known_hosts} first)"
            )
        if isinstance(exc, paramiko.SSHException):
            text = str(exc)
            silent = "No existing session" in text  # start_client gave up waiting
            if silent or ("protocol banner" in text and "timed out" in text):
                return (
                    f"port {port} does not answer as an SSH server"
                    f" (no SSH banner within {self._timeout:g} s)"
                )
            if "protocol banner" in text or "Indecipherable protocol version" in text:
                return (
                    f"port {port} does not answer as an SSH server"
                    " (no SSH banner: another service may be listening there)"
                )
            if "Connection reset" in text:
                return "the host closed the connection during the SSH handshake"
            return f"SSH handshake failed: {text}"
        return f"cannot connect on port {port}: {_network_reason(exc, self._timeout)}"

    def run(self, command: str, timeout: float | None = None, stdin: str | None = None) -> Result:
        """Run ``command``; ``stdin`` (e.g. a registry password) never touches the command line."""
        client = self._connected()
        try:
            channel_in, stdout, stderr = client.exec_command(command, timeout=timeout)
            if stdin is not None:
                channel_in.write(stdin)
                channel_in.channel.shutdown_write()
            out = stdout.read().decode("utf-8", "replace")
            err = stderr.read().decode("utf-8", "replace")
            status = stdout.channel.recv_exit_status()
        except (TimeoutError, EOFError, paramiko.SSHException, OSError) as exc:
            raise SshError(f"{self.host}: connection lost: {exc}") from None
        if status == -1:  # the channel closed without an exit status: the connection died
            self.close()
            raise SshError(f"{self.host}: connection lost while running a command")
        return Result(status, out, err)

    def upload(self, path: str, content: bytes, mode: int) -> None:
        """Write a file over SFTP (relative paths are in the login directory), created with
        ``mode`` before any byte is written, so a secret is never world-readable."""
        client = self._connected()
        try:
            with client.open_sftp() as sftp:
                with sftp.open(path, "wb") as handle:
                    handle.chmod(mode)
                    handle.write(content)
                sftp.chmod(path, mode)
        except (EOFError, paramiko.SSHException, OSError) as exc:
            raise SshError(f"{self.host}: upload of {path} failed: {exc}") from None

    @property
    def connected(self) -> bool:
        return self._client is not None

    def _connected(self) -> paramiko.SSHClient:
        if self._client is None:
            self.connect()
        assert self._client is not None
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._jump is not None:
            self._jump.close()
            self._jump = None

    def __enter__(self) -> SshConnection:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _network_reason(exc: BaseException, timeout: float) -> str:
    """Why a TCP connection failed, from the socket error paramiko passed on."""
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        causes = list(exc.errors.values())
        exc = causes[0] if causes else exc
    if isinstance(exc, socket.gaierror):
        return "host name not found"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s (timed out)"
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return "connection refused (nothing listens on that port)"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the host"
    if isinstance(exc, EOFError):
        return "the host closed the connection"
    code = getattr(exc, "errno", None)
    if code in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "no route to host"
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return reason[0].lower() + reason[1:]


def _ssh_config_options(host: str, settings: SshSettings) -> dict[str, Any]:
    """What ssh config files say about ``host`` (``ssh.config``: true = ~/.ssh/config)."""
    if settings.config is False:
        return {}
    files = ["~/.ssh/config"] if settings.config is True else list(settings.config)
    config = paramiko.SSHConfig()
    for name in files:
        path = Path(name).expanduser()
        if path.is_file():
            with open(path, encoding="utf-8") as handle:
                config.parse(handle)
    return dict(config.lookup(host))


def _first_key(key_data: tuple[str, ...]) -> paramiko.PKey | None:
    for text in key_data:
        for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
            try:
                return key_class.from_private_key(io.StringIO(text))
            except (paramiko.SSHException, ValueError):
                continue
    return None
