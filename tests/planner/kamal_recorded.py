"""What the real Kamal 2.11 ran on the test bed (fixtures/kamal-commands/), as shell words.

Parity is the same effect, not the same bytes: a command matches when a POSIX shell splits it
into the same words and operators (``--env A="x"`` and ``'A=x'`` give docker one argument)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

RECORDED = Path(__file__).resolve().parents[2] / "fixtures" / "kamal-commands"


def words(command: str) -> tuple[str, ...]:
    """The words and operators of a command line (``(echo`` is ``(`` then ``echo``), with the
    random hostname suffix evened."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return tuple(re.sub(r"^(\S+)-[0-9a-f]{12}$", r"\1-HEX", w) for w in lexer)


def recorded(name: str) -> set[tuple[str, ...]]:
    """The commands of one recorded run (``02-deploy-P-v2``), as words."""
    return {words(line) for line in (RECORDED / f"{name}.txt").read_text().splitlines()}
