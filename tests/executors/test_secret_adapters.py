"""``kamal secrets`` as backstaff runs it: Ruby's shellescape/shellsplit/JSON.dump ported
exactly, extract's key matching, Thor's option forms, adapter lookup, and ``$(kamal secrets …)``
in a secrets file run in-process (no ``kamal``), its failures named as written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backstaff.executors.config_files import read_secrets
from backstaff.executors.secret_adapters import AdapterError, Vendor, lookup
from backstaff.executors.secret_adapters.command import INLINE, extract_value, run_inline
from backstaff.executors.secret_adapters.words import dump_json, ruby_split, shellescape, shellsplit
from backstaff.schemas.errors import ConfigErrors

CLIS = Path(__file__).parent / "secret_clis"


def test_shellescape_is_rubys() -> None:
    assert shellescape("") == "''"
    assert shellescape("a-b_c.d,e:f+g/h@i") == "a-b_c.d,e:f+g/h@i"
    assert shellescape('{"A":"x y"}') == '\\{\\"A\\":\\"x\\ y\\"\\}'
    assert shellescape("a\nb") == "a'\n'b"
    assert shellescape("é$`\\") == "\\é\\$\\`\\\\"


@given(st.text())
def test_shellsplit_reads_back_what_shellescape_wrote(text: str) -> None:
    assert shellsplit(f"extract NAME {shellescape(text)}") == ["extract", "NAME", text]


def test_shellsplit_is_rubys() -> None:
    assert shellsplit("""a 'b c' "d \\"e\\" \\$f \\x" g\\ h""") == [
        "a",
        "b c",
        'd "e" $f \\x',
        "g h",
    ]
    assert shellsplit("  one  ") == ["one"]
    assert shellsplit("a''b") == ["ab"]
    with pytest.raises(ValueError, match="Unmatched quote"):
        shellsplit("a 'b")


def test_dump_json_is_rubys() -> None:
    assert dump_json({"a b": 'é\n\x01"\\/'}) == '{"a b":"é\\n\\u0001\\"\\\\/"}'


def test_ruby_split_drops_trailing_empty_fields() -> None:
    assert ruby_split("a/b/", "/") == ["a", "b"]
    assert ruby_split("a//b", "/") == ["a", "", "b"]
    assert ruby_split("", "/") == []


def test_extract_matches_the_key_then_a_slash_suffix() -> None:
    secrets = dump_json({"Vault/Item/A": "suffix", "A": "exact", "Vault/Item/BA": "ba"})
    assert extract_value("A", secrets) == "exact"
    assert extract_value("BA", secrets) == "ba"
    assert extract_value("Item/BA", secrets) == "ba"
    assert extract_value("N", dump_json({"x/N": 5})) == "5"
    with pytest.raises(AdapterError, match="Could not find secret B$"):
        extract_value("B", secrets)
    with pytest.raises(AdapterError, match="Could not find secret A"):
        extract_value("A", dump_json({"A": None}))
    with pytest.raises(AdapterError, match="not the JSON"):
        extract_value("A", "nope")


def test_lookup_takes_kamals_names_and_aliases() -> None:
    vendor = Vendor({})
    names = {
        "1password": "OnePassword", "1Password": "OnePassword", "one_password": "OnePassword",
        "bitwarden": "Bitwarden", "bitwarden-sm": "BitwardenSecretsManager",
        "lastpass": "LastPass", "last_pass": "LastPass", "aws_secrets_manager": "AwsSecretsManager",
        "gcp": "GcpSecretManager", "gcp_secret_manager": "GcpSecretManager",
        "doppler": "Doppler", "passbolt": "Passbolt", "enpass": "Enpass", "test": "Test",
    }  # fmt: skip
    for name, cls in names.items():
        assert type(lookup(name, vendor)).__name__ == cls
    with pytest.raises(AdapterError, match="^Unknown secrets adapter: vault9$"):
        lookup("vault9", vendor)


def test_inline_commands_are_the_ones_kamal_inlines() -> None:
    assert INLINE.match("kamal secrets fetch -a x")
    assert INLINE.match("  kamal  secrets extract A B")
    assert not INLINE.match("echo kamal secrets fetch")
    assert not INLINE.match("kamal secretsfetch")


def test_thor_option_forms_and_inline_escaping() -> None:
    env = {"PATH": os.environ["PATH"]}
    for options in (
        "--adapter test --account x",
        "-a test --account=x",
        "--adapter=test --account x",
    ):
        out = run_inline(f"kamal secrets fetch {options} --from V 'a b'", env)
        assert out == shellescape(dump_json({"V/a b": "b a/V"}))
        assert shellsplit(f"x {out}") == ["x", '{"V/a b":"b a/V"}']
    with pytest.raises(AdapterError, match="No value provided for required options '--account'"):
        run_inline("kamal secrets fetch --adapter test A", env)
    with pytest.raises(AdapterError, match="Unknown secrets adapter: nope"):
        run_inline("kamal secrets fetch --adapter nope A", env)
    with pytest.raises(AdapterError, match="cannot run inside a secrets file"):
        run_inline("kamal secrets print", env)


def test_missing_cli_is_kamals_error(tmp_path: Path) -> None:
    vendor = Vendor({"PATH": str(tmp_path)})
    messages = {
        "1password": "1Password CLI is not installed", "bitwarden": "Bitwarden CLI is not installed",
        "bitwarden-sm": "Bitwarden Secrets Manager CLI is not installed",
        "lastpass": "LastPass CLI is not installed", "aws_secrets_manager": "AWS CLI is not installed",
        "gcp": "gcloud CLI is not installed", "doppler": "Doppler CLI is not installed",
        "passbolt": "Passbolt CLI is not installed", "enpass": "Enpass CLI is not installed",
    }  # fmt: skip
    for name, message in messages.items():
        with pytest.raises(AdapterError, match=f"^{message}$"):
            lookup(name, vendor).fetch(["A"], "acct", "/vault")


def test_a_failing_fetch_in_a_secrets_file_is_named_as_written(tmp_path: Path) -> None:
    (tmp_path / ".kamal").mkdir()
    (tmp_path / ".kamal/secrets").write_text(
        "SECRETS=$(kamal secrets fetch --adapter lastpass --account me@example.com Kamal/NOPE)\n"
        "A=$(kamal secrets extract A $SECRETS)\n"
    )
    env = {"PATH": f"{CLIS}{os.pathsep}{os.environ['PATH']}"}
    secrets = read_secrets(tmp_path, ".kamal/secrets", None, env)
    with pytest.raises(ConfigErrors) as caught:
        secrets["A"]
    assert str(caught.value) == (
        "secrets command `kamal secrets fetch --adapter lastpass --account me@example.com"
        ' Kamal/NOPE` failed: Could not read ["Kamal/NOPE"] from LastPass:'
        " Error: Could not find specified account(s)."
    )
