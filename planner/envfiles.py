"""The env files backstaff would write, as digests: what ``plan`` compares with the hosts'."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from backstaff.planner.commands.app import env_file_content
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
