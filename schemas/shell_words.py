"""A ``cmd:`` as the words a POSIX shell makes of it, with quote removal only.

Kamal hands ``cmd`` to the host's shell as text; backstaff passes each word on as data, so the
words must be the shell's: a backslash-newline joins lines, a backslash inside double quotes
escapes only ``$ ` " \\`` and a line break, and a ``#`` that starts a word starts a comment.
Python's ``shlex`` differs on all three (``-c a \\<newline> -c b`` gave the container a
line break as an argument). Nothing is expanded: ``$VAR``, ``~`` and globs stay as written.

An alias is split as Kamal splits it, with Ruby's ``Shellwords.split`` (``ruby_shellwords``),
whose rules are neither the shell's nor shlex's.
"""

from __future__ import annotations

import re

from backstaff.schemas.ruby_text import inspect_string

BLANKS = " \t\n"
ESCAPED_IN_DOUBLE_QUOTES = '$`"\\\n'


def shell_words(text: str) -> list[str]:
    """The words of ``text``; ValueError for a quote that does not close or a trailing
    backslash (shlex's messages)."""
    words: list[str] = []
    word: list[str] = []
    in_word = False  # a quoted "" is a word of its own
    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if char in BLANKS:
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
            i += 1
            continue
        if char == "#" and not in_word:
            newline = text.find("\n", i)
            i = end if newline < 0 else newline
            continue
        if char == "\\":
            if i + 1 == end:
                raise ValueError("No escaped character")
            if text[i + 1] == "\n":  # a backslash-newline is no character at all
                i += 2
                continue
            word.append(text[i + 1])
            i += 2
        elif char == "'":
            close = text.find("'", i + 1)
            if close < 0:
                raise ValueError("No closing quotation")
            word.append(text[i + 1 : close])
            i = close + 1
        elif char == '"':
            i = _double_quoted(text, i + 1, word)
        else:
            word.append(char)
            i += 1
        in_word = True
    if in_word:
        words.append("".join(word))
    return words


def _double_quoted(text: str, i: int, word: list[str]) -> int:
    """Append the double-quoted text from ``i`` to ``word``; the index after the closing quote."""
    while i < len(text):
        char = text[i]
        if char == '"':
            return i + 1
        if char == "\\" and i + 1 < len(text) and text[i + 1] in ESCAPED_IN_DOUBLE_QUOTES:
            if text[i + 1] != "\n":
                word.append(text[i + 1])
            i += 2
        else:
            word.append(char)
            i += 1
    raise ValueError("No closing quotation")


_RUBY_BLANK = " \t\r\n\f\v"  # Ruby's \s
# Ruby 3.1's Shellwords.shellsplit, token by token: a bare word, a single-quoted, a
# double-quoted or an escaped part, or a stray character (an unmatched quote), then the
# blank or the end that closes the word, if any.
_RUBY_TOKEN = re.compile(
    rf"[{_RUBY_BLANK}]*(?>([^{_RUBY_BLANK}\\'\"]+)|'([^']*)'|\"((?:[^\"\\]|\\.)*)\"|(\\.?)"
    rf"|([^{_RUBY_BLANK}]))([{_RUBY_BLANK}]|\Z)?",
    re.DOTALL,
)
_RUBY_DOUBLE_QUOTED_ESCAPE = re.compile(r'\\([$`"\\\n])')
_RUBY_ESCAPE = re.compile(r"\\(.)")  # no DOTALL: a backslash before a line break stays


def ruby_shellwords(text: str) -> list[str]:
    """The words Ruby's ``Shellwords.split`` makes of ``text`` (Kamal's alias expansion): no
    comments, a backslash inside double quotes escapes ``$ ` " \\`` and a line break (which
    it keeps), a backslash before a line break outside quotes stays with it, and a trailing
    backslash is itself. ValueError with Ruby's words for an unmatched quote."""
    words: list[str] = []
    field: list[str] = []
    position = 0
    while match := _RUBY_TOKEN.match(text, position):  # every token takes a character
        word, single, double, escaped, stray, closed = match.groups()
        if stray is not None:
            raise ValueError(f"Unmatched quote: {inspect_string(text)}")
        if word is not None or single is not None:
            field.append(word if word is not None else single)
        elif double is not None:
            field.append(_RUBY_DOUBLE_QUOTED_ESCAPE.sub(r"\1", double))
        else:
            field.append(_RUBY_ESCAPE.sub(r"\1", escaped))
        if closed is not None:
            words.append("".join(field))
            field = []
        position = match.end()
    return words
