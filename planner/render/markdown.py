"""The pull-request rendering: a hidden marker line (so a workflow updates its one comment),
the summary, destroys and downtime called out, one collapsible block per host.

Whatever the fleet, the whole text stays within GitHub's comment limit (65,536 characters):
the summary and callouts are bounded (long lists end in "and N more"), and host blocks that
do not fit are cut, with a line saying how many hosts are not shown."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from urllib.parse import quote

from backstaff.planner.changes import Action, Change
from backstaff.planner.plan import Plan
from backstaff.planner.render.text import attribute_text, no_changes, recorded_note, summary_line

LIMIT = 65_536  # GitHub's limit for a comment body, in characters
LISTED = 20  # hosts or addresses named in one callout before "and N more"
CELL = 300  # characters of one message, reason or lock holder in a callout


def _cell(text: str, width: int | None = None) -> str:
    text = text.replace("|", "\\|").replace("\n", " ")
    if width is not None and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def _marker_value(value: str) -> str:
    """A name as one word that cannot end the comment: anything but letters, digits and
    ``_.-~`` percent-encoded, and no ``--`` run."""
    return quote(value, safe="").replace("--", "-%2D")


def marker(plan: Plan) -> str:
    """The first line: ``<!-- backstaff-plan service=<service> destination=<dest or default> -->``."""
    destination = _marker_value(plan.destination or "default")
    return (
        f"<!-- backstaff-plan service={_marker_value(plan.service)} destination={destination} -->"
    )


def _listed(items: Sequence[str]) -> str:
    """``a, b, c`` or ``a, b, … and 17 more``: a callout never grows with the fleet."""
    shown = ", ".join(items[:LISTED])
    more = len(items) - LISTED
    return shown if more <= 0 else f"{shown} and {more} more"


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


def _counted_callouts(plan: Plan) -> list[str]:
    """The callouts as counts only, when even the bounded ones would not fit (huge host
    names, messages or notes, or masking that lengthens them)."""
    destroys = sum(1 for c in plan.changes if c.action is Action.DELETE)
    downtime = sum(1 for c in plan.changes if c.downtime)
    found = [
        (plan.recorded is not None, ":floppy_disk: **Planned from a recording, not from the hosts.**"),
        (bool(plan.errors), f":x: **This plan is incomplete: {len(plan.errors)} host(s) could not be read.**"),
        (bool(plan.lock), ":lock: **The deploy lock is held**: apply will refuse."),
        (bool(destroys), f":warning: **{destroys} to destroy.**"),
        (bool(downtime), f":warning: **Downtime expected** ({downtime} resource(s))."),
        (bool(plan.notes), f"{len(plan.notes)} note(s)."),
        (True, "_Details of these callouts are too long for a comment: run `backstaff plan`._"),
    ]  # fmt: skip
    return [f"> {text}" for shown, text in found if shown]


def _callouts(plan: Plan) -> list[str]:
    """Each its own quoted paragraph, so none runs into the next; each bounded in length."""
    callouts: list[str] = []
    if plan.recorded is not None:
        callouts.append(f"> :floppy_disk: **{_cell(recorded_note(plan.recorded), 4 * CELL)}**")
    unread = plan.unread_hosts
    if unread:
        of = f" of {len(plan.hosts)}" if plan.hosts else ""
        callouts.append(
            f"> :x: **This plan is incomplete: {len(unread)}{of} host(s) could not be read"
            f" ({_listed([_cell(h, CELL) for h in unread])}); what would change there is unknown.**"
        )
    for host, message in plan.errors[:LISTED]:
        callouts.append(f"> :x: **{_cell(host, CELL)} could not be read:** {_cell(message, CELL)}")
    if len(plan.errors) > LISTED:
        callouts.append(
            f"> :x: **… and {len(plan.errors) - LISTED} more host(s) could not be read**"
        )
    if plan.lock:
        holder = plan.lock.splitlines()[0] if plan.lock else ""
        callouts.append(
            f"> :lock: **The deploy lock is held** ({_cell(holder, CELL)}): apply will refuse."
        )
    destroys = [c for c in plan.changes if c.action is Action.DELETE]
    if destroys:
        named = [f"`{_cell(c.address, CELL)}` ({_cell(c.reasons[0] if c.reasons else '', CELL)})"
                 for c in destroys]  # fmt: skip
        callouts.append(f"> :warning: **{len(destroys)} to destroy:** " + _listed(named))
    downtime = [f"`{_cell(c.address, CELL)}`" for c in plan.changes if c.downtime]
    if downtime:
        callouts.append("> :warning: **Downtime expected:** " + _listed(downtime))
    callouts += [f"> {_cell(note, 2 * CELL)}" for note in plan.notes[:LISTED]]
    return callouts


def _block(host: str, changes: list[Change]) -> str:
    from tabulate import tabulate  # where used: 10 ms a command without tables saves

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
    return (
        f"<details><summary><code>{host}</code>: {counts}</summary>\n\n{table}\n\n"
        f"{attributes}</details>\n"
    )


def _cut_note(shown: int, total: int) -> str:
    return (
        f"\n_… truncated: {total - shown} of {total} host(s) not shown (their details would not"
        " fit in a comment; the summary above counts every host). Run `backstaff plan`, or"
        " `backstaff show` on the saved plan, for the full plan._\n"
    )


def _top(plan: Plan, callouts: list[str]) -> str:
    """The summary, the service and version, the callouts."""
    destination = f", destination `{_cell(plan.destination, CELL)}`" if plan.destination else ""
    head = [
        f"**{summary_line(plan)}**",
        "",
        f"`{_cell(plan.service, CELL)}` version `{_cell(plan.version, CELL)}`{destination}",
        "",
    ]
    if callouts:
        head += ["\n>\n".join(callouts), ""]
    if not plan.has_changes:
        head.append(no_changes(plan))
    return "\n".join(head).rstrip() + "\n\n"


def render_markdown(
    plan: Plan, limit: int = LIMIT, masker: Callable[[str], str] = lambda text: text
) -> str:
    """``masker`` hides secret values; it is applied before measuring, so the masked text is
    what stays within ``limit``. The marker line is masked too (a secret as short as ``ba``
    would survive in ``backstaff``): masked the same way on every run, a workflow that takes
    the first line of the output still finds its earlier comment."""
    first = masker(marker(plan) + "\n\n")
    top = _top(plan, _callouts(plan))
    if len(first) + len(masker(top)) > limit // 2:  # leave room for host details
        top = _top(plan, _counted_callouts(plan))
    by_host: dict[str, list[Change]] = {}
    for change in plan.changes:
        by_host.setdefault(change.host, []).append(change)
    blocks = [_block(host, by_host[host]) for host in sorted(by_host)]

    def text(shown: int) -> str:
        cut = _cut_note(shown, len(blocks)) if shown < len(blocks) else ""
        return top + "".join(blocks[:shown]) + cut

    # the most blocks that fit, measured piece by piece as masked, then checked as a whole
    sizes = [len(masker(block)) for block in blocks]
    room = limit - len(first) - len(masker(top))
    shown = len(blocks)
    if sum(sizes) > room:
        room -= len(_cut_note(len(blocks), len(blocks))) + 20
        shown = 0
        while shown < len(blocks) and room - sizes[shown] >= 0:
            room -= sizes[shown]
            shown += 1
    while shown > 0 and len(first) + len(masker(text(shown))) > limit:
        shown -= 1
    return first + masker(text(shown))
