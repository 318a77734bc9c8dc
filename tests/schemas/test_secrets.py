"""Secrets files: dotenv syntax, substitution, lazy evaluation, Kamal's messages."""

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
        ("SHARED", "common"),
        ("OVERRIDE", "from-main"),
        ("TOKEN", "abc#not-a-comment"),
        ("SINGLE", "$HOME stays"),
        ("DOUBLE", "line1\nline2 common"),
        ("BRACED", "common-x"),
        ("FROM_ENV", "alice"),
        ("ESCAPED", "$SHARED"),
        ("CMD", "<read-secret common>"),
        ("NESTED", "<echo $(inner)>"),
        ("ALIAS", "abc#not-a-comment"),
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
    assert calls == ["read-secret common"]
    assert "<read-secret common>" in secrets.resolved_values()


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


def test_malformed_line_names_file_and_line() -> None:
    with pytest.raises(ConfigErrors) as exc:
        Secrets([SecretsFile(".kamal/secrets", "OK=1\nnot a line\n")], expected_files=[])
    assert str(exc.value) == ".kamal/secrets: line 2: expected NAME=value"


def test_self_reference_is_an_error_not_a_hang() -> None:
    secrets, _ = make(files=(SecretsFile(".kamal/secrets", "A=$B\nB=$A\n"),))
    with pytest.raises(ConfigErrors, match="refers to itself"):
        secrets["A"]


def test_file_names_follow_kamal() -> None:
    assert secrets_file_names(".kamal/secrets", None) == [".kamal/secrets-common", ".kamal/secrets"]
    assert secrets_file_names("conf/sec", "prod") == ["conf/sec-common", "conf/sec.prod"]
