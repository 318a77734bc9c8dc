"""The ERB host: what deploy.yml ERB may do to the world, from the project directory.

Backticks and ``%x()`` run like Ruby's: a command without shell metacharacters is executed
directly (so a missing command is ``Errno::ENOENT``, as in Kamal), anything else through
``/bin/sh -c``; stdout is returned whatever the exit status and stderr goes to the terminal.
``File.read`` and ``.env`` files are read relative to the project directory. Templates the
built-in evaluator cannot handle are rendered by the real ``ruby`` with
``ERB.new(text, trim_mode: "-").result``, exactly as Kamal does: the template goes on stdin,
the environment is the ERB's ENV, the working directory is the project directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from backstaff.schemas.erb_ruby import KAMAL_RUBY, RubyError, RubyRendered

# Ruby's rule (process.c) for running a command string without a shell.
_SHELL_META = set("*?{}[]<>()~&|\\$;'`\"\n#")
_SHELL_WORDS = {
    "!", ".", ":", "break", "case", "continue", "do", "done", "elif", "else", "esac", "eval",
    "exec", "exit", "export", "fi", "for", "if", "in", "readonly", "return", "set", "shift",
    "then", "times", "trap", "unset", "until", "while",
}  # fmt: skip

# Renders stdin with Ruby's ERB as Kamal does and prints one JSON object on the real stdout
# (the template's own output, if any, goes to stderr). Kamal's process has the standard
# libraries lib/kamal.rb requires (YAML, Dir.tmpdir, Pathname, URI), ActiveSupport's
# blank?/present?/presence and Kamal::Utils.docker_arch loaded: provide them (the last two as
# Kamal 2.11 defines them) when ActiveSupport is not installed.
_RUBY_SCRIPT = r"""
require "erb"
require "json"
require "yaml"
require "tmpdir"
require "pathname"
require "uri"
module Kamal
  module Utils
    def self.docker_arch
      arch = `docker info --format '{{.Architecture}}'`.strip
      case arch
      when /aarch64/ then "arm64"
      when /x86_64/ then "amd64"
      else arch
      end
    end
  end
end
begin
  require "active_support/core_ext/object/blank"
rescue LoadError
  class Object
    def blank? = respond_to?(:empty?) ? !!empty? : !self
    def present? = !blank?
    def presence = (self if present?)
  end
  class String
    def blank? = /\A[[:space:]]*\z/.match?(self)
  end
  class Numeric
    def blank? = false
  end
end
template = $stdin.read.force_encoding(Encoding::UTF_8)
out = $stdout.dup
$stdout.reopen($stderr)
result =
  begin
    { "ok" => true, "text" => ERB.new(template, trim_mode: "-").result, "env" => ENV.to_h }
  rescue Exception => e
    lines = [e.message.to_s[/\A\(erb\):(\d+):/, 1], *Array(e.backtrace).grep(/\A\(erb\):\d+/).map { |f| f[/\d+/] }]
    message = e.is_a?(SyntaxError) ? e.message.sub(/\A\(erb\):\d+: /, "") : e.message
    { "ok" => false, "class" => e.class.name, "message" => message.to_s.lines.first.to_s.strip,
      "line" => lines.compact.first&.to_i }
  end
out.write(JSON.generate(result))
out.flush
"""


class LocalErbHost:
    """ERB's view of this machine, with ``root`` (the project directory) as cwd."""

    def __init__(self, root: Path, ruby: str | None | bool = True) -> None:
        self.root = root
        # True: find ruby on PATH; None/False: no Ruby (as on a machine without it).
        self.ruby = shutil.which("ruby") if ruby is True else (ruby or None)
        self._engine: tuple[str, str] | None = None

    def run(self, command: str, env: Mapping[str, str]) -> str:
        argv = self._argv(command, env)
        try:
            done = subprocess.run(
                argv, cwd=self.root, env=dict(env), stdout=subprocess.PIPE, check=False
            )
        except FileNotFoundError:
            raise RubyError("Errno::ENOENT", f"No such file or directory - {argv[0]}") from None
        except PermissionError:
            raise RubyError("Errno::EACCES", f"Permission denied - {argv[0]}") from None
        except OSError as exc:
            raise RubyError("SystemCallError", f"{exc.strerror} - {argv[0]}") from None
        return done.stdout.decode("utf-8", errors="replace")

    def _argv(self, command: str, env: Mapping[str, str]) -> list[str]:
        words = command.replace("\t", " ").split(" ")
        words = [w for w in words if w]
        first = words[0] if words else ""
        uses_shell = any(c in _SHELL_META for c in command) or "=" in first or first in _SHELL_WORDS
        if uses_shell:
            return ["/bin/sh", "-c", command]
        if not words:
            raise RubyError("Errno::ENOENT", "No such file or directory - ")
        if "/" not in first:
            found = shutil.which(first, path=env.get("PATH", os.defpath))
            if found is None:
                raise RubyError("Errno::ENOENT", f"No such file or directory - {first}")
            return [found, *words[1:]]
        path = self.root / first
        if path.is_dir():
            raise RubyError("Errno::EACCES", f"Permission denied - {first}")
        return [str(path), *words[1:]]

    def read_file(self, path: str) -> str:
        try:
            return (self.root / path).read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            raise RubyError(
                "Errno::ENOENT", f"No such file or directory @ rb_sysopen - {path}"
            ) from None
        except IsADirectoryError:
            raise RubyError("Errno::EISDIR", f"Is a directory @ io_fread - {path}") from None
        except PermissionError:
            raise RubyError("Errno::EACCES", f"Permission denied @ rb_sysopen - {path}") from None
        except OSError as exc:
            raise RubyError("SystemCallError", f"{exc.strerror} @ rb_sysopen - {path}") from None

    def file_exists(self, path: str) -> bool:
        return (self.root / path).exists()

    def ruby_engine(self) -> tuple[str, str]:
        if self._engine is None:
            self._engine = KAMAL_RUBY
            if self.ruby:
                done = subprocess.run(
                    [self.ruby, "-e", 'print RUBY_ENGINE, " ", RUBY_ENGINE_VERSION'],
                    capture_output=True, text=True, check=False, timeout=60,
                )  # fmt: skip
                engine, _, version = done.stdout.partition(" ")
                if done.returncode == 0 and version:
                    self._engine = (engine, version)
        return self._engine

    def render_with_ruby(
        self, text: str, source: str, env: Mapping[str, str]
    ) -> RubyRendered | None:
        if not self.ruby:
            return None
        done = subprocess.run(
            [self.ruby, "-e", _RUBY_SCRIPT],
            input=text.encode("utf-8", errors="surrogateescape"),
            cwd=self.root, env=dict(env), stdout=subprocess.PIPE, check=False,
        )  # fmt: skip
        try:
            result = json.loads(done.stdout)
        except ValueError:
            raise RubyError(
                "RuntimeError", f"ruby failed rendering the ERB (exit code {done.returncode})"
            ) from None
        if not result.get("ok"):
            raise RubyError(result["class"], result["message"] or result["class"], result["line"])
        return RubyRendered(result["text"], dict(result["env"]))
