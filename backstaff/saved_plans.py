"""Plan files: read one back, and run it only if it is exactly the plan made now."""

from __future__ import annotations

import json
from pathlib import Path

from backstaff.errors import BackstaffError
from backstaff.planner.plan import (
    Plan,
    PlanFormatError,
    SavedPlan,
    first_difference,
    plan_from_dict,
)
from backstaff.planner.recording import KIND as RECORDING
from backstaff.planner.render import render


def check_saved(saved: SavedPlan, fresh: Plan, secrets: list[str]) -> None:
    """A saved plan runs only if it is exactly the plan made now: then the fresh one runs."""
    difference = first_difference(saved.data, json.loads(render(fresh, "json", secrets=secrets)))
    if difference is not None:
        raise BackstaffError(f"refusing the saved plan: {difference}; run `backstaff plan` again")


def load_saved(path: Path) -> SavedPlan:
    """The plan file as written (compared field by field) and as read (its version)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("kind") == RECORDING:
            raise PlanFormatError(
                f"it is a recording of the hosts: plan from it with `plan --live {path}`"
            )
        return SavedPlan(data, plan_from_dict(data))
    except OSError as exc:
        raise BackstaffError(f"cannot read the plan {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError, PlanFormatError) as exc:
        raise BackstaffError(f"cannot read the plan {path}: {exc}") from None
