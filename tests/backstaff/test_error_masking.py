"""Every error backstaff prints goes through masking with the secret values read so far."""

from __future__ import annotations

import json
import traceback

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backstaff import errors
from backstaff.errors import BackstaffError, ExitStatus, report, watch_secrets
from backstaff.schemas.errors import ConfigError, ConfigErrors
from tests.schemas.test_masking import secret_sets, survivors


class Source:
    def __init__(self, values: list[str]) -> None:
        self.values = values

    def read(self) -> list[str]:
        return self.values


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
# A secret of only line breaks is left out: the line breaks between printed lines are not it.
@given(
    secrets=secret_sets.filter(lambda values: all(v.strip("\r\n") for v in values)),
    kind=st.sampled_from(["config", "expected", "unexpected"]),
)
def test_report_masks_every_known_secret(
    secrets: list[str], kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    errors._SOURCES.clear()  # no context of an earlier example
    source = Source(secrets)
    watch_secrets(source.read)
    text = " ".join([*secrets, json.dumps(secrets), repr(secrets)])
    exc: Exception = {
        "config": ConfigErrors([ConfigError("env/clear", text), ConfigError("", text)]),
        "expected": BackstaffError(text),
        "unexpected": KeyError(text),
    }[kind]
    capsys.readouterr()
    report(exc, verbose=True)  # the traceback too
    err = capsys.readouterr().err
    assert err.strip() and survivors(err, secrets) == []


def test_a_finished_context_is_no_longer_watched() -> None:
    errors._SOURCES.clear()
    source = Source(["s3cr3t"])
    watch_secrets(source.read)
    assert errors.known_secrets() == ["s3cr3t"]
    del source
    assert errors.known_secrets() == []


def test_every_live_context_is_watched() -> None:
    errors._SOURCES.clear()
    first, second = Source(["one"]), Source(["two"])
    watch_secrets(first.read)
    watch_secrets(second.read)
    assert errors.known_secrets() == ["one", "two"]


def test_an_error_is_one_red_line_and_its_traceback_only_when_verbose(
    capsys: pytest.CaptureFixture[str],
) -> None:
    errors._SOURCES.clear()
    try:
        raise KeyError("boom")
    except KeyError as caught:
        exc = caught
    with click.Context(click.Command("x"), color=True):
        assert report(exc, verbose=False) == ExitStatus.ERROR
    assert capsys.readouterr().err == click.style("  ERROR (KeyError): 'boom'", fg="red") + "\n"
    assert report(exc, verbose=True) == ExitStatus.ERROR
    err = capsys.readouterr().err
    assert err == "  ERROR (KeyError): 'boom'\n" + "".join(traceback.format_exception(exc))
