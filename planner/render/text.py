"""The terminal rendering: per host, a table of changes with symbols and reasons."""

from __future__ import annotations

from tabulate import tabulate

from backstaff.planner.plan import Plan


def summary_line(plan: Plan) -> str:
    s = plan.summary
    return (
        f"Plan: {s['add']} to add, {s['change']} to change, {s['replace']} to replace,"
        f" {s['destroy']} to destroy."
    )


def no_changes(plan: Plan) -> str:
    if plan.complete:
        return "No changes. The hosts match the configuration."
    return "No changes on the hosts that could be read."


def header(plan: Plan) -> str:
    destination = f", destination {plan.destination}" if plan.destination else ""
    return f"backstaff plan: {plan.service} version {plan.version}{destination}"


def render_text(plan: Plan, verbose: bool = False) -> str:
    lines = [header(plan), ""]
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
        rows = [
            (
                c.action.symbol,
                c.address,
                "; ".join(c.reasons) + (" [downtime]" if c.downtime else ""),
            )
            for c in plan.changes
            if c.host == host
        ]
        lines.append(f"Host {host}")
        table = tabulate(rows, tablefmt="plain", disable_numparse=True)
        lines += [f"  {row.rstrip()}" for row in table.splitlines()]
        lines.append("")
    if verbose and plan.steps:
        lines.append("Steps, in order:")
        for index, step in enumerate(plan.steps, start=1):
            lines.append(f"  {index}. {step.id}: {step.description}")
            lines += [f"       {command}" for command in step.rendered()]
        lines.append("")
    lines.append(summary_line(plan))
    return "\n".join(lines).rstrip() + "\n"
