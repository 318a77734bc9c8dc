"""What the diff produces: one ``Change`` per resource address, with an action and reasons."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    NOOP = "no-op"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "replace": "-/+", "delete": "-", "no-op": " "}[self]


Fields = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Change:
    """``kind.name[host]``: e.g. ``app.web[10.0.0.1]``; before/after hold no secret values."""

    kind: str  # host, network, registry, proxy, app, route, accessory, stale
    name: str
    host: str
    action: Action
    reasons: tuple[str, ...] = ()
    before: Fields = ()
    after: Fields = ()
    downtime: bool = False

    @property
    def address(self) -> str:
        return f"{self.kind}.{self.name}[{self.host}]"

    @property
    def sort_key(self) -> tuple[str, int, str]:
        return (self.host, KIND_ORDER.get(self.kind, 99), self.address)


KIND_ORDER = {
    "host": 0, "network": 1, "registry": 2, "proxy": 3, "accessory": 4, "app": 5, "route": 6,
    "stale": 7,
}  # fmt: skip
