"""Tokens, Kamal's value quoting, docker option and flag formatting."""

from __future__ import annotations

import re

from backstaff.planner.model import Options

Cmd = tuple[str, ...]

_DOLLAR = re.compile(r"\$(?!\{)")


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


def shell_value(value: str) -> str:
    """Kamal's ``escape_shell_value``: dumped, then backticks and ``$`` (not before ``{``)."""
    dumped = ruby_dump(value).replace("`", "\\`")
    return '"' + _DOLLAR.sub("\\\\$", dumped) + '"'


def argumentize(flag: str, pairs: tuple[tuple[str, str], ...], bare_if_empty: bool = False) -> Cmd:
    """``--flag KEY="value"`` per pair (``--label destination`` when the value is empty)."""
    tokens: list[str] = []
    for key, value in pairs:
        if bare_if_empty and value == "":
            tokens += [flag, key]
        else:
            tokens += [flag, f"{key}={shell_value(value)}"]
    return tuple(tokens)


def optionize(options: Options, with_equals: bool = False) -> Cmd:
    """Docker options: ``true`` a bare flag, a list repeats the flag, values quoted."""
    tokens: list[str] = []
    for key, value in options:
        flag = f"--{key}"
        values = value if isinstance(value, tuple) else (value,)
        for item in values:
            if item is True:
                tokens.append(flag)
            elif with_equals:
                tokens.append(f"{flag}={shell_value(str(item))}")
            else:
                tokens += [flag, shell_value(str(item))]
    return tuple(tokens)


def join(cmd: Cmd) -> str:
    return " ".join(cmd)


def pipe(*commands: Cmd) -> Cmd:
    tokens: list[str] = []
    for index, command in enumerate(commands):
        if index:
            tokens.append("|")
        tokens += command
    return tuple(tokens)


def chain(*commands: Cmd, operator: str = "&&") -> Cmd:
    tokens: list[str] = []
    for index, command in enumerate(commands):
        if index:
            tokens.append(operator)
        tokens += command
    return tuple(tokens)
