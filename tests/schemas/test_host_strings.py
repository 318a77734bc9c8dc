"""schemas/host_strings.py: a servers entry as Kamal's SSHKit (1.25, ``SSHKit::Host``) reads it.
The expected values follow SSHKit's parsers, tried in its order: plain, bare IPv6,
``host:port``, ``user@host:port``, ``[ipv6]:port``, ``user@host``."""

from __future__ import annotations

import pytest

from backstaff.schemas.host_strings import HostString, hostname, parse_host


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("web1.example.com", HostString(None, "web1.example.com")),
        ("10.0.0.1", HostString(None, "10.0.0.1")),
        ("2001:db8::1", HostString(None, "2001:db8::1")),
        ("10.0.0.1:2222", HostString(None, "10.0.0.1")),
        ("deploy@10.0.0.1:2222", HostString("deploy", "10.0.0.1")),
        ("[2001:db8::1]:2222", HostString(None, "2001:db8::1")),
        ("[2001:db8::1]", HostString(None, "2001:db8::1")),
        # a real config (corpus sweep, brainz-lab's apps): a user per host
        ("afmp@an-ssh.brainz.computer", HostString("afmp", "an-ssh.brainz.computer")),
    ],
)
def test_sshkit_reads_the_host_string(host: str, expected: HostString) -> None:
    assert parse_host(host) == expected
    assert hostname(host) == expected.hostname


def test_a_host_string_sshkit_cannot_read() -> None:
    """``user@host:port`` whose port is no number: none of SSHKit's parsers takes it (Kamal
    fails when it connects); the string itself stands for the host in commands."""
    with pytest.raises(ValueError, match="Cannot parse host string deploy@web:ssh"):
        parse_host("deploy@web:ssh")
    assert hostname("deploy@web:ssh") == "deploy@web:ssh"
