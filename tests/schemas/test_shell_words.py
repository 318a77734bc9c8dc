"""schemas/shell_words.py against real shells: the words sh, dash, bash and busybox make of a
``cmd:`` (Kamal hands it to the host's shell), for text with quotes, backslashes, line
continuations and comments but nothing a shell would expand."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backstaff.schemas.shell_words import shell_words

SHELLS = (["sh"], ["dash"], ["bash"], ["busybox", "sh"])
# Each piece is complete (its quotes close, its backslash escapes something), so any sequence
# of them is one command line: a line break outside quotes would end the command, and is left out.
PIECES = st.sampled_from([
    "a", "b#c", " ", "\t", "  ", "\\\n", "\\a", "\\ ", "\\'", '\\"', "\\#", "\\\\", "''", '""',
    "'x y'", "'a\nb'", "'\\n\\'", '"x y"', '"a\nb"', '"\\$ \\` \\" \\\\ \\a \\n"', '"a\\\nb"',
    "\"'\"", "'\"'",
])  # fmt: skip


def shell_split(shell: list[str], text: str, tmp_path: Path) -> list[str]:
    script = tmp_path / "words.sh"
    script.write_text(f"set -- {text}\nfor w; do printf '%s\\0' \"$w\"; done\n")
    done = subprocess.run([*shell, str(script)], capture_output=True, timeout=20, check=True)
    return done.stdout.decode().split("\0")[:-1]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pieces=st.lists(PIECES, max_size=12), comment=st.booleans())
def test_the_words_are_the_shells(pieces: list[str], comment: bool, tmp_path: Path) -> None:
    text = "".join(pieces) + (" #the rest 'is a comment" if comment else "")
    for shell in SHELLS:
        assert shell_words(text) == shell_split(shell, text, tmp_path), (shell, text)


def test_lines_continued_with_a_backslash_are_one_command() -> None:
    """A real config (corpus ``sfbuff``): postgres flags over several lines."""
    assert shell_words("postgres \\\n  -c shared_buffers=64MB \\\n  -c work_mem=2MB") == [
        "postgres", "-c", "shared_buffers=64MB", "-c", "work_mem=2MB",
    ]  # fmt: skip


def test_nothing_is_expanded() -> None:
    assert shell_words('echo $HOME "$(id)" ~ * `x`') == ["echo", "$HOME", "$(id)", "~", "*", "`x`"]


@pytest.mark.parametrize("text", ["'open", '"open', "a\\"])
def test_what_a_shell_cannot_read_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        shell_words(text)
