"""What the diff produces: one ``Change`` per resource address, with an action, reasons (short
strings) and attributes (every difference, with its values where they are not secret)."""

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
Value = str | tuple[str, ...] | None


class Difference(enum.StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"

    @property
    def symbol(self) -> str:
        return {"added": "+", "changed": "~", "removed": "-"}[self]


@dataclass(frozen=True)
class Attribute:
    """One difference: ``path`` (``env.clear.TB_GREETING``, ``labels.team``, ``proxy.hosts``),
    the value on the host and the one wanted. ``None`` is "absent" for an added or removed
    attribute and "not shown" for a changed one (a secret, or a value the host only shows as a
    digest). A ``sensitive`` attribute never holds a value."""

    path: str
    change: Difference
    before: Value = None
    after: Value = None
    sensitive: bool = False
    forces_replacement: bool = False

    def __post_init__(self) -> None:
        if self.sensitive and (self.before is not None or self.after is not None):
            raise ValueError(f"{self.path}: a sensitive attribute holds no value")


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
    attributes: tuple[Attribute, ...] = ()

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
