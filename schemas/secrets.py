"""Kamal's secrets files as Kamal 2.11 reads them (dotenv 3.2): ``$VAR`` / ``${VAR}`` /
``$(command)``, evaluated lazily.

Files are ``<secrets_path>-common`` then ``<secrets_path>`` (or ``<secrets_path>.<dest>``);
later files win. A value is only evaluated when a secret is used, so ``backstaff config`` and
``plan`` never run a password manager for secrets they do not need. Commands run through an
injected ``run_command`` so this module stays free of I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from backstaff.schemas import dotenv, ruby_text
from backstaff.schemas.errors import ConfigErrors
from backstaff.schemas.masking import mask


@dataclass(frozen=True)
class SecretsFile:
    """One secrets file as read: its name (for messages) and text."""

    name: str
    text: str


@dataclass(frozen=True)
class _Entry:
    """A line of a secrets file, with where it was read (later files and lines win)."""

    entry: dotenv.Entry
    file: int  # which file, in reading order
    position: int  # its place in the file: its $NAMEs see the entries above it only

    @property
    def key(self) -> str:
        return self.entry.key


RunCommand = Callable[[str, Mapping[str, str]], str]


class CommandFailed(Exception):
    """Raised by a ``RunCommand`` whose command failed: why, and what it printed on stderr.

    Never the command itself: it is run with its ``$VAR``s expanded, and those may be secrets.
    The error shown names the command as written in the file."""

    def __init__(self, reason: str, stderr: str = "", detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.stderr = reason, stderr
        self.detail = detail  # words that may hold the values given to it (an adapter's)


class Secrets:
    """Secret values by name, evaluated on first use and then remembered.

    The values are dotenv 3.2's, as Kamal 2.11 reads each file (``Dotenv.parse(file,
    overwrite: true)``, the files merged, later ones winning): a ``$NAME`` is the value of the
    last ``NAME`` above it in the same file, else the environment's, else empty. Where dotenv
    runs every command of every file on reading, a command runs here only when a secret that
    needs it is used, a failing one is an error (Kamal takes what it printed), and its output
    is never read for ``$NAME``s (``schemas/dotenv.py``)."""

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
            literal = entry.entry.literal
            self._values[place] = entry.entry.raw if literal else self._substitute(entry)
        return self._values[place]

    def _lookup(self, name: str, entry: _Entry) -> str:
        """``$name`` in ``entry``: the last ``name`` above it in its file, else the environment."""
        entries = self._by_file[entry.file]
        for earlier in reversed(entries[: entry.position]):
            if earlier.key == name:
                return self._value(earlier)
        return self._env.get(name, "")

    def _substitute(self, entry: _Entry) -> str:
        def run(command: str, written: str, used: list[str]) -> str:
            return self._command(command, written, used, entry)

        return dotenv.substitute(entry.entry.raw, lambda name: self._lookup(name, entry), run)

    def _command(self, command: str, written: str, used: list[str], entry: _Entry) -> str:
        """Run ``command``: ``written`` in the file, with its ``$NAME``s expanded (to ``used``)."""
        if self._run is None:
            source = self._files[entry.file]
            raise ConfigErrors.one(
                f"line {entry.entry.line}: commands are not allowed here", source
            )
        try:
            return ruby_text.chomp(self._run(command, self._env))
        except CommandFailed as exc:
            # The command as written, never expanded; its stderr (useful: "not signed in")
            # only with every secret known so far, and the values expanded into it, masked.
            known = [*self.resolved_values(), *used]
            message = f"secrets command `{written}` {exc.reason}"
            if exc.detail:  # an adapter's: it names the values given to it (``--from``)
                message += ": " + mask(exc.detail, known)
            lines = [line.strip() for line in exc.stderr.splitlines() if line.strip()][-5:]
            if lines:
                message += ": " + mask(" / ".join(lines), known)
            raise ConfigErrors.one(message) from None


def parse(secrets_file: SecretsFile, index: int, env: Mapping[str, str]) -> list[_Entry]:
    """The file's entries in order, as Kamal reads them (``Dotenv.parse``)."""
    legacy = env.get("DOTENV_LINEBREAK_MODE") == "legacy"
    entries = dotenv.parse(secrets_file.text, secrets_file.name, legacy)
    return [_Entry(entry, index, n) for n, entry in enumerate(entries)]


def secrets_file_names(secrets_path: str, destination: str | None) -> list[str]:
    """The files Kamal reads, in order: ``-common`` first, then the plain or destination file."""
    main = f"{secrets_path}.{destination}" if destination else secrets_path
    return [f"{secrets_path}-common", main]
