"""ERB against the real Ruby: every form the built-in evaluator handles renders exactly as
Ruby's own ERB (trim mode "-", as Kamal) renders it, in a project with a .env, a
.ruby-version, a git repository and real commands; the fallback renders what the evaluator
cannot; without Ruby that is one clear error. ``ruby`` comes from scripts/setup.sh."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from backstaff.executors.config_files import read_sources
from backstaff.executors.erb_host import LocalErbHost
from backstaff.schemas import ConfigErrors, load_config
from backstaff.schemas.erb import RubyState, render, render_file
from backstaff.schemas.erb_ruby import RubyError

RUBY = shutil.which("ruby")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert RUBY, "ruby is not installed: run scripts/setup.sh (Debian package ruby)"
    root = tmp_path_factory.mktemp("erb-project")
    (root / "config").mkdir()
    (root / ".env").write_text(
        "# dotenv\nexport FROM_DOTENV=dotenv\nQUOTED='a # b'\nHOST=from_dotenv\n"
    )
    (root / "config" / "extra.env").write_text('EXTRA="extra value"\n')
    (root / ".ruby-version").write_text("3.3.7\n")
    (root / "token.txt").write_text("line1\nline2\n")
    (root / "bin").mkdir()
    (root / "bin" / "docker").write_text("#!/bin/sh\necho aarch64\n")  # for docker_arch
    (root / "bin" / "docker").chmod(0o755)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git, "-C", str(root), "add", "."], check=True)
    subprocess.run([*git, "-C", str(root), "commit", "-qm", "init"], check=True)
    return root


def _env(project: Path | None = None) -> dict[str, str]:
    path = os.environ["PATH"] if project is None else f"{project}/bin:{os.environ['PATH']}"
    return {"PATH": path, "HOME": os.environ.get("HOME", "/root"),
            "HOST": "1.2.3.4", "EMPTY": "", "LIST": "a, b,,c,,", "PADDED": "  v1 \n",
            "LANG": "C.UTF-8"}  # fmt: skip


EXPRESSIONS = [
    'ENV["HOST"]',
    "ENV['NOPE']",
    'ENV.fetch("HOST")',
    'ENV.fetch("NOPE", "d")',
    'ENV.fetch("NOPE") { |k| k + "!" }',
    'ENV.fetch("NOPE") { "b" }',
    'ENV.key?("EMPTY")',
    "nil",
    "true",
    "false",
    "42",
    "-7",
    '"a\\tb\\e\\u00e9\\x41\\101\\s#{1 + 2}"',
    "'a\\'b\\\\c\\n'",
    '"#{nil}|#{true}|#{[1, nil, "x"]}"',
    "%q(a (b) c)",
    '%Q{x#{ENV["HOST"]}}',
    '"a" + ENV["HOST"]',
    "1 + 2",
    "[1] + [2]",
    'ENV["EMPTY"] || "d"',
    'ENV["NOPE"] || "d"',
    'ENV["RBENV_VERSION"] || ENV["rvm_ruby_string"] || "#{RUBY_ENGINE}-#{RUBY_ENGINE_VERSION}"',
    "RUBY_VERSION",
    'ENV["HOST"] && "yes"',
    'ENV["NOPE"] && "yes"',
    '!ENV["NOPE"]',
    'ENV["HOST"] == "1.2.3.4"',
    'ENV["HOST"] != "x"',
    "1 == true",
    "nil == false",
    'ENV["NOPE"] ? "a" : "b"',
    'ENV["EMPTY"] ? "a" : "b"',
    '"x" if ENV["HOST"]',
    '"x" unless ENV["HOST"]',
    'ENV.fetch("NOPE") rescue "rescued"',
    "a = 1; b = a + 1; b",
    'ENV["PADDED"].strip',
    'ENV["PADDED"].lstrip',
    'ENV["PADDED"].rstrip',
    'ENV["PADDED"].chomp',
    '"a\\r\\n".chomp',
    '"ab.yml".chomp(".yml")',
    '" -1_000x".to_i',
    '"x".to_i',
    "nil.to_i",
    "nil.to_a",
    'ENV["LIST"].split(",")',
    '" a  b ".split',
    '"a b".split(" ").first',
    '"a-b-c".split("-").first(2)',
    '"a-b-c".split("-").join("+")',
    '"a-b-c".split("-")[-1]',
    '"a-b-c".split("-")[5]',
    '"hello"[1]',
    '"hello"[1, 3]',
    '"Hello".downcase',
    '"Hello".upcase',
    '"hello World".capitalize',
    '"a\\nb\\n".lines',
    '"".empty?',
    "[].empty?",
    'ENV["NOPE"].nil?',
    'ENV["EMPTY"].presence || "d"',
    '" ".blank?',
    '"x".present?',
    '"abc".include?("b")',
    '"abc".start_with?("x", "a")',
    '"abc".end_with?("c")',
    '"abc".length',
    '"v1.2".delete_prefix("v")',
    '"a.b.c".gsub(".", "-")',
    '"a.b.c".sub(".", "-")',
    "[1, nil, 1].compact.uniq",
    '"a\\"b#{1}\\#{x}".inspect',
    '"\\x7f\\x01\\e\\u00e9".inspect',
    'ENV["NOPE"]&.strip',
    'ENV["HOST"]\n  .split(".")\n  .last',
    "`git rev-parse HEAD`.strip",
    "%x(git rev-parse --short HEAD).chomp",
    "%x{printf '%s' \"#{ENV['HOST']}\"}",
    '`echo #{ENV["HOST"]} "b"`',
    "`false`",
    "`exit 3`",
    "`no-such-command-xyz 2>/dev/null`",
    "`printf 'a\\nb'`.lines.last",
    'File.read(".ruby-version").strip',
    'File.read("token.txt").lines.first.chomp',
    'File.exist?(".env")',
    'File.exist?("nope")',
    "Kamal::Utils.docker_arch",
]

TEMPLATES = [
    *[f"v: <%= {e} %>\n" for e in EXPRESSIONS],
    "a:\n  <%- x = 1 -%>\n  b: <%= x %>\n  <% y = 2 -%>\n  c: <%= y %>\n",
    "a: <%= 1 -%>\nb <%# c %>\n<%# c -%>\nd <%% e %%> <%= '%%>' %>\n",
    "a: <%= ENV['X'] }}\n",
    '# <%= ENV["RBENV_VERSION"] || "#{RUBY_ENGINE}-#{RUBY_ENGINE_VERSION}" %>\nservice: x\n',
    "<% if ENV['HOST'] == 'x' -%>\na\n<% elsif ENV.key?('HOST') && !ENV['HOST'].empty? -%>\n"
    "b <%= ENV['HOST'] %>\n<% else -%>\nc\n<% end -%>\n<% unless ENV['NOPE'] %>u<% end %>\n",
    "<% if ENV['NOPE'] then %>t<% else %>e<% end %>\n",
    "<%\n  a = ENV['HOST']\n  b = a.split('.') ; c = b.last\n%><%= c %>\n",
    '<% require "dotenv"; Dotenv.load %><%= ENV["FROM_DOTENV"] %>|<%= ENV["QUOTED"] %>|<%= ENV["HOST"] %>\n',
    '<% require "dotenv/load" %><%= ENV.fetch("FROM_DOTENV") %>\n',
    '<% require "dotenv" %><% Dotenv.load("missing.env", "config/extra.env") %><%= ENV["EXTRA"] %>\n',
    '<% require "dotenv"; Dotenv.overload %><%= ENV["HOST"] %>\n',
    '<%= require "dotenv" %> <%= require("dotenv") %>\n',
    '<% ENV["NEW"] = "n" %><%= `printf "$NEW"` %><% ENV["NEW"] = nil %><%= ENV["NEW"].inspect %>\n',
    "a\r\n<% x = 1 -%>\r\nb\n",
]


@pytest.mark.parametrize("template", TEMPLATES)
def test_built_in_renders_like_ruby(template: str, project: Path) -> None:
    host = LocalErbHost(project, RUBY)
    built_in = render_file(template, "deploy.yml", RubyState(_env(project)), NoRubyHost(project))
    by_ruby = host.render_with_ruby(template, "deploy.yml", _env(project))
    assert by_ruby is not None
    assert built_in == by_ruby.text


@pytest.mark.parametrize(
    "expr",
    ['ENV.fetch("NOPE")', "`no-such-command-xyz`", "`no-such-command-xyz a b`",
     'File.read("missing.txt")', '"a" + 1', "`./config`", 'File.read("config")'],
)  # fmt: skip
def test_ruby_exceptions_match(expr: str, project: Path) -> None:
    template = f"a: 1\nb: <%= {expr} %>\n"
    with pytest.raises(ConfigErrors) as built_in:
        render_file(template, "deploy.yml", RubyState(_env()), NoRubyHost(project))
    with pytest.raises(RubyError) as by_ruby:
        LocalErbHost(project, RUBY).render_with_ruby(template, "deploy.yml", _env())
    assert str(built_in.value) == f"deploy.yml: line {by_ruby.value.line}: {by_ruby.value.message}"


class NoRubyHost(LocalErbHost):
    """The real host on a PATH without ruby (RUBY_ENGINE_VERSION still the local one)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, None)
        self._engine = LocalErbHost(root, RUBY).ruby_engine()


FALLBACK = """\
servers:
<% %w[a b].each do |name| -%>
  - <%= name %>.<%= ENV.fetch("DOMAIN") %>
<% end -%>
"""


def test_beyond_the_subset_ruby_renders_the_file(project: Path) -> None:
    host = LocalErbHost(project, RUBY)
    assert render(FALLBACK, {**_env(), "DOMAIN": "example.com"}, "deploy.yml", host) == (
        "servers:\n  - a.example.com\n  - b.example.com\n"
    )


def test_the_libraries_kamal_loads_are_there_for_ruby(project: Path) -> None:
    """What lib/kamal.rb requires is loaded in Kamal's process, so configs use it without a
    require: a real config (csa-admin) reads its hosts with ``YAML.load_file``."""
    (project / "config" / "tenant.yml").write_text("production:\n  a: {host: a.example.com}\n")
    template = (
        '<% tenant = YAML.load_file("#{Dir.pwd}/config/tenant.yml", aliases: true) -%>\n'
        '<%= tenant["production"]["a"]["host"] %> <%= Pathname.new("a/b").basename %>'
        ' <%= URI.parse("https://x.example.com/p").host %> <%= Dir.tmpdir.empty? %>\n'
    )
    host = LocalErbHost(project, RUBY)
    assert render(template, _env(), "deploy.yml", host) == "a.example.com b x.example.com false\n"


def test_ruby_errors_name_file_and_line(project: Path) -> None:
    with pytest.raises(ConfigErrors) as exc:
        render(FALLBACK, _env(), "config/deploy.yml", LocalErbHost(project, RUBY))
    assert str(exc.value) == 'config/deploy.yml: line 3: key not found: "DOMAIN"'
    with pytest.raises(ConfigErrors) as exc:
        render("a\n<%= ENV.fetch('A' %>", _env(), "config/deploy.yml", LocalErbHost(project, RUBY))
    assert str(exc.value).startswith("config/deploy.yml: line 2: syntax error")


def test_template_output_does_not_leak_into_the_result(project: Path) -> None:
    text = "<% puts 'noise'; system('echo more') %>a: <%= [1].map { |x| x } %>\n"
    assert render(text, _env(), "f", LocalErbHost(project, RUBY)) == "a: [1]\n"


def test_ruby_env_changes_carry_to_the_destination_file(project: Path) -> None:
    base = 'service: app\n<% require "dotenv"; [".env"].each { |f| Dotenv.load(f) } %>\n'
    state = RubyState(_env())
    render_file(base, "config/deploy.yml", state, LocalErbHost(project, RUBY))
    assert state.env["FROM_DOTENV"] == "dotenv"


def test_without_ruby_one_error_with_file_line_and_tag(project: Path) -> None:
    with pytest.raises(ConfigErrors) as exc:
        render(FALLBACK, _env(), "config/deploy.yml", LocalErbHost(project, None))
    assert len(exc.value.errors) == 1
    assert str(exc.value).startswith(
        "config/deploy.yml: line 2: cannot evaluate ERB `<% %w[a b].each do |name| -%>` "
        "without Ruby ("
    )
    assert "install ruby and backstaff renders it with Ruby's ERB, as Kamal does" in str(exc.value)


def test_read_sources_runs_from_the_project_directory(project: Path) -> None:
    (project / "config" / "deploy.yml").write_text(
        "service: <%= File.read('.ruby-version').strip.tr('.', '-') rescue 'x' %>\n"
        "image: a/<%= `git rev-parse --short HEAD`.strip %>\nregistry: {username: u, password: p}\n"
        "builder: {arch: amd64}\nservers: [<%= ENV.fetch('HOST') %>]\n"
        "<% require 'dotenv/load' %>env: {clear: {A: <%= ENV['FROM_DOTENV'] %>}}\n"
    )
    head = subprocess.run(["git", "-C", str(project), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    loaded = load_config(read_sources(project / "config" / "deploy.yml", None, _env()))
    assert loaded.data["service"] == "3-3-7"  # String#tr: rendered by Ruby
    assert loaded.data["image"] == f"a/{head}"
    assert loaded.data["env"] == {"clear": {"A": "dotenv"}}
    assert loaded.env["FROM_DOTENV"] == "dotenv"
