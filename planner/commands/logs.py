"""The words of Kamal's ``logs`` options, shared by ``app``, ``accessory`` and ``proxy logs``.

Kamal 2.11 (lib/kamal/commands/app/logging.rb, accessory.rb, proxy.rb): ``--since`` and
``--tail`` go to ``docker logs`` as given, ``--timestamps`` unless ``-T``, stderr joins stdout,
and ``--grep`` pipes the output through ``grep PATTERN GREP_OPTIONS``. The pattern and since are
values (one word each); the grep options are split as the host's shell splits Kamal's line,
each word then a value.
"""

from __future__ import annotations

from backstaff.planner.commands.app import command_words
from backstaff.planner.commands.base import Cmd, pipe
from backstaff.planner.commands.words import STDERR_TO_STDOUT, Val, Word

# Lines shown when neither -n, --since nor --grep chooses them (Kamal's defaults).
LINES, FOLLOW_LINES = 100, 10


def tail(lines: int | None, since: str | None, grep: str | None, default: int) -> int | None:
    """``-n`` as given; else every line when ``--since`` or ``--grep`` chooses them; else
    ``default``."""
    if lines is not None:
        return lines
    return None if since is not None or grep is not None else default


def since_words(since: str | None) -> Cmd:
    return ("--since", Val(since)) if since is not None else ()


def tail_words(lines: int | None) -> Cmd:
    return ("--tail", str(int(lines))) if lines is not None else ()


def timestamps_words(timestamps: bool) -> Cmd:
    return ("--timestamps",) if timestamps else ()


def grep_words(pattern: str, options: str | None) -> Cmd:
    """``grep PATTERN OPTIONS``: the options (``--grep-options "-i -C 2"``) split into words as
    a POSIX shell splits them in Kamal's command line, each word reaching grep exactly."""
    try:
        extra = command_words(options)
    except ValueError as exc:  # an unbalanced quote
        raise ValueError(f"--grep-options {options!r}: {exc}") from None
    return ("grep", Val(pattern), *extra)


def filtered(command: Cmd, grep: str | None, grep_options: str | None) -> Cmd:
    """``command``, through ``grep`` when a pattern is given (an empty one matches every line,
    as in Kamal)."""
    return pipe(command, grep_words(grep, grep_options)) if grep is not None else command


def container_logs(
    container: Word, lines: int | None, since: str | None, grep: str | None,
    grep_options: str | None, timestamps: bool, follow: bool,
) -> Cmd:  # fmt: skip
    """``docker logs`` of one named container (``accessory logs``, ``proxy logs``): the last
    ``lines`` (default 100, none when --since or --grep chooses); following, the last ``lines``
    or 10 (Kamal 2.11 always shows 10 and drops --since when following; both are kept here)."""
    if follow:
        shown = lines if lines is not None else FOLLOW_LINES
        command: Cmd = ("docker", "logs", container, *timestamps_words(timestamps),
                        *since_words(since), *tail_words(shown), "--follow")  # fmt: skip
    else:
        command = ("docker", "logs", container, *since_words(since),
                   *tail_words(tail(lines, since, grep, LINES)), *timestamps_words(timestamps))  # fmt: skip
    return filtered(command + (STDERR_TO_STDOUT,), grep, grep_options)
