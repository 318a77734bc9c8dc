"""A failing ``$(…)`` in .kamal/secrets, run by the real ``sh``: the error names the command
as written (``$VAR``, never its value) and shows stderr with every known secret masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from backstaff.executors.config_files import read_secrets
from backstaff.schemas.errors import ConfigErrors
from backstaff.schemas.masking import MASK


def test_failing_secrets_command_shows_the_command_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OP_PASS", "hunter2-pass")
    (tmp_path / ".kamal").mkdir()
    (tmp_path / ".kamal/secrets").write_text(
        "TOKEN=$(printf tok-3x4mpl3)\n"
        'DB=$(echo "op: bad password $OP_PASS (token $TOKEN)" >&2; echo out-$OP_PASS; exit 7)\n'
        "LATER=$(echo $TOKEN $OP_PASS; sleep 0)\n"
    )
    secrets = read_secrets(tmp_path, ".kamal/secrets", None)
    assert secrets["TOKEN"] == "tok-3x4mpl3"
    with pytest.raises(ConfigErrors) as caught:
        secrets["DB"]
    message = str(caught.value)
    assert "$OP_PASS" in message and "$TOKEN" in message
    assert "hunter2" not in message and "tok-3x4mpl3" not in message and "out-hunter" not in message
    assert message == (
        'secrets command `echo "op: bad password $OP_PASS (token $TOKEN)" >&2;'
        " echo out-$OP_PASS; exit 7` failed with exit code 7:"
        f" op: bad password {MASK} (token {MASK})"
    )


def test_what_a_succeeding_command_says_on_stderr_is_shown_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As Kamal shows it: "Vault is locked." from a password manager whose output is then
    empty is not lost; the secrets read before are masked in it."""
    (tmp_path / ".kamal").mkdir()
    (tmp_path / ".kamal/secrets").write_text(
        "TOKEN=$(printf tok-3x4mpl3)\n"
        "PASSWORD=$(echo 'Vault is locked.' >&2; echo \"token $TOKEN\" >&2; true)\n"
    )
    secrets = read_secrets(tmp_path, ".kamal/secrets", None)
    assert secrets["PASSWORD"] == ""
    out, err = capsys.readouterr()
    assert out == "" and err == f"Vault is locked.\ntoken {MASK}\n"
