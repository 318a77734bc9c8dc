"""Renderings of a Plan: text for terminals, JSON for machines, Markdown for pull requests."""

from __future__ import annotations

import json
from collections.abc import Iterable

from backstaff.planner.plan import Plan, plan_to_dict
from backstaff.planner.render.markdown import render_markdown
from backstaff.planner.render.text import render_text
from backstaff.schemas.masking import MASK, mask


def render(plan: Plan, fmt: str, *, verbose: bool = False, secrets: Iterable[str] = ()) -> str:
    secrets = tuple(secrets)  # used once per piece below
    if fmt == "json":
        text = json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "markdown":  # masked before it is measured against the comment limit
        return render_markdown(plan, masker=lambda piece: mask(piece, secrets))
    else:
        text = render_text(plan, verbose=verbose)
    return mask(text, secrets)


__all__ = ["MASK", "mask", "render", "render_markdown", "render_text"]
