"""How Kamal's SSH settings become paramiko's: keys, algorithms, agent, DNS retries, logging.

Small pieces executors/ssh.py composes: every ``key_data`` key (net-ssh tries each one), the
``Ciphers``/``MACs``/``HostKeyAlgorithms`` lists of an ssh config as the algorithms paramiko
may use, an ``IdentityAgent`` socket's keys, SSHKit's DNS retry (``sshkit.dns_retries``) and
net-ssh's log levels (``ssh.log_level``) as paramiko's.
"""

from __future__ import annotations

import functools
import io
import logging
import random
import re
import socket
import sys

import paramiko

# net-ssh's Logger levels (``ssh.log_level``) as Python's; Kamal's default is fatal: silent.
LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
}

_log_handler: logging.Handler | None = None


def configure_logging(level: str) -> None:
    """paramiko's log on stderr at ``ssh.log_level`` (as net-ssh's logger on STDERR); nothing
    is added for ``fatal``, the default, so the CLI's quiet default is kept."""
    global _log_handler
    logger = logging.getLogger("paramiko")
    if level == "fatal" or level not in LOG_LEVELS:
        return
    if _log_handler is None:
        _log_handler = logging.StreamHandler(sys.stderr)
        _log_handler.setFormatter(
            logging.Formatter(
                "%(levelname).1s, [%(asctime)s] %(levelname)s -- %(name)s: %(message)s"
            )
        )
        logger.addHandler(_log_handler)
        logger.propagate = False  # shown once, even with -v's root handler
    logger.setLevel(min(LOG_LEVELS[level], logger.level or logging.CRITICAL))
    _log_handler.setLevel(logger.level)


@functools.lru_cache(maxsize=8)
def private_keys(key_data: tuple[str, ...]) -> tuple[paramiko.PKey, ...]:
    """Every key of ``ssh.key_data`` that parses (net-ssh loads each and tries them all); parsed
    once a process, not once a host (see ssh_client for the key files)."""
    keys: list[paramiko.PKey] = []
    for text in key_data:
        for key_class in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
            try:
                keys.append(key_class.from_private_key(io.StringIO(text)))
                break
            except (paramiko.SSHException, ValueError):
                continue
    return tuple(keys)


def agent_keys(path: str) -> list[paramiko.PKey]:
    """The keys of the agent listening on ``path`` (an ssh config's ``IdentityAgent``)."""
    agent = paramiko.agent.AgentSSH()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        agent._connect(sock)  # type: ignore[attr-defined]  # Agent() only reads $SSH_AUTH_SOCK
    except OSError:
        sock.close()
        return []
    return list(agent.get_keys())


def disabled_algorithms(
    kind: str, listed: tuple[str, ...] | None, preferred: tuple[str, ...]
) -> list[str]:
    """What paramiko must not use so that only ``listed`` remains (OpenSSH's ``+`` appends and
    ``^`` reorders: nothing is removed; ``-`` removes the names given)."""
    if not listed:
        return []
    text = ",".join(listed)
    if text.startswith(("+", "^")):
        return []
    if text.startswith("-"):
        removed = set(text[1:].split(","))
        return [name for name in preferred if name in removed]
    return [name for name in preferred if name not in listed]


# What paramiko offers, in its order (class attributes it documents for disabled_algorithms).
PREFERRED: dict[str, tuple[str, ...]] = {
    kind: tuple(getattr(paramiko.Transport, f"_preferred_{kind}"))
    for kind in ("ciphers", "macs", "keys", "kex")
}


def nothing_left(kind: str, listed: tuple[str, ...] | None) -> bool:
    """Whether an ssh config's list of algorithms of ``kind`` leaves paramiko none it has (the
    handshake could only fail: said before connecting, naming the config's line)."""
    left = set(PREFERRED[kind]) - set(disabled_algorithms(kind, listed, PREFERRED[kind]))
    return bool(listed) and not left


# AES-GCM first, then the rest in paramiko's order (see cipher_order).
DEFAULT_CIPHERS = tuple(sorted(PREFERRED["ciphers"], key=lambda name: "-gcm@" not in name))


def _kex_rank(name: str) -> int:
    if name.startswith(("mlkem", "sntrup")):  # post-quantum hybrids, where the server has one
        return 0
    return 1 if name == "ecdh-sha2-nistp256" else 2


# Post-quantum hybrids first, then ECDH on P-256, then the rest in paramiko's order (see
# kex_order).
DEFAULT_KEX = tuple(sorted(PREFERRED["kex"], key=_kex_rank))


def cipher_order(listed: tuple[str, ...] | None) -> tuple[str, ...]:
    """The ciphers to ask for, first preferred first. An ssh config's ``Ciphers`` list is asked
    for in its own order, as ssh asks (see ``asked_order``). The default puts AES-GCM first,
    where paramiko's own order puts AES-CTR: GCM is an AEAD cipher, where CTR comes with
    paramiko's first MAC, ``hmac-sha2-256`` in encrypt-and-MAC mode (computed over the plain
    text, which ssh-audit flags), and its tag is checked inside ``cryptography`` instead of byte
    by byte in Python: about 8% less of the client's CPU a connection. A server without GCM gets
    CTR as before."""
    return asked_order(listed, DEFAULT_CIPHERS)


def kex_order(listed: tuple[str, ...] | None) -> tuple[str, ...]:
    """The key exchanges to ask for, first preferred first; an ssh config's ``KexAlgorithms``
    list in its own order (see ``asked_order``). By default a post-quantum hybrid comes first
    (``mlkem768x25519-sha256``, on OpenSSH 9.9 and later), then ECDH on P-256, then paramiko's
    order (curve25519 next). Where a server has no hybrid (OpenSSH before 9.9: Debian 12,
    Ubuntu 22.04 and 24.04), P-256 costs its sshd about 2.5 ms of CPU less a connection than
    curve25519, which OpenSSH computes with its own reference code where P-256 is OpenSSL's;
    that is on every handshake's path. Kamal's net-ssh asks for ECDH on P-521 first (its
    bundle has no curve25519), and a server whose policy leaves the NIST curves out gets
    curve25519 as before."""
    return asked_order(listed, DEFAULT_KEX)


# OpenSSH's name for the key exchange paramiko calls by its older name (RFC 8731 renamed it).
_KEX_SYNONYMS = {"curve25519-sha256": "curve25519-sha256@libssh.org"}


def kex_names(listed: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """An ssh config's ``KexAlgorithms`` in paramiko's names, its ``+``/``-``/``^`` kept, each
    name once: ``curve25519-sha256`` is the same exchange as paramiko's
    ``curve25519-sha256@libssh.org``, so a list naming only it still connects."""
    if not listed:
        return listed
    text = ",".join(listed)
    sign = text[0] if text[0] in "+-^" else ""
    names = (_KEX_SYNONYMS.get(name, name) for name in text[len(sign) :].split(","))
    first, *rest = dict.fromkeys(names)
    return (sign + first, *rest)


def asked_order(listed: tuple[str, ...] | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """What to ask for, first preferred first, when an ssh config lists algorithms of a kind:
    an exact list in its own order, as ssh asks; ``^`` puts its names first; ``+`` and ``-``
    keep the default order (``disabled_algorithms`` removes what ``-`` names)."""
    text = ",".join(listed or ())
    if not text or text.startswith(("+", "-")):
        return default
    named = tuple(
        name for name in dict.fromkeys(text.removeprefix("^").split(",")) if name in default
    )
    if not named:  # none paramiko knows: the disabled algorithms make the connection fail
        return default
    return named + (tuple(n for n in default if n not in named) if text.startswith("^") else ())


# SSHKit's retry of a failed DNS lookup (Kamal's sshkit_with_ext.rb): the same errors, the
# same backoff (0.1 s doubling, at most 2 s, plus up to 0.1 s of jitter).
DNS_ERROR = re.compile(
    r"getaddrinfo|Temporary failure in name resolution|Name or service not known"
    r"|nodename nor servname provided|No address associated|failed to look up|resolve",
    re.IGNORECASE,
)


def is_dns_error(exc: BaseException) -> bool:
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        return False
    if isinstance(exc, socket.gaierror):
        return True
    cause = exc.__cause__ or exc.__context__
    return cause is not None and is_dns_error(cause)


def dns_retry_delay(attempt: int) -> float:
    return min(0.1 * 2 ** (attempt - 1), 2.0) + random.random() * 0.1


def dns_message(exc: BaseException) -> str:
    """The resolver's words, as SSHKit's warning quotes them."""
    return exc.strerror if isinstance(exc, socket.gaierror) and exc.strerror else str(exc)
