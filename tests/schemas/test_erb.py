"""deploy.yml as ERB: Ruby's ERB scanning in trim mode "-", if/else across tags, the Ruby
fallback for what the built-in evaluator does not cover, and the one error without Ruby."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backstaff.schemas import ConfigErrors
from backstaff.schemas.erb import RubyRendered, render
from tests.schemas.erb_fakes import FakeHost

ENV = {"HOST": "1.2.3.4", "EMPTY": ""}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('host: <%= ENV["HOST"] %>', "host: 1.2.3.4"),
        ("no tags at all", "no tags at all"),
        ("a: 1\n<%# a comment %>\nb: 2", "a: 1\n\nb: 2"),
        ("a: 1\n<%# a comment -%>\nb: 2", "a: 1\nb: 2"),
        ("a: <%= ENV['HOST'] -%>\nb: 2", "a: 1.2.3.4b: 2"),
        ("a: <%= ENV['HOST'] -%>", "a: 1.2.3.4"),
        ("a: <%= ENV['HOST'] %>\nb: 2", "a: 1.2.3.4\nb: 2"),
        ("a:\n  <%- x = 1 -%>\n  b: <%= x %>", "a:\n  b: 1"),
        ("a:\n  <% x = 1 -%>\n  b: <%= x %>", "a:\n    b: 1"),
        ("a: x <%- x = 1 %>|", "a: x |"),
        ("<%% literal %> <%= '%%>' %>", "<% literal %> %>"),
        ("a %%> b", "a %%> b"),
        ("a: <%= ENV['X'] }}", "a:  ENV['X'] }}"),  # an unclosed tag is text, as in Ruby
        ("<%= %>|<% %>|<%# %>", "||"),
        ("a\r\n<% x = 1 -%>\r\nb", "a\r\nb"),
        # the kamal init template's comment
        (
            '# <%= ENV["RBENV_VERSION"] || ENV["rvm_ruby_string"] || '
            '"#{RUBY_ENGINE}-#{RUBY_ENGINE_VERSION}" %>\nservice: x',
            "# ruby-3.3.7\nservice: x",
        ),
    ],
)
def test_template_forms(text: str, expected: str) -> None:
    assert render(text, ENV, "deploy.yml") == expected


IF_TEXT = """\
servers:
<% if ENV["ROLE"] == "a" -%>
  - a.example
<% elsif ENV.key?("ROLE") && !ENV["ROLE"].empty? -%>
  - <%= ENV["ROLE"] %>.example
<% else -%>
  - default.example
<% end -%>
<% unless ENV["ROLE"] %>no role<% end %>
<% if ENV["ROLE"] then %>then<% end %>
"""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ROLE": "a"}, "servers:\n  - a.example\n\nthen\n"),
        ({"ROLE": "b"}, "servers:\n  - b.example\n\nthen\n"),
        ({"ROLE": ""}, "servers:\n  - default.example\n\nthen\n"),
        ({}, "servers:\n  - default.example\nno role\n\n"),
    ],
)
def test_if_elsif_else_across_tags(env: dict[str, str], expected: str) -> None:
    assert render(IF_TEXT, env, "deploy.yml") == expected


def test_statements_across_lines_and_semicolons() -> None:
    text = '<%\n  a = ENV["HOST"]\n  b = a.split(".") ; c = b.last\n%><%= c %>'
    assert render(text, ENV, "f") == "4"


def test_without_io_commands_are_refused_with_file_and_line() -> None:
    with pytest.raises(ConfigErrors) as exc:
        render("x: 1\ny: <%= `whoami` %>", ENV, "config/deploy.yml")
    assert str(exc.value) == (
        "config/deploy.yml: line 2: cannot run `whoami` here (no I/O when loading from text)"
    )


@pytest.mark.parametrize(
    "tag",
    [
        "<% [1,2].each do |x| %>",
        "<%= ENV.map { |k, v| k }.join %>",
        "<%= Time.now %>",
        "<%= puts 'x' %>",
        '<%= ENV["A"] =~ /x/ %>',
        "<%= 1 - 2 %>",
        "<%= x # a comment %>",
        "<%= <<~EOS %>",
        "<%= ENV.fetch 'A' %>",
    ],
)
def test_beyond_the_subset_without_ruby_is_one_error(tag: str) -> None:
    with pytest.raises(ConfigErrors) as exc:
        render(f"x: 1\ny: {tag}\nz: 2", ENV, "config/deploy.yml")
    assert len(exc.value.errors) == 1
    message = str(exc.value)
    assert message.startswith(
        f"config/deploy.yml: line 2: cannot evaluate ERB `{tag}` without Ruby"
    )
    assert message.endswith("install ruby and backstaff renders it with Ruby's ERB, as Kamal does)")


def test_beyond_the_subset_the_whole_file_goes_to_ruby() -> None:
    host = FakeHost(ruby=RubyRendered("rendered by ruby", {"FROM_RUBY": "1"}))
    text = 'a: <%= ENV["HOST"] %>\n<% [1,2].each do |x| %><%= x %><% end %>'
    assert render(text, ENV, "config/deploy.yml", host) == "rendered by ruby"
    assert host.ruby_calls == [text]


def test_supported_files_never_call_ruby() -> None:
    host = FakeHost(ruby=RubyRendered("no", {}))
    assert render('<%= ENV["HOST"] %>', ENV, "f", host) == "1.2.3.4"
    assert host.ruby_calls == []


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("<%=#-> \n\"'`{}()[]|&!?:.,;+aEN_V1$\\x")), max_size=60)
)
def test_rendering_erb_like_text_raises_only_config_errors(text: str) -> None:
    try:
        render(text, ENV, "config/deploy.yml")
    except ConfigErrors:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_rendering_any_text_raises_only_config_errors(text: str) -> None:
    try:
        render(text, ENV, "config/deploy.yml")
    except ConfigErrors:
        pass


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(['ENV["HOST"]', "ENV.fetch('X')", "nil", '"s#{1}"', "`cmd`",
                                 "||", "&&", "!", "?", ":", "(", ")", ".strip", ".split(',')",
                                 "[0]", " if ", " else ", " end ", ";", "\n", "%>", "<%", "<%=",
                                 "-%>", "<%-", "x = ", "x", "+", "==", "{", "}", "rescue"]),
                max_size=20))  # fmt: skip
def test_rendering_ruby_like_soup_raises_only_config_errors(parts: list[str]) -> None:
    try:
        render("".join(parts), ENV, "config/deploy.yml", FakeHost(commands={"cmd": "out"}))
    except ConfigErrors:
        pass
