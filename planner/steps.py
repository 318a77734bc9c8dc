"""A step: what runs on one host, fixed at plan time (commands, uploads, secrets on stdin).

Everything in a step is typed: commands are words (commands/words.py), an upload names what
the executor renders (an env file of a role or accessory, a local file) and secrets are named,
never held. Nothing is a string to be parsed back.
"""

from __future__ import annotations

from dataclasses import dataclass

from backstaff.planner.commands.words import Cmd, render


@dataclass(frozen=True)
class EnvFile:
    """The secret env file of a role or an accessory, rendered by the executor."""

    owner: str  # "role" or "accessory"
    name: str


@dataclass(frozen=True)
class LocalFile:
    """A file of the project (accessory ``files:``), read by the executor."""

    path: str


UploadSource = EnvFile | LocalFile


@dataclass(frozen=True)
class Upload:
    """A file written over SFTP; ``source`` says what apply renders (never the content)."""

    path: str
    mode: str
    source: UploadSource

    def describe(self) -> str:
        source = self.source
        what = (
            f"the {source.owner} {source.name} env file"
            if isinstance(source, EnvFile)
            else f"local {source.path}"
        )
        return f"# upload {self.path} (mode {self.mode}, from {what})"


@dataclass(frozen=True)
class Step:
    id: str  # e.g. app.boot.web[10.0.0.1]
    host: str  # a host, or "local"
    kind: str
    description: str
    phase: int  # orders steps that do not depend on each other
    commands: tuple[Cmd | Upload, ...] = ()  # in order: an Upload happens between commands
    stdin_secrets: tuple[str, ...] = ()  # secret names written, one per line, to stdin
    changes: tuple[str, ...] = ()  # the addresses this step carries out
    audit: str | None = None  # the audit-log message (Kamal's wording) written when it runs
    on_failure: tuple[Cmd, ...] = ()  # run if a command fails (e.g. stop the new container)

    def rendered(self) -> list[str]:
        return [c.describe() if isinstance(c, Upload) else render(c) for c in self.commands]

    @property
    def sort_key(self) -> tuple[int, str]:
        return (self.phase, self.id)
