"""Kamal's secrets files as Kamal 2.11 reads them (dotenv 3.2): ``$VAR`` / ``${VAR}`` /
``$(command)``, evaluated lazily.

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

# dotenv 3.2.0's line (Kamal 2.11 reads secrets files with ``Dotenv.parse``), found anywhere in
# the text: a quoted value may span lines; a bare ``NAME`` is empty; what matches no line is
# ignored, as dotenv ignores it.
_LINE = re.compile(
    r"""(?:^|\A)\s*(?P<export>export\s+)?(?P<key>[\w.]+)
    (?:(?:\s*=\s*?|:\s+?)(?P<value>\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|[^\#\n]+)?)?
    \s*(?:\#.*)?(?:$|\Z)""",
    re.MULTILINE | re.VERBOSE | re.ASCII,
)
# dotenv's variable: ``$NAME``, ``${NAME}``, either brace alone too (``${NAME`` is ``$NAME``);
# a ``$`` naming nothing stays as it is.
_VAR = re.compile(r"\$(?!\()\{?(?P<name>[A-Za-z0-9_]+)?\}?")
_BLANKS = " \t\n\v\f\r\0"  # Ruby's strip


@dataclass(frozen=True)
class SecretsFile:
    name: str
    text: str


@dataclass(frozen=True)
class _Entry:
    key: str
    source: str
    line: int
    raw: str  # unescaped as dotenv unescapes it, before substitutions
    literal: bool  # single-quoted: no substitution
    file: int = 0  # which file, in reading order
    position: int = 0  # its place in the file: its $NAMEs see the entries above it only


RunCommand = Callable[[str, Mapping[str, str]], str]


class CommandFailed(Exception):
    """Raised by a ``RunCommand`` whose command failed: why, and what it printed on stderr.

    Never the command itself: it is run with its ``$VAR``s expanded, and those may be secrets.
    The error shown names the command as written in the file."""

    def __init__(self, reason: str, stderr: str = "") -> None:
        super().__init__(reason)
        self.reason, self.stderr = reason, stderr


class Secrets:
    """Secret values by name, evaluated on first use and then remembered.

    The values are dotenv 3.2's, as Kamal 2.11 reads each file (``Dotenv.parse(file,
    overwrite: true)``, the files merged, later ones winning): a ``$NAME`` is the value of the
    last ``NAME`` above it in the same file, else the environment's, else empty. Where dotenv
    runs every command of every file on reading, a command runs here only when a secret that
    needs it is used; and the output of a command or the value of a variable is never read
    again for ``$``s (dotenv runs its ``$NAME`` expansion over a command once more, after the
    values are in it)."""

    def __init__(
        self,
        files: list[SecretsFile],
        *,
        expected_files: list[str],
        env: Mapping[str, str] | None = None,
        run_command: RunCommand | None = None,
    ) -> None:
        self._env = dict(env or {})
        self._by_file = [
            parse(secrets_file, index, self._env) for index, secrets_file in enumerate(files)
        ]
        self._entries: dict[str, _Entry] = {}
        for entries in self._by_file:
            for entry in entries:
                self._entries[entry.key] = entry
        self._files = [f.name for f in files]
        self._expected = expected_files
        self._run = run_command
        self._values: dict[tuple[int, int], str] = {}

    def names(self) -> list[str]:
        return sorted(self._entries)

    def names_in_file_order(self) -> list[str]:
        """As Kamal lists them: file by file, a name where it first appears."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __getitem__(self, name: str) -> str:
        entry = self._entries.get(name)
        if entry is None:
            if self._files:
                raise ConfigErrors.one(f"Secret '{name}' not found in {', '.join(self._files)}")
            raise ConfigErrors.one(
                f"Secret '{name}' not found, no secret files ({', '.join(self._expected)}) provided"
            )
        return self._value(entry)

    def resolved_values(self) -> list[str]:
        """Every value read so far: what output masking must hide."""
        return [v for v in self._values.values() if v]

    def _value(self, entry: _Entry) -> str:
        place = (entry.file, entry.position)
        if place not in self._values:
            self._values[place] = entry.raw if entry.literal else self._substitute(entry)
        return self._values[place]

    def _lookup(self, name: str, entry: _Entry) -> str:
        """``$name`` in ``entry``: the last ``name`` above it in its file, else the environment."""
        entries = self._by_file[entry.file]
        for earlier in reversed(entries[: entry.position]):
            if earlier.key == name:
                return self._value(earlier)
        return self._env.get(name, "")

    def _variables(self, text: str, entry: _Entry, used: list[str] | None = None) -> str:
        """dotenv's ``$NAME`` expansion of ``text`` (``\\$NAME`` is ``$NAME``, kept); the values
        put in are added to ``used``."""
        out: list[str] = []
        i = 0
        while i < len(text):
            escaped = text.startswith("\\$", i)
            match = _VAR.match(text, i + 1 if escaped else i)
            if match is None:
                out.append(text[i])
                i += 1
            elif escaped:
                out.append(match[0])
                i = match.end()
            else:
                value = self._lookup(match["name"], entry) if match["name"] else match[0]
                if match["name"] and used is not None:
                    used.append(value)
                out.append(value)
                i = match.end()
        return "".join(out)

    def _substitute(self, entry: _Entry) -> str:
        """As dotenv 3.2 with Kamal's command pattern: the ``$(command)``s first (``\\$(…)``
        stays, without its backslash), then the ``$NAME``s, except in a command's output
        (dotenv reads the outputs too: a fetched password ``pa$word`` would be ``pa``)."""
        text, out, i, plain = entry.raw, [], 0, 0
        kept = ""  # text not yet expanded: up to the next command's output
        while i < len(text):
            escaped = text.startswith("\\$(", i)
            start = i + 1 if escaped else i
            end = _command_end(text, start + 1) if text.startswith("$(", start) else -1
            if end < 0:
                i += 1
                continue
            kept += text[plain:i]
            if escaped:
                kept += text[start : end + 1]
            else:
                written = text[start + 2 : end]
                used: list[str] = []
                output = self._command(self._variables(written, entry, used), written, used, entry)
                out += [self._variables(kept, entry), output]
                kept = ""
            i = plain = end + 1
        out.append(self._variables(kept + text[plain:], entry))
        return "".join(out)

    def _command(self, command: str, written: str, used: list[str], entry: _Entry) -> str:
        """Run ``command``: ``written`` in the file, with its ``$NAME``s expanded (to ``used``)."""
        if self._run is None:
            raise ConfigErrors(
                [ConfigError(entry.source, f"line {entry.line}: commands are not allowed here")]
            )
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


def parse(
    secrets_file: SecretsFile, index: int = 0, env: Mapping[str, str] | None = None
) -> list[_Entry]:
    """The file's entries in order, as dotenv 3.2 reads them; an ``export NAME`` line naming
    no entry of the file is an error naming file and line (dotenv's FormatError)."""
    text = secrets_file.text.replace("\r\n", "\n").replace("\r", "\n")
    entries: list[_Entry] = []
    legacy = (env or {}).get("DOTENV_LINEBREAK_MODE") == "legacy"
    errors: list[ConfigError] = []
    for match in _LINE.finditer(text):
        if match["export"] and match["value"] is None:  # ``export NAME``: NAME must be above
            if match["key"] not in {entry.key for entry in entries}:
                errors.append(ConfigError(
                    secrets_file.name, f'Line "{match[0].strip()}" has an unset variable'
                ))  # fmt: skip
            continue
        value = (match["value"] or "").strip(_BLANKS)
        quoted = re.fullmatch(r"(['\"])(.*)\1", value, re.DOTALL)
        if quoted and quoted[1] == "'":
            raw, literal = quoted[2], True
        elif quoted:
            raw, literal = _unescape(_line_breaks(quoted[2], legacy or _legacy(entries))), False
        else:
            raw, literal = _unescape(value), False
        line = text.count("\n", 0, match.start("key")) + 1
        entries.append(
            _Entry(match["key"], secrets_file.name, line, raw, literal, index, len(entries))
        )
    if errors:
        raise ConfigErrors(errors)
    return entries


def _legacy(entries: list[_Entry]) -> bool:
    """``DOTENV_LINEBREAK_MODE=legacy`` above: ``\\n`` in double quotes is a line break."""
    modes = [e.raw for e in entries if e.key == "DOTENV_LINEBREAK_MODE"]
    return bool(modes) and modes[-1] == "legacy"


def _line_breaks(text: str, legacy: bool) -> str:
    """dotenv's ``expand_newlines``: ``\\n`` and ``\\r`` in double quotes are line breaks in
    legacy mode; otherwise they stay a backslash and a letter (after the unescaping)."""
    if legacy:
        return text.replace("\\n", "\n").replace("\\r", "\r")
    return text.replace("\\n", "\\\\n").replace("\\r", "\\\\r")


def _unescape(text: str) -> str:
    """dotenv's ``unescape_characters``: ``\\X`` is ``X``, except ``\\$``."""
    return re.sub(r"\\([^$])", r"\1", text)


def _command_end(text: str, start: int) -> int:
    """Where the ``$(`` command whose ``(`` is at ``start`` closes, or -1: Kamal's pattern, a
    balanced run of escaped characters (``\\X``, not a line break), other characters and
    nested parentheses, each pair holding at least one of them."""
    filled: list[bool] = []  # per open parenthesis: holds something yet
    i = start
    while i < len(text):
        char = text[i]
        if char == "\\" and (i + 1 >= len(text) or text[i + 1] == "\n"):
            return -1
        if char == "(":
            if filled:
                filled[-1] = True
            filled.append(False)
        elif char == ")":
            if not filled or not filled.pop():
                return -1
            if not filled:
                return i
        elif filled:
            filled[-1] = True
        i += 2 if char == "\\" else 1
    return -1


def _chomp(text: str) -> str:
    """Ruby's ``chomp``, as Kamal reads a command's output: one trailing line break off."""
    for ending in ("\r\n", "\n", "\r"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def secrets_file_names(secrets_path: str, destination: str | None) -> list[str]:
    """The files Kamal reads, in order: ``-common`` first, then the plain or destination file."""
    main = f"{secrets_path}.{destination}" if destination else secrets_path
    return [f"{secrets_path}-common", main]
