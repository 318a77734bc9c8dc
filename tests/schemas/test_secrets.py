"""Secrets files: dotenv syntax, substitution, lazy evaluation, Kamal's messages (the values
against the real Kamal: tests/schemas/test_secrets_kamal.py)."""

from __future__ import annotations

import pytest

from backstaff.schemas import ConfigErrors
from backstaff.schemas.secrets import Secrets, SecretsFile, secrets_file_names

COMMON = SecretsFile(".kamal/secrets-common", "SHARED=common\nOVERRIDE=from-common\n")
MAIN = SecretsFile(
    ".kamal/secrets",
    """# comment
OVERRIDE=from-main
export TOKEN=abc#not-a-comment  # a comment
SHARED=main
SINGLE='$HOME stays'
DOUBLE="line1\\nline2 $SHARED"
BRACED=${SHARED}-x
FROM_ENV=$USER_NAME
ESCAPED=\\$SHARED
CMD=$(read-secret $SHARED)
NESTED=$(echo $(inner))
ALIAS=$TOKEN
EMPTY=
""",
)


def make(run=None, files=(COMMON, MAIN)):  # type: ignore[no-untyped-def]
    calls: list[str] = []

    def runner(command: str, env: object) -> str:
        calls.append(command)
        return f"<{command}>\n"

    secrets = Secrets(
        list(files),
        expected_files=[".kamal/secrets-common", ".kamal/secrets"],
        env={"USER_NAME": "alice", "HOME": "/root"},
        run_command=run or runner,
    )
    return secrets, calls


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SHARED", "main"),
        ("OVERRIDE", "from-main"),
        ("TOKEN", "abc"),  # dotenv: a # ends an unquoted value
        ("SINGLE", "$HOME stays"),
        ("DOUBLE", "line1\\nline2 main"),  # \n stays a backslash and an n
        ("BRACED", "main-x"),
        ("FROM_ENV", "alice"),
        ("ESCAPED", "$SHARED"),
        ("CMD", "<read-secret main>"),
        ("NESTED", "<echo $(inner)>"),
        ("ALIAS", "abc"),
        ("EMPTY", ""),
    ],
)
def test_values(name: str, value: str) -> None:
    secrets, _ = make()
    assert secrets[name] == value


def test_commands_run_only_when_their_secret_is_used_and_only_once() -> None:
    secrets, calls = make()
    assert secrets["TOKEN"]
    assert calls == []
    secrets["CMD"]
    secrets["CMD"]
    assert calls == ["read-secret main"]
    assert "<read-secret main>" in secrets.resolved_values()


def test_missing_secret_messages_match_kamal() -> None:
    secrets, _ = make()
    with pytest.raises(ConfigErrors) as exc:
        secrets["NOPE"]
    assert str(exc.value) == "Secret 'NOPE' not found in .kamal/secrets-common, .kamal/secrets"
    empty, _ = make(files=())
    with pytest.raises(ConfigErrors) as exc:
        empty["NOPE"]
    assert str(exc.value) == (
        "Secret 'NOPE' not found, no secret files (.kamal/secrets-common, .kamal/secrets) provided"
    )


def test_a_line_dotenv_cannot_read_is_skipped_as_kamal_skips_it() -> None:
    secrets = Secrets(
        [SecretsFile(".kamal/secrets", "OK=1\nnot a line\nBARE\n")], expected_files=[]
    )
    assert secrets.names_in_file_order() == ["OK", "BARE"] and secrets["BARE"] == ""


def test_exporting_a_name_not_above_is_dotenvs_error() -> None:
    with pytest.raises(ConfigErrors) as exc:
        Secrets([SecretsFile(".kamal/secrets", "A=1\nexport A\nexport B\n")], expected_files=[])
    assert str(exc.value) == '.kamal/secrets: Line "export B" has an unset variable'


def test_a_name_sees_the_lines_above_it_in_its_own_file_only() -> None:
    """dotenv reads each file alone, top to bottom: a name below, or in another file, is the
    environment's (or empty); a name given twice is the value above at that point."""
    common = SecretsFile(".kamal/secrets-common", "C=common\n")
    main = SecretsFile(".kamal/secrets", "A=$B\nB=$A\nX=1\nY=$X\nX=2\nZ=$C$HOME\n")
    secrets, _ = make(files=(common, main))
    assert [secrets[n] for n in ("A", "B", "Y", "X", "Z")] == ["", "", "1", "2", "/root"]


def test_a_commands_output_is_not_read_for_names() -> None:
    """Where dotenv runs its ``$NAME`` expansion over a command's output (a fetched
    ``pa$word`` would read as ``pa``), the output is kept as the command gave it."""
    secrets, _ = make(
        run=lambda command, env: "pa$word \\$HOME\n",
        files=(SecretsFile(".kamal/secrets", "word=x\nP=$(fetch)\n"),),
    )
    assert secrets["P"] == "pa$word \\$HOME"


def test_file_names_follow_kamal() -> None:
    assert secrets_file_names(".kamal/secrets", None) == [".kamal/secrets-common", ".kamal/secrets"]
    assert secrets_file_names("conf/sec", "prod") == ["conf/sec-common", "conf/sec.prod"]
