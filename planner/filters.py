"""``-h/--hosts``, ``-r/--roles`` and ``-p/--primary``: which hosts and roles a command touches."""

from __future__ import annotations

import re
from dataclasses import dataclass

from backstaff.planner.model import App


class FilterError(Exception):
    pass


@dataclass(frozen=True)
class Selection:
    """The hosts and roles a command acts on (``-h``, ``-r``, ``--primary``)."""

    hosts: tuple[str, ...]
    roles: tuple[str, ...]


def _matcher(patterns: list[str]) -> re.Pattern[str]:
    parts = [".*".join(re.escape(p) for p in pattern.split("*")) for pattern in patterns]
    return re.compile("^(?:" + "|".join(parts) + ")$")


def split_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def select(app: App, hosts: str | None, roles: str | None, primary: bool) -> Selection:
    """Primary-role hosts first, as Kamal orders ``KAMAL.hosts``; ``*`` is a wildcard."""
    role_names = [role.name for role in app.roles]
    if roles:
        wanted = _matcher(split_list(roles))
        role_names = [name for name in role_names if wanted.match(name)]
        if not role_names:
            raise FilterError(f"No --roles match for {roles}")
    chosen_roles = [role for role in app.roles if role.name in role_names]
    ordered: list[str] = []
    for role in chosen_roles:
        ordered += role.hosts
    if not roles:
        for accessory in app.accessories:
            ordered += accessory.hosts
    selected = list(dict.fromkeys(ordered))
    if hosts:
        wanted = _matcher(split_list(hosts))
        selected = [host for host in selected if wanted.match(host)]
        if not selected:
            raise FilterError(f"No --hosts match for {hosts}")
    if primary:
        if app.primary_host is None:
            raise FilterError("No primary host")
        selected = [app.primary_host]
    return Selection(hosts=tuple(selected), roles=tuple(role_names))
