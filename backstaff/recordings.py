"""Recordings of the live state: ``refresh --out`` writes one, ``plan --live`` plans from one
without connecting to anything (no SSH, no pre-connect hook)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from backstaff.errors import BackstaffError
from backstaff.planner.live import LiveHost, LiveState
from backstaff.planner.plan import Recorded
from backstaff.planner.recording import (
    Recording,
    RecordingFormatError,
    recording_from_dict,
    recording_to_dict,
)
from backstaff.runtime import now

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def write_recording(path: Path, service: str, destination: str | None, live: LiveState) -> str:
    """Write the recording; returns its time (UTC)."""
    recorded_at = now()
    data = recording_to_dict(Recording(service, destination, recorded_at, live))
    try:
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise BackstaffError(f"cannot write the recording {path}: {exc.strerror or exc}") from None
    return recorded_at


def load_recording(path: Path, service: str, destination: str | None) -> Recording:
    """The recording at ``path``, refused unless it is of this service and destination."""
    try:
        recording = recording_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise BackstaffError(f"cannot read the recording {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackstaffError(f"cannot read the recording {path}: not JSON ({exc})") from None
    except RecordingFormatError as exc:
        raise BackstaffError(f"cannot read the recording {path}: {exc}") from None
    if (recording.service, recording.destination) != (service, destination):
        raise BackstaffError(
            f"the recording {path} is of service {recording.service}"
            f" {_destination(recording.destination)}, not of service {service}"
            f" {_destination(destination)}: record it with `backstaff refresh` for this one"
        )
    if _parse_time(recording.recorded_at) is None:
        raise BackstaffError(
            f"cannot read the recording {path}: recorded_at {recording.recorded_at!r} is not"
            " a UTC time such as 2026-12-04T01:45:12Z"
        )
    return recording


def _destination(destination: str | None) -> str:
    return f"destination {destination}" if destination else "(no destination)"


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def recorded(path: Path, recording: Recording) -> Recorded:
    """Where a plan's live state came from, with how old it is now."""
    at = _parse_time(recording.recorded_at)
    age = 0 if at is None else int((datetime.now(UTC) - at).total_seconds())
    return Recorded(str(path), recording.recorded_at, age)


def recorded_live(path: Path, recording: Recording, hosts: list[str]) -> LiveState:
    """The recording's state of exactly these hosts (the ones a live plan would read): a host
    it does not hold is unread, so the plan says it is incomplete."""
    held = {h.host: h for h in recording.live.hosts}
    missing = f"not in the recording {path} (run `backstaff refresh` again)"
    return LiveState(tuple(held.get(host) or LiveHost(host, error=missing) for host in hosts))
