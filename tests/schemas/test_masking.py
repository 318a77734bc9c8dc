"""Masking (issue #12, "values are data"): no secret value survives in any form any rendering
or error message gives it, whatever the secrets hold and however they overlap."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backstaff.planner.changes import Action, Change
from backstaff.planner.plan import Plan
from backstaff.planner.render import render
from backstaff.schemas.errors import ConfigErrors
from backstaff.schemas.masking import MASK, mask
from backstaff.schemas.secrets import CommandFailed, Secrets, SecretsFile

SPECIAL = list("\"\\|<>&'`$*+?()[]{}^.\n\r\t é—😀\x00\x1b")
secret_text = st.one_of(
    st.sampled_from(["tbpass", "pass", "ab", "ba", "a|b", 'p"q\\']),  # short, overlapping
    st.text(
        st.one_of(st.sampled_from(SPECIAL), st.characters(codec="utf-8")), min_size=1, max_size=10
    ),
)
secret_sets = st.lists(secret_text, min_size=1, max_size=4, unique=True).filter(
    lambda secrets: all(MASK not in s and s not in MASK for s in secrets)
)


def escaped(secret: str) -> set[str]:
    """The forms a reader could recognise: raw, JSON both ways, a Markdown cell."""
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        secret.replace("|", "\\|").replace("\n", " "),
    }


def survivors(text: str, secrets: Iterable[str]) -> list[str]:
    """Secrets still readable in ``text``, masks being opaque."""
    pieces = text.split(MASK)
    return [s for s in secrets for form in escaped(s) if any(form in p for p in pieces)]


def _strings(data: object) -> Iterable[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, Mapping):
        for key, value in data.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)


def plan_with(secrets: list[str]) -> Plan:
    """A plan carrying the secrets everywhere a value can go: env values, reasons, errors,
    the lock message, notes; alone and inside other text."""
    joined = "|".join(secrets)
    changes = tuple(
        Change(
            "app",
            f"web{i}",
            "10.0.0.1",
            Action.REPLACE,
            (f"env changed: TOKEN={secret}", f"x{secret}y"),
            (("env", f"A={secret}"),),
            (("env", f"B=pre {secret} post"), ("joined", joined)),
            downtime=i == 0,
        )  # fmt: skip
        for i, secret in enumerate(secrets)
    )
    return Plan(
        service="tb", destination=None, version="v2", changes=changes, steps=(),
        depends_on=(), live_fingerprint="f", config_digest="c", hosts=("10.0.0.1", "10.0.0.2"),
        lock=f"Locked by: {secrets[0]}\nMessage: {joined}",
        errors=(("10.0.0.2", f"could not read: {joined}"),), notes=(f"note {joined}",),
    )  # fmt: skip


@settings(max_examples=300)
@given(secrets=secret_sets, filler=st.text(max_size=20))
def test_no_secret_survives_in_any_text(secrets: list[str], filler: str) -> None:
    text = filler.join([*secrets, *(json.dumps(s) for s in secrets), filler])
    assert survivors(mask(text, secrets), secrets) == []


@settings(max_examples=150, deadline=None)
@given(secrets=secret_sets)
@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_no_secret_survives_in_any_rendering(fmt: str, secrets: list[str]) -> None:
    text = render(plan_with(secrets), fmt, verbose=True, secrets=secrets)
    assert survivors(text, secrets) == []
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return  # a secret such as `"` or `:` masks the JSON's own syntax; nothing leaks
        for value in _strings(data):
            assert survivors(value, secrets) == []


def test_known_cases() -> None:
    assert mask("u=tbpass", ["tbpass"]) == f"u={MASK}"
    assert mask("ab", ["a"]) == f"{MASK}b"  # no value is too short
    assert mask("abcdef", ["abcd", "cdef"]) == f"{MASK}ef"  # longest first, scanned once
    # a secret inside a longer one: the longer is masked whole, no piece of it is left
    assert mask("tbpass pass", ["pass", "tbpass"]) == f"{MASK} {MASK}"
    assert mask("abcdef", ["abc", "abcdef"]) == MASK
    assert mask('"p\\"q"', ['p"q']) == f'"{MASK}"'  # JSON escaped
    assert mask("p\\u00e9", ["pé"]) == MASK  # JSON ensure_ascii
    assert mask("| a\\|b |", ["a|b"]) == f"| {MASK} |"  # Markdown cell
    assert mask("'it'\\''s'", ["it's"]) == f"'{MASK}'"  # shell word
    assert mask("x", []) == "x" and mask("x", [""]) == "x"
    assert mask("RED", ["RED"]) == MASK


def _failing(reason: str, stderr: str):  # type: ignore[no-untyped-def]
    def run(command: str, env: Mapping[str, str]) -> str:
        if command.startswith("echo "):
            return command.removeprefix("echo ") + "\n"
        raise CommandFailed(reason, stderr)

    return run


def test_a_failing_secrets_command_is_shown_as_written() -> None:
    text = 'A=$(echo s3cr3t-a)\nB="$(op read --password $OP_PASS ${A})"\n'
    secrets = Secrets(
        [SecretsFile(".kamal/secrets", text)], expected_files=[".kamal/secrets"],
        env={"OP_PASS": "hunter2-pass"},
        run_command=_failing("failed with exit code 1",
                             "op: wrong password hunter2-pass for s3cr3t-a\nsecond line"),
    )  # fmt: skip
    assert secrets["A"] == "s3cr3t-a"
    with pytest.raises(ConfigErrors) as caught:
        secrets["B"]
    message = str(caught.value)
    assert "hunter2" not in message and "s3cr3t" not in message
    assert message == (
        "secrets command `op read --password $OP_PASS ${A}` failed with exit code 1:"
        f" op: wrong password {MASK} for {MASK} / second line"
    )


def test_an_adapter_failure_naming_a_secret_it_was_given_masks_it() -> None:
    """``kamal secrets fetch --from $PROJECT`` failing says which project it read: a value of
    the file, masked in the reason as in stderr."""
    text = "PROJECT=drupal-prod-123\nS=$(kamal secrets fetch --adapter gcp --from $PROJECT X)\n"

    def fetch(command: str, env: Mapping[str, str]) -> str:
        raise CommandFailed("failed", "NOT_FOUND: projects/drupal-prod-123/secrets/X",
                            "Could not read drupal-prod-123/X from Google Secret Manager")  # fmt: skip

    secrets = Secrets([SecretsFile(".kamal/secrets", text)], expected_files=[".kamal/secrets"],
                      env={}, run_command=fetch)  # fmt: skip
    with pytest.raises(ConfigErrors) as caught:
        secrets["S"]
    assert str(caught.value) == (
        "secrets command `kamal secrets fetch --adapter gcp --from $PROJECT X` failed: Could not"
        f" read {MASK}/X from Google Secret Manager: NOT_FOUND: projects/{MASK}/secrets/X"
    )


@settings(max_examples=200)
@given(values=secret_sets)
def test_a_failing_command_never_shows_a_value(values: list[str]) -> None:
    names = [f"S{i}" for i in range(len(values))]
    env = dict(zip(names, values, strict=True))
    command = " ".join(f"${n}" for n in names)
    secrets = Secrets(
        [SecretsFile("s", f"X=$(tool {command})\n")], expected_files=["s"], env=env,
        run_command=_failing("failed with exit code 2", "\n".join(values)),
    )  # fmt: skip
    with pytest.raises(ConfigErrors) as caught:
        secrets["X"]
    written = f"secrets command `tool {command}` failed with exit code 2"
    message = str(caught.value)
    assert message.startswith(written)  # the command as written, unexpanded
    assert survivors(message.removeprefix(written).removeprefix(": "), values) == []  # stderr


def test_every_escaped_form_is_masked_whole() -> None:
    """Each form a rendering gives a secret, where it differs from the raw value."""
    assert mask('"p\\"é"', ['p"é']) == f'"{MASK}"'  # JSON without ensure_ascii
    assert mask("| a\\|b c |", ["a|b\nc"]) == f"| {MASK} |"  # Markdown cell of two lines
    assert mask('x a&lt;"b y', ['a<"b']) == f"x {MASK} y"  # HTML, quotes left alone
    assert mask("x a&lt;&quot;b y", ['a<"b']) == f"x {MASK} y"  # HTML, quotes escaped
    assert mask(repr(["a\tb"]), ["a\tb"]) == f"['{MASK}']"  # repr
    assert mask(repr(["a\x01"]), ["a\x01"]) == f"['{MASK}']"  # repr, unlike JSON's \u0001
    assert mask("'it'\"'\"'s'", ["it's"]) == f"'{MASK}'"  # shell word, the other way
    # a secret of several lines, printed line by line (tables, indented blocks), or whole
    assert mask("one\n  two\nthree\none\ntwo\nthree", ["one\ntwo\nthree"]) == (
        f"{MASK}\n  {MASK}\n{MASK}\n{MASK}"
    )
    assert mask("x ab y", ["ab\ncd"]) == f"x {MASK} y"
