"""The env files backstaff would write, as digests: what ``plan`` compares with the hosts'."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from backstaff.planner.commands.app import env_file_content
from backstaff.planner.live import value_digest
from backstaff.planner.model import App, Env

SecretLookup = Callable[[str], str]


def _content(env: Env, lookup: SecretLookup) -> str:
    return env_file_content(tuple((name, lookup(key)) for name, key in env.secrets))


def env_file_digests(app: App, lookup: SecretLookup) -> dict[tuple[str, str], str]:
    """(path, host) -> sha256 of the content; ``lookup`` resolves a secret (and may raise)."""
    digests: dict[tuple[str, str], str] = {}
    for role in app.roles:
        for host in role.hosts:
            content = _content(app.env_for(role, host), lookup)
            digests[(role.env_file, host)] = hashlib.sha256(content.encode()).hexdigest()
    for accessory in app.accessories:
        content = _content(accessory.env, lookup)
        for host in accessory.hosts:
            digests[(accessory.env_file, host)] = hashlib.sha256(content.encode()).hexdigest()
    return digests


def secret_digests(app: App, lookup: SecretLookup) -> dict[str, str]:
    """Secret key -> digest of its value (as ``live`` digests the hosts' env values), for
    every secret an env file holds: the diff says which secret changed, never its value."""
    keys = {key for role in app.roles for host in role.hosts
            for _, key in app.env_for(role, host).secrets}  # fmt: skip
    keys |= {key for accessory in app.accessories for _, key in accessory.env.secrets}
    return {key: value_digest(lookup(key)) for key in sorted(keys)}
