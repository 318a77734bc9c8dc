"""The ERB subset real Kamal configs use; anything else is a clear error."""

from __future__ import annotations

import pytest

from backstaff.schemas import ConfigErrors
from backstaff.schemas.erb import render

ENV = {"HOST": "1.2.3.4", "EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('host: <%= ENV["HOST"] %>', "host: 1.2.3.4"),
        ("host: <%= ENV['HOST'] %>", "host: 1.2.3.4"),
        ('host: <%= ENV["NOPE"] %>', "host: "),
        ('host: <%= ENV.fetch("HOST") %>', "host: 1.2.3.4"),
        ('host: <%= ENV.fetch("NOPE", "d.example") %>', "host: d.example"),
        ('host: <%= ENV.fetch("EMPTY", "d") %>', "host: "),
        ("a: 1\n<%# a comment %>\nb: 2", "a: 1\n\nb: 2"),
        ("a: <%= ENV['HOST'] -%>\nb: 2", "a: 1.2.3.4b: 2"),
        ("no tags at all", "no tags at all"),
    ],
)
def test_supported_forms(text: str, expected: str) -> None:
    assert render(text, ENV, "deploy.yml") == expected


def test_fetch_of_a_missing_variable_names_it() -> None:
    with pytest.raises(ConfigErrors) as exc:
        render('a: 1\nb: <%= ENV.fetch("DB_HOST") %>', ENV, "config/deploy.yml")
    assert str(exc.value) == (
        'config/deploy.yml: line 2: ENV.fetch("DB_HOST"): environment variable DB_HOST is not set'
    )


@pytest.mark.parametrize(
    "tag", ["<%= `whoami` %>", "<% if true %>", '<%= ENV["A"] + "x" %>', "<%= %x(aws ecr) %>"]
)
def test_anything_else_is_refused_with_file_and_line(tag: str) -> None:
    with pytest.raises(ConfigErrors) as exc:
        render(f"x: 1\ny: {tag}", ENV, "config/deploy.yml")
    message = str(exc.value)
    assert message.startswith("config/deploy.yml: line 2: unsupported ERB")
    assert 'ENV.fetch("X", "default")' in message
