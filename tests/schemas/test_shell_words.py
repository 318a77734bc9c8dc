"""schemas/shell_words.py against real shells: the words sh, dash, bash and busybox make of a
``cmd:`` (Kamal hands it to the host's shell), for text with quotes, backslashes, line
continuations and comments but nothing a shell would expand; and, for an alias, the words the
real Ruby's ``Shellwords.split`` makes (Kamal's alias expansion). ``ruby`` comes from
scripts/setup.sh."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backstaff.schemas.shell_words import ruby_shellwords, shell_words

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


# Any sequence, quotes left open and trailing backslashes too: Ruby's rules for all of it.
RUBY_PIECES = st.sampled_from([
    "a", "b#c", " ", "\t", "\n", "\r", "\f", "\v", "\\", "\\\n", "\\a", "\\ ", "\\'",
    '\\"', "''", '""', "'x y'", "'a\nb'", "'\\n\\'", '"x y"', '"a\nb"', '"\\$ \\` \\" \\\\ \\a"',
    '"a\\\nb"', "\"'\"", "'\"'", "'", '"', "é", "\u00a0", "\u2028", "\x85", "$HOME", "#", "-",
])  # fmt: skip


def ruby_split(texts: list[str]) -> list[list[str] | str]:
    """Each text's words by the real Ruby's Shellwords.split, or its ArgumentError's message."""
    ruby = shutil.which("ruby")
    assert ruby, "ruby is not installed: run scripts/setup.sh (Debian package ruby)"
    program = (
        'require "json"; require "shellwords"; puts(JSON.parse(STDIN.read).map { |t|'
        " begin; Shellwords.split(t); rescue ArgumentError => e; e.message; end }.to_json)"
    )
    done = subprocess.run(
        [ruby, "-e", program], input=json.dumps(texts), capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    answer: list[list[str] | str] = json.loads(done.stdout)
    return answer


def ours(text: str) -> list[str] | str:
    try:
        return ruby_shellwords(text)
    except ValueError as exc:
        return str(exc)


@settings(max_examples=20, deadline=None)
@given(texts=st.lists(st.lists(RUBY_PIECES, max_size=10).map("".join), min_size=20, max_size=20))
def test_an_alias_is_split_as_rubys_shellwords_splits_it(texts: list[str]) -> None:
    assert [ours(text) for text in texts] == ruby_split(texts)


def test_where_rubys_shellwords_differs_from_a_shell() -> None:
    """Real alias lines where Kamal's split is not the shell's (nor shlex's): checked against
    the real Ruby too."""
    cases = {
        'app exec "echo \\$HOME"': ["app", "exec", "echo $HOME"],  # shlex kept the backslash
        "app exec -r web echo a # b": ["app", "exec", "-r", "web", "echo", "a", "#", "b"],
        "app exec echo a\\\nb": ["app", "exec", "echo", "a\\\nb"],
        'app exec "a\\\nb"': ["app", "exec", "a\nb"],
        "logs \\": ["logs", "\\"],
        "a\fb\vc": ["a", "b", "c"],
    }
    assert {text: ours(text) for text in cases} == cases
    assert ruby_split(list(cases)) == list(cases.values())
    assert (
        ours('app exec "x') == 'Unmatched quote: "app exec \\"x"' == ruby_split(['app exec "x'])[0]
    )
