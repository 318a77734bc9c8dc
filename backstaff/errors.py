"""Exit statuses and the one place errors become text (never a traceback unless --verbose)."""

from __future__ import annotations

import enum
import sys
import traceback

import click

from backstaff.planner.filters import FilterError
from backstaff.planner.version import VersionError
from backstaff.schemas import ConfigErrors


class ExitStatus(enum.IntEnum):
    OK = 0
    ERROR = 1
    CHANGES = 2  # plan --detailed-exitcode: changes present
    INTERRUPTED = 130


class BackstaffError(Exception):
    """An expected failure with a message for the user."""

    exit_status = ExitStatus.ERROR


EXPECTED = (ConfigErrors, FilterError, VersionError, BackstaffError)


def report(exc: BaseException, verbose: bool) -> ExitStatus:
    if isinstance(exc, ConfigErrors):
        for error in exc.errors:
            click.secho(f"  ERROR: {error}", fg="red", err=True)
    elif isinstance(exc, EXPECTED):
        click.secho(f"  ERROR: {exc}", fg="red", err=True)
    else:
        click.secho(f"  ERROR ({type(exc).__name__}): {exc}", fg="red", err=True)
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)
    return getattr(exc, "exit_status", ExitStatus.ERROR)
