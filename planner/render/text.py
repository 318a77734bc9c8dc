"""The terminal rendering: per host, a table of changes with symbols and reasons, each change
followed by its attributes, Terraform style (``~ path: before → after``)."""

from __future__ import annotations

import json

from backstaff.planner.changes import Attribute, Change, Difference, Value
from backstaff.planner.plan import Plan, Recorded

NOT_SHOWN = "(not shown)"
FORCES = "  # forces replacement"


def value_text(value: Value) -> str:
    """A value on one line, quoted as JSON (a line break or a quote inside stays visible)."""
    if value is None:
        return NOT_SHOWN
    if isinstance(value, tuple):
        return json.dumps(list(value), ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def attribute_text(attribute: Attribute) -> str:
    """``~ env.clear.TB_GREETING: "hello" → "hello there"``; a secret never shows a value."""
    a = attribute
    if a.sensitive:
        what = {Difference.ADDED: "(secret added)", Difference.CHANGED: "(secret changed)",
                Difference.REMOVED: "(secret removed)"}[a.change]  # fmt: skip
    elif a.change is Difference.ADDED:
        what = value_text(a.after)
    elif a.change is Difference.REMOVED:
        what = "(removed)" if a.before is None else f"{value_text(a.before)} → (removed)"
    else:
        what = f"{value_text(a.before)} → {value_text(a.after)}"
    return f"{a.change.symbol} {a.path}: {what}" + (FORCES if a.forces_replacement else "")


def _with_attributes(table: list[str], changes: list[Change]) -> list[str]:
    """Each change's row, then its attributes indented under its address."""
    if len(table) != len(changes):  # a cell spanning lines: attributes after the table
        return table + [f"    {attribute_text(a)}" for c in changes for a in c.attributes]
    lines = []
    for row, change in zip(table, changes, strict=True):
        lines.append(row)
        indent = " " * (row.find(change.address) + 2)
        lines += [f"{indent}{attribute_text(a)}" for a in change.attributes]
    return lines


def summary_line(plan: Plan) -> str:
    s = plan.summary
    return (
        f"Plan: {s['add']} to add, {s['change']} to change, {s['replace']} to replace,"
        f" {s['destroy']} to destroy."
    )


def age_text(seconds: int) -> str:
    """``45s``, ``12m``, ``3h 5m``, ``2d 4h``."""
    seconds = max(0, seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes}m"
    if days == 0:
        return f"{hours}h {minutes % 60}m"
    return f"{days}d {hours % 24}h"


def recorded_note(recorded: Recorded) -> str:
    """One sentence for every rendering of a plan made from a ``refresh`` recording."""
    return (
        f"Planned from a recording, not from the hosts: {recorded.file}, recorded at"
        f" {recorded.recorded_at} ({age_text(recorded.age_seconds)} old when planned)."
        " Apply reads the hosts again and refuses if they changed."
    )


def no_changes(plan: Plan) -> str:
    if plan.complete:
        return "No changes. The hosts match the configuration."
    return "No changes on the hosts that could be read."


def header(plan: Plan) -> str:
    destination = f", destination {plan.destination}" if plan.destination else ""
    return f"backstaff plan: {plan.service} version {plan.version}{destination}"


def _table(rows: list[tuple[str, str, str]]) -> str:
    from tabulate import tabulate  # where used: 10 ms a command without tables saves

    return tabulate(rows, tablefmt="plain", disable_numparse=True)


def render_text(plan: Plan, verbose: bool = False) -> str:
    lines = [header(plan), ""]
    if plan.recorded is not None:
        lines += [f"! {recorded_note(plan.recorded)}", ""]
    for host, message in plan.errors:
        lines.append(f"! {host}: {message}")
    if plan.lock:
        lines.append("! The deploy lock is held; apply will refuse until it is released:")
        lines += [f"    {line}" for line in plan.lock.splitlines()]
    lines += [f"! {note}" for note in plan.notes]
    if plan.errors or plan.lock or plan.notes:
        lines.append("")
    if not plan.complete:
        lines += [f"! {plan.incomplete_note}", ""]
    hosts = sorted({c.host for c in plan.changes})
    if not hosts:
        lines.append(no_changes(plan))
    for host in hosts:
        changes = [c for c in plan.changes if c.host == host]
        rows = [
            (
                c.action.symbol,
                c.address,
                "; ".join(c.reasons) + (" [downtime]" if c.downtime else ""),
            )
            for c in changes
        ]
        lines.append(f"Host {host}")
        lines += _with_attributes(
            [f"  {row.rstrip()}" for row in _table(rows).splitlines()], changes
        )
        lines.append("")
    if verbose and plan.steps:
        lines.append("Steps, in order:")
        for index, step in enumerate(plan.steps, start=1):
            lines.append(f"  {index}. {step.id}: {step.description}")
            lines += [f"       {command}" for command in step.rendered()]
        lines.append("")
    lines.append(summary_line(plan))
    return "\n".join(lines).rstrip() + "\n"
