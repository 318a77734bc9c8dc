"""Docker option and flag formatting over typed words (words.py), and Kamal's env-file escaping."""

from __future__ import annotations

from backstaff.planner.commands.words import PIPE, Cmd, Val, Word, render
from backstaff.planner.model import Options

__all__ = ["Cmd", "argumentize", "join", "optionize", "pipe", "ruby_dump"]


def ruby_dump(value: str) -> str:
    """Ruby's ``String#dump`` without the surrounding quotes."""
    out = []
    for char in value:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\x{ord(char):02X}")
        else:
            out.append(char)
    return "".join(out)


def blank(value: str) -> bool:
    """Ruby's ``blank?`` for text (empty or spaces): the values Kamal's argumentize passes as
    a bare ``--flag KEY``."""
    return value.strip() == ""


def argumentize(flag: str, pairs: tuple[tuple[str, str], ...]) -> Cmd:
    """``--flag KEY=value`` per pair, the pair one word; a blank value (empty or spaces: not
    Ruby's ``present?``) gives ``--flag KEY`` alone, as Kamal's ``argumentize`` does. For
    ``--env`` that is not an empty variable: docker passes on the variable of its own
    environment, usually none (``planner/diff._env`` compares accordingly)."""
    tokens: list[Word] = []
    for key, value in pairs:
        if blank(value):
            tokens += [flag, Val(key)]
        else:
            tokens += [flag, Val(f"{key}={value}")]
    return tuple(tokens)


def optionize(options: Options, with_equals: bool = False) -> Cmd:
    """Docker options: ``true`` a bare flag, a list repeats the flag, each value one word."""
    tokens: list[Word] = []
    for key, value in options:
        values = value if isinstance(value, tuple) else (value,)
        for item in values:
            if item is True:
                tokens.append(Val(f"--{key}"))
            elif with_equals:
                tokens.append(Val(f"--{key}={item}"))
            else:
                tokens += [Val(f"--{key}"), Val(str(item))]
    return tuple(tokens)


def join(cmd: Cmd) -> str:
    """The command line (runtime values shown as ``<name>``)."""
    return render(cmd)


def pipe(*commands: Cmd) -> Cmd:
    tokens: list[Word] = []
    for index, command in enumerate(commands):
        if index:
            tokens.append(PIPE)
        tokens += command
    return tuple(tokens)
