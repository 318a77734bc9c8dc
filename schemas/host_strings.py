"""A ``servers`` host as Kamal's SSHKit reads it: ``user@host``, ``host:port``, ``[ipv6]:port``.

Kamal hands each host string to SSHKit, whose parsers (sshkit 1.25's ``Host``, tried in order)
split off a user and a port. The SSH connection goes to the host name, as that user when one is
given (net-ssh takes it over ``ssh/user``); the port from the string is not used (Kamal's
``ssh/port``, 22 by default, is merged over it). In commands (``KAMAL_HOST``, the container's
``--hostname``) Kamal writes the host name alone.
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple

_IPV6_WITH_PORT = re.compile(r"\[([a-fA-F0-9:]+)\](?::(\d+))?")


class HostString(NamedTuple):
    user: str | None
    hostname: str


def parse_host(host: str) -> HostString:
    """SSHKit's reading of ``host``; ValueError with SSHKit's message when none of its
    parsers takes it (``user@host:port`` whose port is not a number)."""
    if ":" not in host and "@" not in host:
        return HostString(None, host)
    if _is_ipv6(host):
        return HostString(None, host)
    if not re.search(r"[@\[\]]", host):
        return HostString(None, host.split(":")[0])
    if re.search(r"@.*:\d+", host):
        user, hostname = re.split(r"[:@]", host)[:2]  # the match holds an "@" and a ":"
        return HostString(user, hostname)
    if match := _IPV6_WITH_PORT.search(host):
        return HostString(None, match[1])
    if ":" not in host:
        return HostString(host.split("@")[0], host.split("@")[-1])
    raise ValueError(f"Cannot parse host string {host}")


def hostname(host: str) -> str:
    """The host name of a host string: what Kamal writes into commands (the string itself
    when SSHKit cannot read it: connecting to it fails first)."""
    try:
        return parse_host(host).hostname
    except ValueError:
        return host


def _is_ipv6(host: str) -> bool:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True
