"""The pull-request rendering: summary first, destroys and downtime called out, one
collapsible block per host; kept under GitHub's 65,536-character comment limit."""

from __future__ import annotations

import re

from tabulate import tabulate

from backstaff.planner.changes import Action, Change
from backstaff.planner.plan import Plan
from backstaff.planner.render.text import attribute_text, no_changes, summary_line

LIMIT = 65_000


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _attributes(changes: list[Change]) -> str:
    """Each change's attributes in a ``diff`` block (GitHub colours the ``+`` and ``-`` lines);
    the fence is longer than any run of backticks inside."""
    parts = []
    for change in changes:
        if not change.attributes:
            continue
        body = "\n".join(attribute_text(a) for a in change.attributes)
        longest = max((len(run) for run in re.findall("`+", body)), default=0)
        fence = "`" * max(3, longest + 1)
        parts.append(f"`{change.address}`\n\n{fence}diff\n{body}\n{fence}\n")
    return "\n".join(parts)


def render_markdown(plan: Plan, limit: int = LIMIT) -> str:
    destination = f", destination `{plan.destination}`" if plan.destination else ""
    head = [
        f"**{summary_line(plan)}**",
        "",
        f"`{plan.service}` version `{plan.version}`{destination}",
        "",
    ]
    callouts: list[str] = []  # each its own quoted paragraph, so none runs into the next
    if not plan.complete:
        callouts.append(f"> :x: **{_cell(plan.incomplete_note)}**")
    for host, message in plan.errors:
        callouts.append(f"> :x: **{host} could not be read:** {_cell(message)}")
    if plan.lock:
        holder = plan.lock.splitlines()[0] if plan.lock else ""
        callouts.append(
            f"> :lock: **The deploy lock is held** ({_cell(holder)}): apply will refuse."
        )
    destroys = [c for c in plan.changes if c.action is Action.DELETE]
    if destroys:
        callouts.append(f"> :warning: **{len(destroys)} to destroy:** "
                    + ", ".join(f"`{c.address}` ({_cell(c.reasons[0])})" for c in destroys))  # fmt: skip
    downtime = [c for c in plan.changes if c.downtime]
    if downtime:
        callouts.append(
            "> :warning: **Downtime expected:** " + ", ".join(f"`{c.address}`" for c in downtime)
        )
    callouts += [f"> {note}" for note in plan.notes]
    if callouts:
        head += ["\n>\n".join(callouts), ""]
    if not plan.has_changes:
        head.append(no_changes(plan))
    blocks = []
    for host in sorted({c.host for c in plan.changes}):
        changes = [c for c in plan.changes if c.host == host]
        rows = [
            (f"`{c.action.symbol}`", f"`{c.address}`", _cell("; ".join(c.reasons))) for c in changes
        ]
        counts = ", ".join(
            f"{sum(1 for c in changes if c.action is a)} to {word}"
            for a, word in ((Action.CREATE, "add"), (Action.UPDATE, "change"),
                            (Action.REPLACE, "replace"), (Action.DELETE, "destroy"))
            if any(c.action is a for c in changes)
        )  # fmt: skip
        table = tabulate(
            rows, headers=("", "Resource", "Why"), tablefmt="github", disable_numparse=True
        )
        attributes = _attributes(changes)
        attributes = f"{attributes}\n" if attributes else ""
        blocks.append(
            f"<details><summary><code>{host}</code>: {counts}</summary>\n\n{table}\n\n"
            f"{attributes}</details>\n"
        )
    text = "\n".join(head).rstrip() + "\n\n"
    for index, block in enumerate(blocks):
        if len(text) + len(block) > limit - 200:
            text += (f"\n_… truncated: {len(blocks) - index} more host(s) not shown; run"
                     " `backstaff plan` for the full plan._\n")  # fmt: skip
            break
        text += block
    return text
