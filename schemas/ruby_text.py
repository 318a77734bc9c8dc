"""Ruby's ``String#strip`` and argument-less ``#chomp``, as Kamal's Ruby reads text: for the ERB
evaluator and for dotenv's files."""

from __future__ import annotations

BLANKS = "\0 \t\n\v\f\r"  # what Ruby's strip removes


def strip(text: str, left: bool = True, right: bool = True) -> str:
    if left:
        text = text.lstrip(BLANKS)
    if right:
        text = text.rstrip(BLANKS)
    return text


def chomp(text: str) -> str:
    """One trailing line break off (``\\r\\n``, ``\\n`` or ``\\r``), as a command's output is read."""
    for ending in ("\r\n", "\n", "\r"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text
