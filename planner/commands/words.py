"""Command words: the one way a command reaches a shell, so a value can never become syntax.

A command is a tuple of words. Each word is one of:

- a plain ``str``: a literal written in backstaff's code (``docker``, ``--detach``); it must
  consist only of characters the shell gives no meaning to, or rendering refuses it;
- :class:`Val`: data (a config value, a version, a host's answer): always exactly one shell
  word, whatever it holds, quoted so the shell expands nothing in it;
- :class:`Raw`: shell syntax (``&&``, ``|``, ``$(...)`` scripts) that Kamal's own commands
  need. It is built only from string constants in the source (tests/planner/test_words.py
  checks every ``Raw(...)`` call), never from a value;
- :class:`Sub`: the output of another command, as one word (``"$(docker ps -q ...)"``);
- :class:`Cat`: several words joined into one (``"$PWD"`` followed by a value);
- :class:`Runtime`: a value known only when the step runs (the lock details, which hold the
  time); the executor supplies it and it is rendered as a :class:`Val`.

Secrets are never words: a step names them (``stdin_secrets``) and they go on stdin or into
0600 files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

SAFE = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")


@dataclass(frozen=True)
class Val:
    """Data: one shell word whatever it holds."""

    text: str


@dataclass(frozen=True)
class Raw:
    """Shell syntax from backstaff's own constants, never from a value."""

    text: str


@dataclass(frozen=True)
class Sub:
    """Another command's output, as one word."""

    command: tuple[Word, ...]


@dataclass(frozen=True)
class Cat:
    """Several words joined into one."""

    parts: tuple[Word, ...]


@dataclass(frozen=True)
class Runtime:
    """A value known only when the step runs, supplied by the executor."""

    name: str


Word = str | Val | Raw | Sub | Cat | Runtime
Cmd = tuple[Word, ...]

AND, OR, PIPE, SEMI = Raw("&&"), Raw("||"), Raw("|"), Raw(";")
GROUP, END_GROUP = Raw("{"), Raw("}")  # ``{ a ; b ; }``: one command's output, piped on
STDERR_TO_STDOUT = Raw("2>&1")
PWD = Raw('"$PWD"')


class UnsafeWord(ValueError):
    """A literal with shell meaning, or a value the shell cannot carry: a bug or a value
    that validation should have refused; never rendered."""


def quote(text: str) -> str:
    """One shell word holding exactly ``text`` in sh, dash and bash (POSIX single quotes)."""
    if "\0" in text:
        raise UnsafeWord("a NUL byte cannot be passed in a command")
    if SAFE.fullmatch(text):
        return text
    return "'" + text.replace("'", "'\\''") + "'"


def render_word(word: Word, runtime: Callable[[str], str] | None = None) -> str:
    if isinstance(word, str):
        if not SAFE.fullmatch(word):
            raise UnsafeWord(f"literal {word!r} has shell meaning: it must be a Val or a Raw")
        return word
    if isinstance(word, Val):
        return quote(word.text)
    if isinstance(word, Raw):
        return word.text
    if isinstance(word, Sub):
        return '"$(' + render(word.command, runtime) + ')"'
    if isinstance(word, Cat):
        return "".join(render_word(part, runtime) for part in word.parts)
    if isinstance(word, Runtime):
        if runtime is None:
            return f"<{word.name}>"  # display only: the executor always supplies it
        return quote(runtime(word.name))
    raise TypeError(f"not a command word: {word!r}")


def render(command: Cmd, runtime: Callable[[str], str] | None = None) -> str:
    """The command line a shell runs. Without ``runtime``, runtime values show as ``<name>``
    (for display and plans); the executor passes them in."""
    return " ".join(render_word(word, runtime) for word in command)


def display(command: Cmd) -> str:
    return render(command)


def values(command: Cmd) -> list[str]:
    """Every value carried by the command (for tests and reviews)."""
    found: list[str] = []
    for word in command:
        if isinstance(word, Val):
            found.append(word.text)
        elif isinstance(word, Sub):
            found += values(word.command)
        elif isinstance(word, Cat):
            found += values(word.parts)
    return found


# -- plans on disk ----------------------------------------------------------------------------


def to_json(command: Cmd) -> list[Any]:
    return [_word_to_json(word) for word in command]


def _word_to_json(word: Word) -> Any:
    if isinstance(word, str):
        return word
    if isinstance(word, Val):
        return {"value": word.text}
    if isinstance(word, Raw):
        return {"shell": word.text}
    if isinstance(word, Sub):
        return {"output_of": to_json(word.command)}
    if isinstance(word, Cat):
        return {"joined": to_json(word.parts)}
    return {"runtime": word.name}


def from_json(data: list[Any]) -> Cmd:
    return tuple(_word_from_json(item) for item in data)


def _word_from_json(item: Any) -> Word:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping) and len(item) == 1:
        ((kind, value),) = item.items()
        if kind == "value" and isinstance(value, str):
            return Val(value)
        if kind == "shell" and isinstance(value, str):
            return Raw(value)
        if kind == "output_of" and isinstance(value, list):
            return Sub(from_json(value))
        if kind == "joined" and isinstance(value, list):
            return Cat(from_json(value))
        if kind == "runtime" and isinstance(value, str):
            return Runtime(value)
    raise ValueError(f"not a command word: {item!r}")
