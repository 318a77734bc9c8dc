"""A step: what runs on one host, fixed at plan time (commands, uploads, a secret on stdin)."""

from __future__ import annotations

from dataclasses import dataclass

from backstaff.planner.commands.base import Cmd, join


@dataclass(frozen=True)
class Upload:
    """A file written over SFTP; ``source`` says what apply renders (never the content)."""

    path: str
    mode: str
    source: str  # envfile:<role|accessory>:<name>, or file:<local path>


@dataclass(frozen=True)
class Step:
    id: str  # e.g. app.boot.web[10.0.0.1]
    host: str  # a host, or "local"
    kind: str
    description: str
    phase: int  # orders steps that do not depend on each other
    commands: tuple[Cmd | Upload, ...] = ()  # in order: an Upload happens between commands
    stdin_secret: str | None = None  # a secret name written to the first command's stdin
    changes: tuple[str, ...] = ()  # the addresses this step carries out
    audit: str | None = None  # the audit-log message (Kamal's wording) written when it runs
    on_failure: tuple[Cmd, ...] = ()  # run if a command fails (e.g. stop the new container)

    def rendered(self) -> list[str]:
        return [
            f"# upload {c.path} (mode {c.mode}, from {c.source})"
            if isinstance(c, Upload)
            else join(c)
            for c in self.commands
        ]

    @property
    def sort_key(self) -> tuple[int, str]:
        return (self.phase, self.id)
