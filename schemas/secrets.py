"""Kamal's secrets files: dotenv syntax, ``$VAR`` / ``${VAR}`` / ``$(command)``, read lazily.

Files are ``<secrets_path>-common`` then ``<secrets_path>`` (or ``<secrets_path>.<dest>``);
later files win. A value is only evaluated when a secret is used, so ``backstaff config`` and
``plan`` never run a password manager for secrets they do not need. Commands run through an
injected ``run_command`` so this module stays free of I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from backstaff.schemas.errors import ConfigError, ConfigErrors
from backstaff.schemas.masking import mask

_LINE = re.compile(
    r"""^\s*(?:export\s+)?(?P<key>[A-Za-z_][A-Za-z0-9_.-]*)\s*=[ \t]*
    (?:(?:'(?P<single>[^']*)'|"(?P<double>(?:[^"\\]|\\.)*)")\s*(?:\#.*)?
      |(?P<plain>.*?)(?:\s+\#.*)?\s*)$""",
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "\\$"}
_VAR = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class SecretsFile:
    name: str
    text: str


@dataclass(frozen=True)
class _Entry:
    source: str
    line: int
    raw: str
    literal: bool


RunCommand = Callable[[str, Mapping[str, str]], str]


class CommandFailed(Exception):
    """Raised by a ``RunCommand`` whose command failed: why, and what it printed on stderr.

    Never the command itself: it is run with its ``$VAR``s expanded, and those may be secrets.
    The error shown names the command as written in the file."""

    def __init__(self, reason: str, stderr: str = "") -> None:
        super().__init__(reason)
        self.reason, self.stderr = reason, stderr


class Secrets:
    """Secret values by name, evaluated on first use and then remembered."""

    def __init__(
        self,
        files: list[SecretsFile],
        *,
        expected_files: list[str],
        env: Mapping[str, str] | None = None,
        run_command: RunCommand | None = None,
    ) -> None:
        self._entries: dict[str, _Entry] = {}
        for secrets_file in files:
            self._entries.update(parse(secrets_file))
        self._files = [f.name for f in files]
        self._expected = expected_files
        self._env = dict(env or {})
        self._run = run_command
        self._values: dict[str, str] = {}
        self._resolving: set[str] = set()

    def names(self) -> list[str]:
        return sorted(self._entries)

    def names_in_file_order(self) -> list[str]:
        """As Kamal lists them: file by file, a name where it first appears."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __getitem__(self, name: str) -> str:
        if name not in self._values:
            self._values[name] = self._resolve(name)
        return self._values[name]

    def resolved_values(self) -> list[str]:
        """Every value read so far: what output masking must hide."""
        return [v for v in self._values.values() if v]

    def _resolve(self, name: str) -> str:
        entry = self._entries.get(name)
        if entry is None:
            if self._files:
                raise ConfigErrors.one(f"Secret '{name}' not found in {', '.join(self._files)}")
            raise ConfigErrors.one(
                f"Secret '{name}' not found, no secret files ({', '.join(self._expected)}) provided"
            )
        if entry.literal:
            return entry.raw
        if name in self._resolving:
            raise ConfigErrors(
                [ConfigError(entry.source, f"line {entry.line}: {name} refers to itself")]
            )
        self._resolving.add(name)
        try:
            return self._substitute(entry)
        finally:
            self._resolving.discard(name)

    def _lookup(self, name: str) -> str:
        if name in self._entries:
            return self[name]
        return self._env.get(name, "")

    def _substitute(self, entry: _Entry) -> str:
        text, out, i = entry.raw, [], 0
        while i < len(text):
            if text.startswith("\\$", i):
                out.append("$")
                i += 2
            elif text.startswith("$(", i):
                end = _closing_paren(text, i + 1)
                if end < 0:
                    raise ConfigErrors(
                        [ConfigError(entry.source, f"line {entry.line}: unclosed $( in value")]
                    )
                out.append(self._command(text[i + 2 : end], entry))
                i = end + 1
            elif (match := _VAR.match(text, i)) is not None:
                out.append(self._lookup(match["braced"] or match["bare"]))
                i = match.end()
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def _command(self, written: str, entry: _Entry) -> str:
        """Run the command ``written`` in the file, with its ``$VAR``s expanded."""
        if self._run is None:
            raise ConfigErrors(
                [ConfigError(entry.source, f"line {entry.line}: commands are not allowed here")]
            )
        used: list[str] = []

        def expand(match: re.Match[str]) -> str:
            used.append(self._lookup(match["braced"] or match["bare"]))
            return used[-1]

        command = _VAR.sub(expand, written)
        try:
            return _chomp(self._run(command, self._env))
        except CommandFailed as exc:
            # The command as written, never expanded; its stderr (useful: "not signed in")
            # only with every secret known so far, and the values expanded into it, masked.
            message = f"secrets command `{written}` {exc.reason}"
            lines = [line.strip() for line in exc.stderr.splitlines() if line.strip()][-5:]
            if lines:
                message += ": " + mask(" / ".join(lines), [*self.resolved_values(), *used])
            raise ConfigErrors.one(message) from None


def parse(secrets_file: SecretsFile) -> dict[str, _Entry]:
    """Key to unevaluated value; a malformed line is an error naming file and line."""
    entries: dict[str, _Entry] = {}
    errors: list[ConfigError] = []
    for number, line in enumerate(secrets_file.text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            errors.append(ConfigError(secrets_file.name, f"line {number}: expected NAME=value"))
            continue
        if match["single"] is not None:
            raw, literal = match["single"], True
        elif match["double"] is not None:
            raw = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], "\\" + m[1]), match["double"])
            literal = False
        else:
            # Dotenv unescapes an unquoted value too: ``\X`` is ``X``, except ``\$``.
            raw, literal = re.sub(r"\\([^$])", r"\1", match["plain"]), False
        entries[match["key"]] = _Entry(secrets_file.name, number, raw, literal)
    if errors:
        raise ConfigErrors(errors)
    return entries


def _chomp(text: str) -> str:
    """Ruby's ``chomp``, as Kamal reads a command's output: one trailing line break off."""
    for ending in ("\r\n", "\n", "\r"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def _closing_paren(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    return -1


def secrets_file_names(secrets_path: str, destination: str | None) -> list[str]:
    """The files Kamal reads, in order: ``-common`` first, then the plain or destination file."""
    main = f"{secrets_path}.{destination}" if destination else secrets_path
    return [f"{secrets_path}-common", main]
