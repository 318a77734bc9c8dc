"""SSH to the hosts with paramiko: one connection per host, reused for every command of a run.

Host keys are checked against a known_hosts file read as OpenSSH reads it (known_hosts.py:
patterns, negations, [host]:port, hashed names, @revoked, @cert-authority). By default a host no
line covers is trusted and recorded (trust on first use); a host whose key changed, a revoked key
and a host vouched for only by a certificate authority are always refused.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import logging
import os
import shlex
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from backstaff.executors import (
    port_forward,
    ssh_channel,
    ssh_client,
    ssh_config,
    ssh_idle,
    ssh_transport,
)
from backstaff.executors.known_hosts import (
    Entry,
    HostKeys,
    KnownHostsError,
    KnownHostsFile,
    Verdict,
    host_name,
    normalize,
)
from backstaff.executors.ssh_config import HostOptions
from backstaff.executors.ssh_options import (
    PREFERRED,
    agent_keys,
    cipher_order,
    configure_logging,
    disabled_algorithms,
    dns_message,
    dns_retry_delay,
    is_dns_error,
    kex_names,
    kex_order,
    nothing_left,
    private_keys,
)
from backstaff.executors.ssh_socket import tcp_connection
from backstaff.planner.model import SshSettings
from backstaff.schemas import host_strings

# paramiko logs its own view of a failed connection ("Exception (client): Error reading SSH
# protocol banner...") to stderr through Python's last-resort handler; the error each host
# reports says it in plain words instead. With -v the CLI attaches a handler and they show.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

DEFAULT_KNOWN_HOSTS = Path("~/.ssh/known_hosts")
NewKeyCallback = Callable[[str, str], None]  # (host, "type SHA256:fingerprint")


# The ssh config's option for each kind of algorithm paramiko's disabled_algorithms takes.
_CONFIG_OPTION = {"ciphers": "Ciphers", "macs": "MACs", "keys": "HostKeyAlgorithms",
                  "kex": "KexAlgorithms"}  # fmt: skip


class SshError(Exception):
    """A host could not be reached or refused us; the message names the host."""


def stopped(host: str) -> SshError:
    """What a host whose command never started says once its run was stopped (Ctrl-C)."""
    return SshError(f"{host}: not run: the command was stopped")


class CommandKilled(SshError):
    """The command ended on the host without an exit status (a signal killed it); the
    connection is still up, so the step's cleanup can run."""


@dataclass(frozen=True)
class Result:
    """A command's exit status and output."""

    exit_status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


class _KnownHostsCache:
    """Each known_hosts file parsed once per process, not once per connection: with hundreds
    of hosts, re-reading the whole file for every connection made fan-out quadratic. It is read
    again when its size or modification time changes (someone else wrote to it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[Path, tuple[tuple[int, int], KnownHostsFile]] = {}

    def lookup(self, known_hosts: Path, name: str) -> HostKeys:
        """The lines covering ``name`` (``host`` or ``[host]:port``), as OpenSSH matches them."""
        with self._lock:
            return self._parsed(known_hosts).lookup(name)

    def check(
        self, known_hosts: Path, name: str, key: paramiko.PKey, *, record_new: bool
    ) -> tuple[Verdict, HostKeys]:
        """What the file says of ``key`` for ``name``; a new host's key is appended when
        ``record_new`` (under the lock, so that concurrent connections record it once)."""
        with self._lock:
            parsed = self._parsed(known_hosts)
            found = parsed.lookup(name)
            verdict = found.verdict(key)
            if verdict is Verdict.NEW and record_new:
                self._append(known_hosts, parsed, normalize(name), key)
            return verdict, found

    def record(self, known_hosts: Path, name: str, key: paramiko.PKey) -> None:
        """Append a new host's key (never rewrite the file: other entries stay as they are)."""
        with self._lock:
            self._append(known_hosts, self._parsed(known_hosts), name, key)

    def _append(
        self, known_hosts: Path, parsed: KnownHostsFile, name: str, key: paramiko.PKey
    ) -> None:
        line = f"{name} {key.get_name()} {key.get_base64()}\n".encode()
        try:
            _make_private_dirs(known_hosts.parent)
            # A new file is private (0600); an existing one keeps its mode.
            fd = os.open(known_hosts, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            with open(fd, "ab+") as handle:
                size = handle.seek(0, os.SEEK_END)
                if size:
                    handle.seek(size - 1)
                    if handle.read(1) != b"\n":  # finish someone's last line first
                        line = b"\n" + line
                handle.write(line)
        except OSError as exc:
            raise KnownHostsError(
                f"cannot record the host key in {known_hosts}: {exc.strerror or exc}"
            ) from None
        cached = self._files.get(known_hosts)
        if cached is not None and cached[0][1] == size:  # nobody else wrote since it was read
            parsed.add(Entry(parsed.lines + 1, "", name, key.get_name(), key.asbytes()))
            self._files[known_hosts] = (_signature(known_hosts), parsed)
        else:
            self._files.pop(known_hosts, None)  # read it again next time

    def _parsed(self, known_hosts: Path) -> KnownHostsFile:
        signature = _signature(known_hosts)
        cached = self._files.get(known_hosts)
        if cached is None or cached[0] != signature:
            try:
                text = known_hosts.read_bytes().decode("latin-1")  # bytes as OpenSSH sees them
            except (FileNotFoundError, NotADirectoryError):
                text = ""
            except OSError as exc:
                raise KnownHostsError(f"cannot read {known_hosts}: {exc.strerror or exc}") from None
            cached = (signature, KnownHostsFile.parse(text))
            self._files[known_hosts] = cached
        return cached[1]


def _make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents 0700, as ssh creates ~/.ssh; a directory
    that exists is left as it is."""
    missing: list[Path] = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass


def _signature(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, -1)
    return (stat.st_mtime_ns, stat.st_size)


KNOWN_HOSTS = _KnownHostsCache()


class HostKeyRefused(paramiko.SSHException):
    """The host's key is refused; the message says why and what to do."""


class _KnownHostsPolicy(paramiko.MissingHostKeyPolicy):
    """Every host key is judged here against known_hosts as OpenSSH would (paramiko is given no
    keys of its own: it knows neither patterns, hashed names with lists, @revoked nor
    @cert-authority). A host no line covers is recorded when new hosts are trusted (trust on
    first use) and refused otherwise; a changed, revoked or certificate-only host is refused."""

    def __init__(
        self,
        known_hosts: Path,
        host: str,
        trust_new: bool,
        on_new_key: NewKeyCallback | None,
        *,
        name: str | None = None,
        verify: bool = True,
    ) -> None:
        self.known_hosts = known_hosts
        self.host = host
        self.trust_new = trust_new
        self.on_new_key = on_new_key
        self.name = name  # an ssh config's HostKeyAlias: the name known_hosts records
        self.verify = verify  # False: StrictHostKeyChecking no (net-ssh's :never)

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        if not self.verify:
            return
        hostname = self.name or hostname
        try:
            verdict, found = KNOWN_HOSTS.check(
                self.known_hosts, hostname, key, record_new=self.trust_new
            )
        except KnownHostsError as exc:
            raise HostKeyRefused(str(exc)) from None
        if verdict is Verdict.KNOWN:
            return
        if verdict is Verdict.NEW and self.trust_new:
            if self.on_new_key:
                self.on_new_key(hostname, f"{key.get_name()} {fingerprint(key)}")
            return
        raise HostKeyRefused(_refusal(self.known_hosts, self.host, verdict, found, key))


def _refusal(
    known_hosts: Path, host: str, verdict: Verdict, found: HostKeys, key: paramiko.PKey
) -> str:
    """Why a host key is refused, in plain words, and what to do about it."""
    presented = f"{key.get_name()} {fingerprint(key)}"
    if verdict is Verdict.REVOKED:
        lines = _lines(found.revoked)
        return (
            f"host key {presented} is revoked (@revoked at {lines} of {known_hosts})."
            " Refusing to connect"
        )
    if verdict is Verdict.CHANGED:
        lines = _lines(found.known)
        if any(entry.is_pattern for entry in found.known):
            fix = f"correct {lines} of {known_hosts} (a pattern that covers other hosts too)"
        else:
            fix = f"remove the old key with `ssh-keygen -R {shlex.quote(found.name)} -f {known_hosts}`"
        return (
            f"host key changed (not the one recorded in {known_hosts}, {lines}; it presents"
            f" {presented}). Refusing to connect: if the change is expected, {fix}"
        )
    if verdict is Verdict.CERTIFICATES_ONLY:
        lines = _lines(found.authorities)
        return (
            f"{known_hosts} trusts only a certificate authority for this host"
            f" (@cert-authority at {lines}), and backstaff cannot check host certificates."
            f" Refusing to connect: add the host's own key ({presented}) to {known_hosts}"
            " once you have checked it"
        )
    return f"unknown host key and new hosts are not trusted (add it to {known_hosts} first)"


def _lines(entries: tuple[Entry, ...]) -> str:
    numbers = [str(entry.line) for entry in entries]
    return ("line " if len(numbers) == 1 else "lines ") + ", ".join(numbers)


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class _DnsFailure(Exception):
    """A host name did not resolve: retried as ``sshkit.dns_retries`` says."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class SshConnection:
    """One host's connection; ``run`` executes a command string in the login directory.

    Settings come from deploy.yml's ``ssh`` first, then the ssh config files (``ssh.config``),
    as net-ssh merges them under Kamal: Kamal always passes user and port, so the files'
    ``User`` and ``Port`` never apply; their ``IdentityFile``, ``IdentitiesOnly`` and proxy only
    when deploy.yml sets no ``keys``, ``keys_only`` or proxy."""

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
        jumps: int = 0,
    ) -> None:
        self.host = host
        self._on_new_key = on_new_key
        self._settings = settings
        self._known_hosts = known_hosts.expanduser()
        self._trust_new = trust_new_hosts
        self._timeout = timeout
        self._key_data = key_data
        self._jumps = jumps
        self._client: paramiko.SSHClient | None = None
        self._jump: SshConnection | None = None
        self._options: HostOptions | None = None
        self._environment: dict[str, str] = {}
        self._use_lock = threading.RLock()
        self._busy = 0
        self._pinned = False  # an interactive session holds it: never closed as idle
        self._stopped = False  # the run it served is over: it connects no more
        self._last_used = 0.0
        configure_logging(settings.log_level)
        ssh_idle.watch(self)

    @property
    def user(self) -> str:
        """Who logs in: the host string's ``user@`` (net-ssh takes SSHKit's over ``ssh/user``),
        else ``ssh/user``."""
        try:
            return host_strings.parse_host(self.host).user or self._settings.user
        except ValueError:
            return self._settings.user

    def host_options(self) -> HostOptions:
        """What the ssh config files say of this host (read once)."""
        if self._options is None:
            self._options = ssh_config.lookup(
                host_strings.hostname(self.host), ssh_config.config_files(self._settings.config)
            )
        return self._options

    def _sock(self, address: str, timeout: float) -> Any:
        """A jump host (``ssh.proxy``), a ``ssh.proxy_command``, or ssh config's ProxyCommand/
        ProxyJump when deploy.yml sets neither; a socket from the config's ``BindAddress``;
        else a direct TCP connection (``tcp_connection``)."""
        settings = self._settings
        options = self.host_options()
        port = settings.port
        configured = None if settings.proxy or settings.proxy_command else options.proxy
        jump = settings.proxy or (
            configured[1] if configured and configured[0] == "proxyjump" else None
        )
        if jump:
            if self._jumps >= 8:
                raise SshError(f"{self.host}: more than 8 jump hosts (a ProxyJump loop?)")
            before, _, last = jump.rpartition(",")  # ProxyJump a,b: through a, then b
            user, _, jump_address = last.strip().rpartition("@")
            jump_host, _, jump_port = jump_address.partition(":")
            self._jump = SshConnection(
                jump_host,
                SshSettings(user=user or "root", port=int(jump_port or 22), keys=settings.keys,
                            keys_only=settings.keys_only, config=settings.config,
                            proxy=before.strip() or None, dns_retries=settings.dns_retries,
                            pool_idle_timeout=settings.pool_idle_timeout),
                known_hosts=self._known_hosts, trust_new_hosts=self._trust_new,
                timeout=self._timeout, key_data=self._key_data, on_new_key=self._on_new_key,
                jumps=self._jumps + 1,
            )  # fmt: skip
            self._jump.connect()
            self._jump._pinned = True  # it carries this connection: closed with it, never alone
            assert self._jump._client is not None
            transport = self._jump._client.get_transport()
            assert transport is not None
            return transport.open_channel("direct-tcpip", (address, port), ("127.0.0.1", 0))
        command = settings.proxy_command or (configured[1] if configured else None)
        if command:
            command = command.replace("%h", address).replace("%p", str(port))
            return paramiko.ProxyCommand(command.replace("%r", self.user))
        return tcp_connection(address, port, timeout, options.bind_address)

    def connect(self) -> None:
        """Connect; a name that does not resolve is retried ``sshkit.dns_retries`` times with
        SSHKit's backoff, each retry announced on stderr as SSHKit announces it."""
        attempts = 0
        while True:
            try:
                with self._use_lock:
                    self._connect_once()
                return
            except _DnsFailure as failure:
                attempts += 1
                retries = self._settings.dns_retries
                if attempts > retries:
                    raise SshError(f"{self.host}: {self._describe(failure.cause)}") from None
                delay = dns_retry_delay(attempts)
                print(f"Retrying DNS for {self.host} (attempt {attempts}/{retries}) in"
                      f" {delay:.2f}s: {dns_message(failure.cause)}", file=sys.stderr)  # fmt: skip
                time.sleep(delay)

    def _connect_once(self) -> None:
        if self._client is not None:
            return
        settings, options = self._settings, self.host_options()
        if "publickey" not in options.auth_methods:
            raise SshError(
                f"{self.host}: the ssh config turns public key authentication off for this host"
                " (PubkeyAuthentication/PreferredAuthentications); backstaff authenticates"
                " with keys only"
            )
        try:
            hostname = host_strings.parse_host(self.host).hostname
        except ValueError as exc:
            raise SshError(f"{self.host}: {exc}") from None
        address = options.host_name or hostname
        known_hosts = self._known_hosts
        if known_hosts == DEFAULT_KNOWN_HOSTS.expanduser() and options.user_known_hosts_files:
            known_hosts = Path(options.user_known_hosts_files[0]).expanduser()
        verify = options.verify_host_key != "never"
        name = host_name(options.host_key_alias or address, settings.port)
        client = ssh_client.SSHClient()
        try:
            recorded = KNOWN_HOSTS.lookup(known_hosts, name)
        except KnownHostsError as exc:
            raise SshError(f"{self.host}: {exc}") from None
        client.set_missing_host_key_policy(
            _KnownHostsPolicy(
                known_hosts, self.host, self._trust_new and options.verify_host_key != "always",
                self._on_new_key, name=name if options.host_key_alias else None, verify=verify,
            )
        )  # fmt: skip
        # Ask for a key of a type known_hosts records for the host, as ssh does.
        disabled = recorded.disabled_algorithms() if verify else []
        kex = kex_names(options.kex_algorithms)
        listed = {"ciphers": options.ciphers, "macs": options.macs,
                  "keys": options.host_key_algorithms, "kex": kex}  # fmt: skip
        for kind, names in listed.items():
            if nothing_left(kind, names):
                raise SshError(
                    f"{self.host}: the ssh config's {_CONFIG_OPTION[kind]} ({','.join(names or ())})"
                    f" names none that paramiko, backstaff's SSH library, supports:"
                    f" {','.join(PREFERRED[kind])}"
                )
        disabled_all = {
            kind: disabled_algorithms(kind, names, PREFERRED[kind])
            for kind, names in listed.items()
        }
        disabled_all["keys"] = sorted(set(disabled) | set(disabled_all["keys"]))
        keys_only = settings.keys_only if settings.keys_only is not None else options.keys_only
        files = [str(Path(k).expanduser()) for k in settings.keys or options.keys]
        key_files: Any = [f for f in files if Path(f).is_file()] or None  # net-ssh skips missing
        agent = options.identity_agent
        data = private_keys(self._key_data)
        extra = list(data[1:])
        if agent and agent not in ("none", "SSH_AUTH_SOCK") and not keys_only:
            extra += agent_keys(str(Path(os.path.expandvars(agent)).expanduser()))
        timeout = options.timeout or self._timeout
        try:
            sock = self._sock(address, timeout)
            try:
                client.connect(
                    address,
                    port=settings.port,
                    username=self.user,
                    key_filename=key_files,  # paramiko accepts a list; its stubs say str
                    pkey=data[0] if data else None,
                    look_for_keys=not keys_only,
                    allow_agent=not keys_only and agent in (None, "SSH_AUTH_SOCK"),
                    timeout=timeout,
                    banner_timeout=timeout,
                    auth_timeout=timeout,
                    sock=sock,
                    disabled_algorithms={k: v for k, v in disabled_all.items() if v} or None,
                    compress=options.compression,
                    transport_factory=ssh_transport.asking_for(
                        cipher_order(options.ciphers), kex_order(kex)
                    ),
                )
            except paramiko.SSHException:
                if not _authenticate(client, self.user, extra):
                    raise
        except HostKeyRefused as exc:
            client.close()
            raise SshError(f"{self.host}: {exc}") from None
        except (paramiko.SSHException, TimeoutError, EOFError, OSError) as exc:
            # "No existing session" only says the handshake thread died: its error is the cause.
            transport = client.get_transport()
            cause = getattr(transport, "saved_exception", None) if transport else None
            client.close()
            if is_dns_error(cause or exc):
                raise _DnsFailure(cause or exc) from None
            if disabled and "no acceptable host key" in str(cause or exc):
                types = ", ".join(sorted({entry.key_type for entry in recorded.known}))
                raise SshError(
                    f"{self.host}: host key changed: it offers none of the key types recorded"
                    f" for it in {known_hosts} ({types}, {_lines(recorded.known)})."
                    " Refusing to connect"
                ) from None
            raise SshError(f"{self.host}: {self._describe(cause or exc)}") from None
        transport = client.get_transport()
        if transport is not None:
            transport.set_keepalive(30)
            ssh_transport.wake_idle_transport_less(transport)
        self._environment = {
            **ssh_config.send_env(options.send_env, os.environ),
            **options.set_env,
        }
        self._client = client
        self._last_used = time.monotonic()
        if self._stopped:  # stopped while it connected (after the flag: stop() closes it)
            self.close()
            raise stopped(self.host)

    def _describe(self, exc: BaseException) -> str:
        """A failed connection in plain words: what the user can check or fix."""
        port = self._settings.port
        user = self.user
        if isinstance(exc, paramiko.AuthenticationException):
            tried = list(self._settings.keys or self.host_options().keys)
            if self._key_data:
                tried.append(f"{len(self._key_data)} key(s) of ssh.key_data")
            keys = ", ".join(tried) or "the default keys and the agent"
            return f"authentication failed as user {user} (tried {keys})"
        if "not found in known_hosts" in str(exc):
            return (
                "unknown host key and new hosts are not trusted"
                f" (add it to {self._known_hosts} first)"
            )
        if isinstance(exc, paramiko.SSHException):
            text = str(exc)
            if "No authentication methods available" in text:
                return (
                    f"authentication failed as user {user} (no key to try: none in ssh.keys,"
                    " ssh.key_data or the ssh config's IdentityFile, no default key, no agent)"
                )
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

    @contextmanager
    def _use(self) -> Iterator[paramiko.SSHClient]:
        """The connection for one use: a new one when the last was idle past
        ``sshkit.pool_idle_timeout``, closed after the use when the timeout is 0 (no reuse)."""
        with self._use_lock:
            if self._client is not None and self._idle(time.monotonic()):
                self.close()
            client = self._connected()
            self._busy += 1
        try:
            yield client
        finally:
            with self._use_lock:
                self._busy -= 1
                self._last_used = time.monotonic()
                if self._settings.pool_idle_timeout <= 0 and not self._busy and not self._pinned:
                    self.close()

    def _idle(self, now: float) -> bool:
        timeout = self._settings.pool_idle_timeout
        return (
            timeout > 0 and not self._busy and not self._pinned and now - self._last_used > timeout
        )

    def close_if_idle(self, now: float) -> None:
        """Called by the idle reaper (executors/ssh_idle.py)."""
        if not self._use_lock.acquire(blocking=False):
            return  # connecting or in use right now
        try:
            if self._client is not None and self._idle(now):
                self.close()
        finally:
            self._use_lock.release()

    def run(self, command: str, timeout: float | None = None, stdin: str | None = None) -> Result:
        """Run ``command``; ``stdin`` (e.g. a registry password) never touches the command line."""
        with self._use() as client:
            try:
                channel_in, stdout, stderr = client.exec_command(
                    command, timeout=timeout, environment=self._environment or None
                )
                if stdin is not None:
                    channel_in.write(stdin)
                    channel_in.channel.shutdown_write()
                out = stdout.read().decode("utf-8", "replace")
                err = stderr.read().decode("utf-8", "replace")
                status = stdout.channel.recv_exit_status()
            except (TimeoutError, EOFError, paramiko.SSHException, OSError) as exc:
                raise SshError(f"{self.host}: connection lost: {exc}") from None
        if status == -1:
            self._no_exit_status(stdout.channel)
        return Result(status, out, err)

    def _no_exit_status(self, channel: paramiko.Channel) -> None:
        """The channel closed without an exit status: a signal killed the command (the
        connection stays), or the connection died (closed here, the next use connects again)."""
        message, lost = ssh_channel.no_exit_status(self.host, channel)
        if not lost:
            raise CommandKilled(message)
        with self._use_lock:
            self.close()
        raise SshError(message)

    def stream(self, command: str, on_output: Callable[[bytes], None]) -> int:
        """Run ``command`` in a pseudo-terminal (as ``ssh -t`` does) and hand its output to
        ``on_output`` as it arrives, until it ends; its exit status. The terminal keeps the
        remote pipeline line-buffered, and ties it to this channel: on KeyboardInterrupt the
        terminal gets a Ctrl-C, the channel is closed, and the host hangs the terminal up, so
        nothing (a ``docker logs --follow``) is left running there. Output arrives as the
        terminal writes it (``\\r\\n`` line ends, stderr joined to stdout)."""
        channel = self.open_session()
        try:
            channel.get_pty(term="dumb", width=1000)
            channel.exec_command(command)
            channel.settimeout(0.5)  # wake up now and then, so Ctrl-C is handled at once
            while True:
                try:
                    data = channel.recv(32768)
                except TimeoutError:
                    continue
                if not data:
                    break
                on_output(data)
            status = channel.recv_exit_status()
        except KeyboardInterrupt:
            _hang_up(channel)
            raise
        except (EOFError, paramiko.SSHException, OSError) as exc:
            channel.close()
            raise SshError(f"{self.host}: connection lost: {exc}") from None
        channel.close()
        if status == -1:
            self._no_exit_status(channel)
        return status

    def upload(self, path: str, content: bytes, mode: int) -> None:
        """Write a file over SFTP (relative paths are in the login directory), created with
        ``mode`` before any byte is written, so a secret is never world-readable."""
        with self._use() as client:
            self._upload(client, path, content, mode)

    def _upload(self, client: paramiko.SSHClient, path: str, content: bytes, mode: int) -> None:
        try:
            with client.open_sftp() as sftp:
                with sftp.open(path, "wb") as handle:
                    handle.chmod(mode)
                    handle.write(content)
                sftp.chmod(path, mode)
        except (EOFError, paramiko.SSHException, OSError) as exc:
            raise SshError(f"{self.host}: upload of {path} failed: {exc}") from None

    def open_session(self) -> paramiko.Channel:
        """A new session channel on this connection (an interactive command's: the caller
        asks for a pty and runs the command; executors/interactive.py)."""
        with self._use_lock:
            self._pinned = True  # the caller holds the session: never closed as idle
            transport = self._connected().get_transport()
        try:
            if transport is None or not transport.is_active():
                raise paramiko.SSHException("the connection is closed")
            channel = transport.open_session(timeout=self._timeout)
            if self._environment:
                channel.update_environment(self._environment)
            return channel
        except (EOFError, paramiko.SSHException, OSError) as exc:
            raise SshError(f"{self.host}: cannot open a session: {exc}") from None

    def forward_remote(self, port: int) -> None:
        """The host's 127.0.0.1:``port`` reaches localhost:``port`` here (Kamal's
        ``ssh.forward.remote(port, "localhost", port, "127.0.0.1")``) until ``close``."""
        with self._use_lock:
            self._pinned = True  # the tunnel holds this connection: never closed as idle
            transport = self._connected().get_transport()
        try:
            if transport is None or not transport.is_active():
                raise paramiko.SSHException("the connection is closed")
            transport.request_port_forward("127.0.0.1", port, handler=port_forward.handler(port))
        except (EOFError, paramiko.SSHException, OSError) as exc:
            raise SshError(
                f"{self.host}: cannot forward port {port} to the local registry"
                f" (is 127.0.0.1:{port} taken on the host, or forwarding off in its sshd?): {exc}"
            ) from None

    @property
    def connected(self) -> bool:
        return self._client is not None

    def _connected(self) -> paramiko.SSHClient:
        client = self._client
        if client is None:
            if self._stopped:
                raise stopped(self.host)
            self.connect()
            client = self._client
        if client is None:  # closed by another thread as soon as it connected: a stop
            raise stopped(self.host)
        return client

    def close(self) -> None:
        """Safe from several threads at once (a stop while the connection's own thread closes
        it): each takes what is left to close first."""
        self._pinned = False
        client, self._client = self._client, None
        if client is not None:
            ssh_transport.shut_down(client.get_transport())
            client.close()
        jump, self._jump = self._jump, None
        if jump is not None:
            jump.close()

    def stop(self) -> None:
        """Close, and connect no more (a use after it raises): the run it served is over."""
        self._stopped = True
        self.close()

    def __enter__(self) -> SshConnection:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _hang_up(channel: paramiko.Channel) -> None:
    """End a command running in a pseudo-terminal: a Ctrl-C to its foreground processes,
    then the channel closed (the host hangs the terminal up: SIGHUP to whatever is left)."""
    try:
        channel.settimeout(1.0)
        channel.send(b"\x03")
    except (EOFError, paramiko.SSHException, OSError):
        pass
    channel.close()


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


def _authenticate(client: paramiko.SSHClient, user: str, keys: list[paramiko.PKey]) -> bool:
    """Try the keys paramiko was not given (the other ``key_data`` keys, an IdentityAgent's)
    on the connection whose authentication failed, as net-ssh tries every key it has."""
    transport = client.get_transport()
    for key in keys:
        if transport is None or not transport.is_active() or transport.is_authenticated():
            break
        try:
            transport.auth_publickey(user, key)
        except paramiko.AuthenticationException:
            continue
        except (paramiko.SSHException, EOFError, OSError):
            break
    return transport is not None and transport.is_authenticated()
