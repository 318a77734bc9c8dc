"""OpenSSH config files read as net-ssh 7 reads them (``ssh.config``), for one host.

Kamal hands ``config: true | false | path(s)`` to net-ssh, whose ``Net::SSH::Config`` reads a
subset of OpenSSH's keywords with its own rules: ``Host`` patterns (``*``, ``?``, ``!``
negations, case-insensitive), ``Match all`` and ``Match host``, ``Include`` (globs, relative to
the first file's directory), lines before any block as defaults, the first value of a keyword
winning inside blocks (``IdentityFile`` and ``CertificateFile`` accumulate), ``ProxyCommand``
and ``ProxyJump`` overriding each other. This module is that reader; the connection decides
which options apply (Kamal's own settings win, see executors/ssh.py).

Every host of a run asks for its options, so each file's lines are read once per process (again
when the file changes) and each pattern is compiled once: a fleet of hundreds of hosts read and
parsed the same files, and rebuilt the same regular expressions, for every host.
"""

from __future__ import annotations

import functools
import glob
import os
import re
import shlex
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# net-ssh's default files, read in this order when ``ssh.config`` is true (or left out).
DEFAULT_FILES = ("~/.ssh/config", "/etc/ssh_config", "/etc/ssh/ssh_config")

# Keywords net-ssh reads that backstaff does not apply; each reason is in docs/kamal-differences.md.
NOT_APPLIED = (
    "certificatefile",
    "checkhostip",
    "compressionlevel",
    "fingerprinthash",
    "forwardagent",
    "globalknownhostsfile",
    "numberofpasswordprompts",
    "rekeylimit",
    "serveralivecountmax",
)

_DEFAULT_AUTH = ("none", "publickey", "password", "keyboard-interactive")


@dataclass(frozen=True)
class HostOptions:
    """What the config files say of one host, as net-ssh translates it (None: not said)."""

    host_name: str | None = None
    port: int | None = None
    user: str | None = None
    keys: tuple[str, ...] = ()
    keys_only: bool | None = None
    proxy: tuple[str, str] | None = None  # ("proxyjump" | "proxycommand", value)
    timeout: float | None = None
    verify_host_key: str | None = None  # "always", "never" or "accept_new"
    user_known_hosts_files: tuple[str, ...] = ()
    host_key_alias: str | None = None
    ciphers: tuple[str, ...] | None = None
    macs: tuple[str, ...] | None = None
    host_key_algorithms: tuple[str, ...] | None = None
    kex_algorithms: tuple[str, ...] | None = None
    compression: bool = False
    send_env: tuple[str, ...] = ()  # patterns of local variable names
    set_env: dict[str, str] = field(default_factory=dict)
    bind_address: str | None = None
    identity_agent: str | None = None
    auth_methods: tuple[str, ...] = _DEFAULT_AUTH
    not_applied: tuple[str, ...] = ()


def config_files(config: bool | tuple[str, ...] | list[str] | str) -> list[str]:
    """The files ``ssh.config`` names: net-ssh's defaults for true, none for false."""
    if config is True:
        return list(DEFAULT_FILES)
    if config is False:
        return []
    return [config] if isinstance(config, str) else list(config)


def lookup(host: str, files: list[str]) -> HostOptions:
    """The options for ``host`` from ``files`` (missing or unreadable files are skipped)."""
    settings: dict[str, Any] = {}
    for name in files:
        settings = _load(name, host, settings)
    return _translate(host, settings)


def _load(
    path: str, host: str, settings: dict[str, Any], base_dir: str | None = None
) -> dict[str, Any]:
    file = os.path.abspath(os.path.expanduser(path))
    base_dir = base_dir or os.path.dirname(file)
    entries = _entries(file)
    if entries is None:
        return settings
    defaults: dict[str, Any] = {}
    matched = seen = False
    for key, value in entries:
        if key == "host":
            patterns = str(value).split()
            negative = [p[1:] for p in patterns if p.startswith("!")]
            positive = [p for p in patterns if not p.startswith("!")]
            matched = not any(_matches(p, host) for p in negative) and any(
                _matches(p, host) for p in positive
            )
            seen = True
            settings["host"] = host
        elif key == "match":
            matched, seen = _match(str(value), host), True
        elif not seen or matched:
            target = settings if seen else defaults
            if key in ("identityfile", "certificatefile"):
                target.setdefault(key, []).append(value)
            elif key == "include":
                for included in _included(base_dir, str(value)):
                    target = _load(included, host, target, base_dir)
                if seen:
                    settings = target
                else:
                    defaults = target
            elif seen:
                settings.setdefault(key, value)
            elif key not in settings:
                defaults[key] = value
        for proxy_key in ("proxyjump", "proxycommand"):  # they override each other
            if proxy_key in settings:
                settings.setdefault("proxy", (proxy_key, settings.pop(proxy_key)))
    merged = dict(defaults)
    for key, value in settings.items():
        if key in ("identityfile", "certificatefile") and key in merged:
            merged[key] = merged[key] + value
        else:
            merged[key] = value
    return merged


Entries = tuple[tuple[str, Any], ...]
_read_lock = threading.Lock()
_read: dict[str, tuple[tuple[int, int], Entries | None]] = {}


def _entries(file: str) -> Entries | None:
    """The file's keyword lines as (lowercase keyword, typed value), None when it cannot be
    read; read again only when its modification time or size changed since the last read."""
    try:
        stat = os.stat(file)
        signature = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        return None
    with _read_lock:
        cached = _read.get(file)
        if cached is not None and cached[0] == signature:
            return cached[1]
    try:
        with open(file, encoding="utf-8", errors="replace") as handle:
            entries: Entries | None = tuple(_parse(handle.read()))
    except OSError:
        entries = None
    with _read_lock:
        _read[file] = (signature, entries)
    return entries


def _parse(text: str) -> Iterator[tuple[str, Any]]:
    for line in text.splitlines():
        if re.match(r"^\s*(?:#.*)?$", line):
            continue
        assignment = re.match(r"^\s*(\S+)\s*=(.*)$", line)
        if assignment:
            key, raw = assignment[1], assignment[2].strip()
        else:
            parts = line.strip().split(None, 1)
            if len(parts) < 2:
                continue  # net-ssh skips a keyword without a value
            key, raw = parts
        text = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
        yield key.lower(), _typed(text)


def _typed(text: str) -> Any:
    stripped = text.strip()
    if re.fullmatch(r"\d+", stripped):
        return int(stripped)
    if stripped.lower() == "no":
        return False
    if stripped.lower() == "yes":
        return True
    return text


def _matches(pattern: str, host: str) -> bool:
    return _pattern(pattern).fullmatch(host) is not None


@functools.lru_cache(maxsize=1024)
def _pattern(pattern: str) -> re.Pattern[str]:
    """An ssh config pattern (``*``, ``?``, the rest literal, any case) as a regular expression."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE)


def _match(condition: str, host: str) -> bool:
    """``Match``: ``all``, or ``host`` lists (other criteria are ignored, as net-ssh does)."""
    words = [w for w in re.split(r"[ \t\r\n]+|(?<!=)=(?!=)", condition) if w]
    if words == ["all"]:
        return True
    results = []
    for kind, expressions in zip(words[0::2], words[1::2], strict=False):
        if kind.lower() == "all":
            return False  # net-ssh raises: "all cannot be mixed with other conditions"
        if kind.lower() == "host":
            negated = expressions.startswith("!")
            met = any(_matches(e, host) for e in expressions.lstrip("!").split(","))
            results.append(met != negated)
    return bool(results) and all(results)


def _included(base_dir: str, value: str) -> list[str]:
    paths = []
    for word in re.findall(r'([^"\s]+)?(?:"([^"]+)")?\s*', value):
        pattern = "".join(word)
        if pattern:
            full = os.path.join(base_dir, os.path.expanduser(pattern))
            paths += [p for p in sorted(glob.glob(full)) if os.path.isfile(p)]
    return paths


def _translate(host: str, settings: dict[str, Any]) -> HostOptions:
    auth = list(_DEFAULT_AUTH)

    def toggle(method: str, on: Any) -> None:
        if on and method not in auth:
            auth.append(method)
        elif not on and method in auth:
            auth.remove(method)

    options: dict[str, Any] = {}
    for key, value in settings.items():
        if key == "hostname":
            options["host_name"] = str(value).replace("%h", str(settings.get("host", host)))
        elif key in ("port", "user", "hostkeyalias", "bindaddress", "identityagent"):
            name = {"hostkeyalias": "host_key_alias", "bindaddress": "bind_address",
                    "identityagent": "identity_agent"}.get(key, key)  # fmt: skip
            options[name] = value if key == "port" else str(value)
        elif key == "identityfile":
            options["keys"] = tuple(str(v) for v in value)
        elif key == "identitiesonly":
            options["keys_only"] = bool(value)
        elif key == "proxy":
            kind, command = value
            if not (kind == "proxycommand" and str(command).lower() == "none"):
                options["proxy"] = (kind, str(command))
        elif key == "connecttimeout":
            options["timeout"] = float(value)
        elif key == "stricthostkeychecking":
            verify = {False: "never", True: "always", "accept-new": "accept_new"}
            options["verify_host_key"] = (
                verify.get(value) if isinstance(value, bool | str) else None
            )
        elif key == "userknownhostsfile":
            options["user_known_hosts_files"] = tuple(str(value).split())
        elif key in ("ciphers", "macs", "hostkeyalgorithms", "kexalgorithms"):
            name = {"hostkeyalgorithms": "host_key_algorithms",
                    "kexalgorithms": "kex_algorithms"}.get(key, key)  # fmt: skip
            options[name] = tuple(str(value).split(","))
        elif key == "compression":
            options["compression"] = value is True
        elif key == "sendenv":
            options["send_env"] = tuple(str(value).split())
        elif key == "setenv":
            pairs = (word.split("=", 1) for word in shlex.split(str(value)))
            options["set_env"] = {p[0]: p[1] if len(p) > 1 else "" for p in pairs}
        elif key in ("pubkeyauthentication", "passwordauthentication"):
            toggle("publickey" if key.startswith("pubkey") else "password", value)
        elif key in ("kbdinteractiveauthentication", "challengeresponseauthentication"):
            toggle("keyboard-interactive", value)
        elif key == "hostbasedauthentication":
            toggle("hostbased", value)
        elif key == "preferredauthentications":
            auth = str(value).split(",")
    options["auth_methods"] = tuple(auth)
    options["not_applied"] = tuple(k for k in NOT_APPLIED if k in settings)
    return HostOptions(**options)


def send_env(patterns: tuple[str, ...], environ: Mapping[str, str]) -> dict[str, str]:
    """The local variables ``SendEnv`` patterns name (net-ssh sends them on every channel).
    Without patterns the environment is not read at all (it was copied for every connection)."""
    if not patterns:
        return {}
    sent = _any_of(patterns).fullmatch
    # The names first: reading a value of ``os.environ`` decodes it, and most are not sent.
    return {name: environ[name] for name in sorted(name for name in environ if sent(name))}


@functools.lru_cache(maxsize=64)
def _any_of(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One expression for all the patterns: Debian's ``SendEnv LANG LC_*`` was two matches
    for each of the environment's variables, and a sort of all of them, on every connection."""
    return re.compile("|".join(f"(?:{_pattern(p).pattern})" for p in patterns), re.IGNORECASE)


def expand_key_path(path: str) -> str:
    return str(Path(path).expanduser())
