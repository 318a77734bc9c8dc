"""A ``cmd:`` as the words a POSIX shell makes of it, with quote removal only.

Kamal hands ``cmd`` to the host's shell as text; backstaff passes each word on as data, so the
words must be the shell's: a backslash-newline joins lines, a backslash inside double quotes
escapes only ``$ ` " \\`` and a line break, and a ``#`` that starts a word starts a comment.
Python's ``shlex`` differs on all three (``-c a \\<newline> -c b`` gave the container a
line break as an argument). Nothing is expanded: ``$VAR``, ``~`` and globs stay as written.
"""

from __future__ import annotations

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
