"""Apply's live progress on the terminal: a line per step started and finished, or JSON events."""

from __future__ import annotations

import json
import time

import click

from backstaff.executors.apply import StepResult
from backstaff.planner.steps import Step


class ConsoleReporter:
    """Live progress: one line when a step starts and one when it ends (or JSON events)."""

    def __init__(self, json_events: bool, quiet: bool) -> None:
        self.json_events, self.quiet, self.start = json_events, quiet, time.monotonic()

    def _emit(self, event: str, step: Step, **extra: object) -> None:
        elapsed = time.monotonic() - self.start
        if self.json_events:
            click.echo(json.dumps({"event": event, "step": step.id, "host": step.host,
                                   "elapsed": round(elapsed, 2), **extra}))  # fmt: skip
        elif not self.quiet:
            detail = (
                f" ({extra['seconds']:.1f}s)" if "seconds" in extra else f": {step.description}"
            )
            error = f"\n      {extra['error']}" if extra.get("error") else ""
            click.echo(f"  [{elapsed:6.1f}s] {event:<8} {step.id}{detail}{error}")

    def started(self, step: Step) -> None:
        self._emit("start", step)

    def finished(self, result: StepResult) -> None:
        event = "done" if result.status == "ok" else "FAILED"
        self._emit(event, result.step, seconds=round(result.seconds, 2), error=result.error)
