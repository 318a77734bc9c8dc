"""The built-in Ruby subset, form by form, with Ruby's semantics (checked against the real
Ruby in tests/executors/test_erb_host.py)."""

from __future__ import annotations

import pytest

from backstaff.schemas import ConfigErrors
from backstaff.schemas.erb import RubyState, render, render_file
from tests.schemas.erb_fakes import FakeHost

ENV = {"HOST": "1.2.3.4", "EMPTY": "", "LIST": "a, b,,c,,", "PADDED": "  v1 \n", "N": "42x"}
HOST = FakeHost(
    commands={
        "git rev-parse HEAD": "abc123\n",
        "echo 1.2.3.4": "1.2.3.4\n",
        "false": "",
        "docker info --format '{{.Architecture}}'": "x86_64\n",
    },  # fmt: skip
    files={".ruby-version": "3.3.7\n", "config/token": "s3cret"},
)


def out(expr: str) -> str:
    return render(f"<%= {expr} %>", ENV, "config/deploy.yml", HOST)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # ENV
        ('ENV["HOST"]', "1.2.3.4"),
        ("ENV['HOST']", "1.2.3.4"),
        ('ENV["NOPE"]', ""),
        ('ENV.fetch("HOST")', "1.2.3.4"),
        ('ENV.fetch("NOPE", "d")', "d"),
        ('ENV.fetch("NOPE", nil)', ""),
        ('ENV.fetch("EMPTY", "d")', ""),
        ('ENV.fetch("NOPE") { "block" }', "block"),
        ('ENV.fetch("NOPE") { |k| k + "!" }', "NOPE!"),
        ('ENV.fetch("HOST") { "block" }', "1.2.3.4"),
        ('ENV.key?("EMPTY")', "true"),
        ('ENV.key?("NOPE")', "false"),
        ('ENV.has_key?("HOST")', "true"),
        # literals and operators
        ("nil", ""),
        ("true", "true"),
        ("false", "false"),
        ("42", "42"),
        ("-1", "-1"),
        ('"a\\tb\\n\\e\\u00e9\\x41\\101\\s#{1 + 2}"', "a\tb\n\x1béAA 3"),
        ("'a\\'b\\\\c\\n'", "a'b\\c\\n"),
        ('"#{nil}|#{true}|#{[1, nil]}"', "|true|[1, nil]"),
        ("%q(a (b) c)", "a (b) c"),
        ('%Q{x#{ENV["HOST"]}}', "x1.2.3.4"),
        ('"a" + "b" + ENV["HOST"]', "ab1.2.3.4"),
        ("1 + 2", "3"),
        ("[1] + [2]", "[1, 2]"),
        ('ENV["EMPTY"] || "d"', ""),
        ('ENV["NOPE"] || "d"', "d"),
        ('ENV["NOPE"] || ENV["X"] || "#{RUBY_ENGINE}-#{RUBY_ENGINE_VERSION}"', "ruby-3.3.7"),
        ("false || nil", ""),
        ('ENV["HOST"] && "yes"', "yes"),
        ('ENV["NOPE"] && "yes"', ""),
        ('!ENV["NOPE"]', "true"),
        ('!!ENV["EMPTY"]', "true"),
        ('ENV["HOST"] == "1.2.3.4"', "true"),
        ('ENV["HOST"] != "1.2.3.4"', "false"),
        ("1 == true", "false"),
        ("nil == false", "false"),
        ('ENV["NOPE"] ? "a" : "b"', "b"),
        ('ENV["EMPTY"] ? "a" : "b"', "a"),
        ('ENV.key?("HOST") ? (ENV["HOST"] == "x" ? 1 : 2) : 3', "2"),
        ('"x" if ENV["HOST"]', "x"),
        ('"x" unless ENV["HOST"]', ""),
        ('ENV.fetch("NOPE") rescue "rescued"', "rescued"),
        ("a = 1; b = a + 1; b", "2"),
        # methods
        ('ENV["PADDED"].strip', "v1"),
        ('ENV["PADDED"].lstrip', "v1 \n"),
        ('ENV["PADDED"].rstrip', "  v1"),
        ('ENV["PADDED"].chomp', "  v1 "),
        ('"a\\r\\n".chomp', "a"),
        ('"ab.yml".chomp(".yml")', "ab"),
        ('ENV["N"].to_i', "42"),
        ('" -1_000x".to_i', "-1000"),
        ('"x".to_i', "0"),
        ("nil.to_i", "0"),
        ("nil.to_s", ""),
        ("nil.to_a", "[]"),
        ('ENV["LIST"].split(",")', '["a", " b", "", "c"]'),
        ('" a  b ".split', '["a", "b"]'),
        ('"a b".split(" ").first', "a"),
        ('"a b".split(" ").last', "b"),
        ('"".split(",").first', ""),
        ('"a-b-c".split("-").first(2)', '["a", "b"]'),
        ('"a-b-c".split("-").join("+")', "a+b+c"),
        ('"a-b-c".split("-")[1]', "b"),
        ('"a-b-c".split("-")[-1]', "c"),
        ('"a-b-c".split("-")[5]', ""),
        ('"hello"[1]', "e"),
        ('"hello"[1, 3]', "ell"),
        ('"Hello".downcase', "hello"),
        ('"Hello".upcase', "HELLO"),
        ('"hello world".capitalize', "Hello world"),
        ('"a\\nb\\n".lines', '["a\\n", "b\\n"]'),
        ('"a\\nb".lines.last', "b"),
        ('"".empty?', "true"),
        ("[].empty?", "true"),
        ('ENV["NOPE"].nil?', "true"),
        ('ENV["EMPTY"].presence || "d"', "d"),
        ('" ".blank?', "true"),
        ('"x".present?', "true"),
        ("nil.presence", ""),
        ('"abc".include?("b")', "true"),
        ('"abc".start_with?("x", "a")', "true"),
        ('"abc".end_with?("c")', "true"),
        ('"abc".length', "3"),
        ('"v1.2".delete_prefix("v")', "1.2"),
        ('"a.b.c".gsub(".", "-")', "a-b-c"),
        ('"a.b.c".sub(".", "-")', "a-b.c"),
        ("[1, nil, 1].compact.uniq", "[1]"),
        ('"a\\"b#{1}\\#{x}".inspect', '"a\\"b1\\#{x}"'),
        ('"\\x7f\\x01\\e".inspect', '"\\u007F\\u0001\\e"'),
        ('ENV["NOPE"]&.strip', ""),
        ('ENV["PADDED"]&.strip', "v1"),
        ('ENV["HOST"]\n  .split(".")\n  .last', "4"),
        # the world: commands, files
        ("`git rev-parse HEAD`.strip", "abc123"),
        ("%x(git rev-parse HEAD).strip", "abc123"),
        ("%x{git rev-parse HEAD}.chomp", "abc123"),
        ('`echo #{ENV["HOST"]}`.strip', "1.2.3.4"),
        ("`false`", ""),
        ("Kamal::Utils.docker_arch", "amd64"),
        ('File.read(".ruby-version").strip', "3.3.7"),
        ('File.exist?(".ruby-version")', "true"),
        ('File.exist?("nope")', "false"),
        ('File.exist?("config/token") ? File.read("config/token") : "none"', "s3cret"),
    ],
)
def test_expression(expr: str, expected: str) -> None:
    assert out(expr) == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ('ENV.fetch("NOPE")', 'key not found: "NOPE"'),
        ('ENV["NOPE"].strip', "undefined method `strip' for nil"),
        ('ENV["NOPE"].split(",")', "undefined method `split' for nil"),
        ('ENV["NOPE"][0]', "undefined method `[]' for nil"),
        ('ENV["NOPE"] + "x"', "undefined method `+' for nil"),
        ('"a" + 1', "no implicit conversion of Integer into String"),
        ('"a" + ENV["NOPE"]', "no implicit conversion of nil into String"),
        ("1 + nil", "nil can't be coerced into Integer"),
        ("ENV[1]", "no implicit conversion of Integer into String"),
        ("`no-such-command`", "No such file or directory - no-such-command"),
        ('File.read("missing.txt")', "No such file or directory @ rb_sysopen - missing.txt"),
    ],
)
def test_ruby_exceptions_read_like_kamal(expr: str, message: str) -> None:
    with pytest.raises(ConfigErrors) as exc:
        render(f"a: 1\nb: <%= {expr} %>", ENV, "config/deploy.yml", HOST)
    assert str(exc.value) == f"config/deploy.yml: line 2: {message}"


def test_env_assignment_and_locals_across_tags() -> None:
    text = '<% ENV["NEW"] = "n"; x = ENV["NEW"] + "!" %><%= x %><% ENV["NEW"] = nil %><%= ENV["NEW"].inspect %>'
    assert render(text, {}, "f", HOST) == "n!nil"


def test_commands_see_the_erb_env() -> None:
    host = FakeHost(commands={"env": "ok"})
    render('<% ENV["EXTRA"] = "1" %><%= `env` %>', {"A": "b"}, "f", host)
    assert host.ran == [("env", {"A": "b", "EXTRA": "1"})]


def test_dotenv_loads_without_overriding_and_later_lookups_see_it() -> None:
    files = {".env": "# c\nexport A=from_env\nB='quoted # not a comment'\nC=plain # comment\n",
             "other.env": "D=\"d\"\nA=other\n"}  # fmt: skip
    host = FakeHost(files=files)
    text = (
        '<% require "dotenv"; Dotenv.load; Dotenv.load("missing.env", "other.env") %>'
        '<%= ENV["A"] %>|<%= ENV["B"] %>|<%= ENV["C"] %>|<%= ENV["D"] %>|<%= ENV["KEEP"] %>'
    )
    assert (
        render(text, {"KEEP": "k", "C": "pre"}, "f", host)
        == "from_env|quoted # not a comment|pre|d|k"
    )
    assert render('<% require "dotenv/load" %><%= ENV.fetch("A") %>', {}, "f", host) == "from_env"
    assert (
        render('<% require "dotenv"; Dotenv.overload %><%= ENV["A"] %>', {"A": "x"}, "f", host)
        == "from_env"
    )


@pytest.mark.parametrize(
    "text",
    ['<%= ENV.fetch("IMAGE") { raise "IMAGE is required" } %>',
     '<%= ENV.fetch("IMAGE") { raise("IMAGE is required") } %>',
     '<% raise "IMAGE is required" unless ENV.key?("IMAGE") %>'],
)  # fmt: skip
def test_raise_is_a_runtime_error_with_its_message(text: str) -> None:
    """As configs use it (``ENV.fetch('IMAGE') { raise '...' }``): Kamal prints the message."""
    with pytest.raises(ConfigErrors) as exc:
        render(text, {}, "config/deploy.yml")
    assert str(exc.value) == "config/deploy.yml: line 1: IMAGE is required"
    assert "IMAGE is required" not in render(text, {"IMAGE": "app"}, "config/deploy.yml")


@pytest.mark.parametrize(
    ("text", "rendered"),
    [('<%= ENV.fetch("HOSTS", "").split(",").map(&:strip).reject(&:empty?) %>', '["a", "b"]'),
     ('<%= ENV["HOSTS"].split(",").collect(&:strip).select(&:empty?).size %>', "1"),
     ('<%= ENV["HOSTS"].split(",").map(&:strip).filter(&:empty?).inspect %>', '[""]')],
)  # fmt: skip
def test_a_method_name_as_the_block(text: str, rendered: str) -> None:
    """``map(&:strip)`` and ``reject(&:empty?)``, as configs split host lists."""
    assert render(text, {"HOSTS": " a, ,b"}, "f") == rendered


@pytest.mark.parametrize(
    ("text", "rendered"),
    [('<% begin; require "dotenv"; Dotenv.load; rescue LoadError; end %>ok', "ok"),
     ('<% begin %><%= ENV.fetch("NOPE") %><% rescue KeyError %>fallback<% end %>', "fallback"),
     ('<%= begin; ENV.fetch("NOPE"); rescue; "bare"; end %>', "bare"),
     ('<%= begin; ENV.fetch("NOPE"); rescue LoadError, IndexError; "parent"; end %>', "parent"),
     ('<%= begin; raise "x"; rescue StandardError; "std"; end %>', "std")],
)  # fmt: skip
def test_begin_rescue_as_ruby(text: str, rendered: str) -> None:
    """What Ruby 3's ERB renders for each (checked with ``ruby -rerb``)."""
    assert render(text, {}, "f", FakeHost(files={})) == rendered


def test_a_rescue_of_another_class_lets_the_error_through() -> None:
    with pytest.raises(ConfigErrors, match='key not found: "NOPE"'):
        render('<%= begin; ENV.fetch("NOPE"); rescue LoadError; "no"; end %>', {}, "f")


def test_require_returns_true_once() -> None:
    assert render('<%= require "dotenv" %> <%= require("dotenv") %>', {}, "f") == "true false"


def test_state_carries_to_the_next_file() -> None:
    host = FakeHost(files={".env": "A=1\n"})
    state = RubyState({})
    render_file('<% require "dotenv/load" %>', "config/deploy.yml", state, host)
    assert render_file("<%= ENV['A'] %> <%= require 'dotenv' %>", "d.yml", state, host) == "1 false"
