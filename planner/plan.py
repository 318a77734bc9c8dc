"""The Plan value: changes, ordered steps, and the live-state fingerprint they assume.

Serializable both ways, so ``plan --out`` then ``apply plan.json`` can refuse a stale plan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from backstaff.planner.changes import Action, Attribute, Change, Difference, Value
from backstaff.planner.commands import words
from backstaff.planner.commands.words import Cmd
from backstaff.planner.diff import EnvFileDigests, SecretDigests, diff
from backstaff.planner.graph import plan_steps
from backstaff.planner.live import LiveState
from backstaff.planner.model import App
from backstaff.planner.steps import Step, Upload, source_from_dict, source_to_dict

FORMAT_VERSION = 4  # 2: typed command words, typed uploads, stdin_secrets; 3: attributes;
# 4: a step's audit lines a list (a boot that renames writes two)


@dataclass(frozen=True)
class Recorded:
    """Where a plan's live state came from when not from the hosts: a ``refresh`` recording."""

    file: str
    recorded_at: str  # UTC, ISO 8601 (``2026-12-04T01:45:12Z``)
    age_seconds: int  # how old the recording was when the plan was made


@dataclass(frozen=True)
class Plan:
    """The changes found and the steps that make them, in dependency order."""

    service: str
    destination: str | None
    version: str
    changes: tuple[Change, ...]
    steps: tuple[Step, ...]
    depends_on: tuple[tuple[str, tuple[str, ...]], ...]  # step id -> the step ids it waits for
    live_fingerprint: str
    config_digest: str
    hosts: tuple[str, ...]
    lock: str | None = None  # the lock details when someone holds it
    errors: tuple[tuple[str, str], ...] = ()  # (host, message): hosts that could not be read
    notes: tuple[str, ...] = ()
    recorded: Recorded | None = None  # planned from a recording, not from the hosts

    @property
    def summary(self) -> dict[str, int]:
        count = {action: 0 for action in Action}
        for change in self.changes:
            count[change.action] += 1
        return {
            "add": count[Action.CREATE],
            "change": count[Action.UPDATE],
            "replace": count[Action.REPLACE],
            "destroy": count[Action.DELETE],
        }

    @property
    def has_changes(self) -> bool:
        return any(c.action is not Action.NOOP for c in self.changes)

    @property
    def unread_hosts(self) -> tuple[str, ...]:
        """Hosts that could not be read: the plan says nothing about them."""
        return tuple(host for host, _ in self.errors)

    @property
    def complete(self) -> bool:
        return not self.errors

    @property
    def incomplete_note(self) -> str:
        """One sentence for every rendering of a plan that could not read every host."""
        hosts = self.unread_hosts
        of = f" of {len(self.hosts)}" if self.hosts else ""
        return (
            f"This plan is incomplete: {len(hosts)}{of} host(s) could not be read"
            f" ({', '.join(hosts)}); what would change there is unknown."
        )


def config_digest(data: Mapping[str, Any], destination: str | None) -> str:
    text = json.dumps({"config": data, "destination": destination}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def make_plan(
    app: App,
    live: LiveState,
    digest: str,
    envfiles: EnvFileDigests | None = None,
    notes: tuple[str, ...] = (),
    keep: Callable[[Change], bool] | None = None,
    *,
    pull: bool = True,
    prune: bool = True,
    secrets: SecretDigests | None = None,
) -> Plan:
    """``keep`` narrows the plan (``-h``/``-r``) before the steps are built; ``pull`` and
    ``prune`` as in ``build_graph``."""
    changes = tuple(c for c in diff(app, live, envfiles, secrets) if keep is None or keep(c))
    steps, depends_on = plan_steps(app, changes, pull=pull, prune=prune)
    primary = live.host(app.primary_host) if app.primary_host else None
    return Plan(
        service=app.service,
        destination=app.destination,
        version=app.version,
        changes=changes,
        steps=steps,
        depends_on=depends_on,
        live_fingerprint=live.fingerprint(),
        config_digest=digest,
        hosts=tuple(h.host for h in live.hosts),
        lock=primary.lock.details if primary and primary.lock else None,
        errors=tuple((h.host, h.error) for h in live.hosts if h.error),
        notes=notes,
    )


# -- JSON ------------------------------------------------------------------------------------


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    depends = dict(plan.depends_on)
    return {
        "format_version": FORMAT_VERSION,
        "service": plan.service,
        "destination": plan.destination,
        "version": plan.version,
        "summary": plan.summary,
        "has_changes": plan.has_changes,
        "hosts": list(plan.hosts),
        "complete": plan.complete,
        "unread_hosts": list(plan.unread_hosts),
        "lock": plan.lock,
        "errors": [{"host": h, "message": m} for h, m in plan.errors],
        "notes": list(plan.notes),
        "changes": [
            {
                "address": c.address,
                "kind": c.kind,
                "name": c.name,
                "host": c.host,
                "action": c.action.value,
                "reasons": list(c.reasons),
                "before": dict(c.before) or None,
                "after": dict(c.after) or None,
                "downtime": c.downtime,
                "attributes": [attribute_to_dict(a) for a in c.attributes],
            }
            for c in plan.changes
        ],
        "steps": [
            {
                "id": s.id,
                "host": s.host,
                "kind": s.kind,
                "description": s.description,
                "phase": s.phase,
                "depends_on": list(depends.get(s.id, ())),
                "commands": [_command_to_dict(c) for c in s.commands],
                "rendered": s.rendered(),
                "stdin_secrets": list(s.stdin_secrets),
                "changes": list(s.changes),
                "audit": list(s.audit),
                "on_failure": [{"words": words.to_json(c)} for c in s.on_failure],
            }
            for s in plan.steps
        ],
        "live_fingerprint": plan.live_fingerprint,
        "config_digest": plan.config_digest,
        "live_source": _source_to_dict(plan.recorded),
    }


def _source_to_dict(recorded: Recorded | None) -> dict[str, Any]:
    if recorded is None:
        return {"kind": "hosts"}
    return {"kind": "recording", "file": recorded.file, "recorded_at": recorded.recorded_at,
            "age_seconds": recorded.age_seconds}  # fmt: skip


def _source_from_dict(data: Any) -> Recorded | None:
    if data is None or data.get("kind") == "hosts":
        return None
    return Recorded(str(data["file"]), str(data["recorded_at"]), int(data["age_seconds"]))


def _value_to_json(value: Value) -> str | list[str] | None:
    return list(value) if isinstance(value, tuple) else value


def _value_from_json(value: Any) -> Value:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return None if value is None else str(value)


def attribute_to_dict(attribute: Attribute) -> dict[str, Any]:
    return {
        "path": attribute.path,
        "change": attribute.change.value,
        "before": _value_to_json(attribute.before),
        "after": _value_to_json(attribute.after),
        "sensitive": attribute.sensitive,
        "forces_replacement": attribute.forces_replacement,
    }


def attribute_from_dict(data: Mapping[str, Any]) -> Attribute:
    return Attribute(
        str(data["path"]),
        Difference(data["change"]),
        _value_from_json(data.get("before")),
        _value_from_json(data.get("after")),
        bool(data.get("sensitive")),
        bool(data.get("forces_replacement")),
    )


def _command_to_dict(command: Cmd | Upload) -> dict[str, Any]:
    if not isinstance(command, Upload):
        return {"words": words.to_json(command)}
    described = source_to_dict(command.source)
    return {"upload": {"path": command.path, "mode": command.mode, "source": described}}


def _command_from_dict(data: Mapping[str, Any]) -> Cmd | Upload:
    if "words" in data:
        return words.from_json(data["words"])
    upload = data["upload"]
    return Upload(upload["path"], upload["mode"], source_from_dict(upload["source"]))


class PlanFormatError(Exception):
    pass


@dataclass(frozen=True)
class SavedPlan:
    """A plan file: its JSON as written, and the plan read from it."""

    data: Mapping[str, Any]
    plan: Plan


def first_difference(saved: Mapping[str, Any], fresh: Mapping[str, Any]) -> str | None:
    """Why a saved plan file is not exactly the plan made now (both as the JSON ``plan --out``
    writes), or None when it is.

    Every field is compared as written in the file (steps, their commands word by word,
    uploads, secrets named, dependencies, changes, the rendered lines), so an edited file is
    refused even when the config and the hosts are unchanged; the first step that differs is
    named."""
    if saved.get("config_digest") != fresh.get("config_digest"):
        return "this plan was made for another config or destination"
    if saved.get("live_fingerprint") != fresh.get("live_fingerprint"):
        return "stale plan: the hosts changed since it was made"
    # where the plan's live state came from may differ (a recording, then the hosts at apply):
    # the fingerprint above says whether the hosts are still as planned
    old, new = dict(saved), dict(fresh)
    old.pop("live_source", None), new.pop("live_source", None)
    old_steps, new_steps = old.pop("steps", None), new.pop("steps", None)
    if not isinstance(old_steps, list):
        return "the plan file has no list of steps"
    for index, (a, b) in enumerate(zip(old_steps, new_steps or [], strict=False), start=1):
        if a != b:
            fields = (
                sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
                if isinstance(a, dict)
                else ["the step"]
            )
            name = a.get("id") if isinstance(a, dict) else None
            return (f"step {index} ({name or b.get('id')}) is not the step planned now"
                    f" ({', '.join(fields)} differ)")  # fmt: skip
    if len(old_steps) != len(new_steps or []):
        return f"the plan file has {len(old_steps)} steps, {len(new_steps or [])} are planned now"
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            return f"its {key} is not what is planned now"
    return None


def plan_from_dict(data: Mapping[str, Any]) -> Plan:
    if not isinstance(data, Mapping):
        raise PlanFormatError("not a backstaff plan (written by `backstaff plan --out`)")
    if data.get("format_version") != FORMAT_VERSION:
        raise PlanFormatError(
            f"unsupported plan format_version {data.get('format_version')!r} (expected {FORMAT_VERSION})"
        )
    try:
        changes = tuple(
            Change(
                c["kind"],
                c["name"],
                c["host"],
                Action(c["action"]),
                tuple(c["reasons"]),
                tuple((c.get("before") or {}).items()),
                tuple((c.get("after") or {}).items()),
                bool(c.get("downtime")),
                tuple(attribute_from_dict(a) for a in c.get("attributes", ())),
            )  # fmt: skip
            for c in data["changes"]
        )
        steps = tuple(
            Step(
                s["id"],
                s["host"],
                s["kind"],
                s["description"],
                int(s["phase"]),
                tuple(_command_from_dict(c) for c in s["commands"]),
                tuple(s.get("stdin_secrets", ())),
                tuple(s.get("changes", ())),
                tuple(s.get("audit", ())),
                tuple(words.from_json(c["words"]) for c in s.get("on_failure", ())),
            )
            for s in data["steps"]
        )
        return Plan(
            service=data["service"],
            destination=data["destination"],
            version=data["version"],
            changes=changes,
            steps=steps,
            depends_on=tuple((s["id"], tuple(s["depends_on"])) for s in data["steps"]),
            live_fingerprint=data["live_fingerprint"],
            config_digest=data["config_digest"],
            hosts=tuple(data.get("hosts", ())),
            lock=data.get("lock"),
            errors=tuple((e["host"], e["message"]) for e in data.get("errors", ())),
            notes=tuple(data.get("notes", ())),
            recorded=_source_from_dict(data.get("live_source")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PlanFormatError(f"not a backstaff plan: {exc}") from None
