"""A scripted ERB host for the pure tests: commands and files from dicts, no Ruby."""

from __future__ import annotations

from collections.abc import Mapping

from backstaff.schemas.erb import RubyError, RubyRendered


class FakeHost:
    def __init__(
        self,
        commands: Mapping[str, str] | None = None,
        files: Mapping[str, str] | None = None,
        ruby: RubyRendered | None = None,
    ) -> None:
        self.commands = dict(commands or {})
        self.files = dict(files or {})
        self.ran: list[tuple[str, dict[str, str]]] = []
        self.ruby = ruby
        self.ruby_calls: list[str] = []

    def run(self, command: str, env: Mapping[str, str]) -> str:
        self.ran.append((command, dict(env)))
        if command not in self.commands:
            raise RubyError("Errno::ENOENT", f"No such file or directory - {command.split()[0]}")
        return self.commands[command]

    def read_file(self, path: str) -> str:
        if path not in self.files:
            raise RubyError("Errno::ENOENT", f"No such file or directory @ rb_sysopen - {path}")
        return self.files[path]

    def file_exists(self, path: str) -> bool:
        return path in self.files

    def ruby_engine(self) -> tuple[str, str]:
        return ("ruby", "3.3.7")

    def render_with_ruby(
        self, text: str, source: str, env: Mapping[str, str]
    ) -> RubyRendered | None:
        self.ruby_calls.append(text)
        return self.ruby
