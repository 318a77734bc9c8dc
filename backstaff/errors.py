"""Exit statuses and the one place errors become text (never a traceback unless --verbose)."""

from __future__ import annotations

import enum
import sys
import traceback
import weakref
from collections.abc import Callable, Iterable

import click

from backstaff.planner.filters import FilterError
from backstaff.planner.version import VersionError
from backstaff.schemas import ConfigErrors
from backstaff.schemas.masking import mask


class ExitStatus(enum.IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2  # plan --detailed-exitcode: changes present
    INTERRUPTED = 130


class BackstaffError(Exception):
    """An expected failure with a message for the user."""

    exit_status = ExitStatus.ERROR


EXPECTED = (ConfigErrors, FilterError, VersionError, BackstaffError)


_SOURCES: list[weakref.WeakMethod[Callable[[], Iterable[str]]]] = []


def watch_secrets(source: Callable[[], Iterable[str]]) -> None:
    """Register a bound method giving the secret values read so far (an AppContext's): every
    error ``report`` prints is masked with them. Held weakly: a finished context is dropped."""
    _SOURCES[:] = [ref for ref in _SOURCES if ref() is not None]
    _SOURCES.append(weakref.WeakMethod(source))


def known_secrets() -> list[str]:
    return [value for ref in _SOURCES if (source := ref()) for value in source()]


def warn(note: str) -> None:
    """A config note (what the config's text was read as), every secret value masked."""
    click.secho(mask(f"  WARNING: {note}", known_secrets()), fg="yellow", err=True)


def report(exc: BaseException, verbose: bool) -> ExitStatus:
    """Print ``exc`` for the user, every secret value read so far masked in every form."""
    secrets = known_secrets()
    if isinstance(exc, ConfigErrors):
        for note in exc.notes:
            warn(note)
        lines = [f"  ERROR: {error}" for error in exc.errors]
    elif isinstance(exc, EXPECTED):
        lines = [f"  ERROR: {exc}"]
    else:
        lines = [f"  ERROR ({type(exc).__name__}): {exc}"]
    for line in lines:
        click.secho(mask(line, secrets), fg="red", err=True)
    if verbose:
        sys.stderr.write(mask("".join(traceback.format_exception(exc)), secrets))
    return getattr(exc, "exit_status", ExitStatus.ERROR)
