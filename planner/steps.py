"""A step: what runs on one host, fixed at plan time (commands, uploads, secrets on stdin).

Everything in a step is typed: commands are words (commands/words.py), an upload names what
the executor renders (an env file of a role or accessory, a local file) and secrets are named,
never held. Nothing is a string to be parsed back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class SecretFile:
    """A secret's value as a file (a custom TLS certificate or its key: ``proxy.ssl``)."""

    name: str


@dataclass(frozen=True)
class AccessoryTemplate:
    """An accessory's ``files:`` entry ending in ``erb``: the local file rendered with ERB, the
    accessory's env (clear and secret) in ENV, as Kamal renders it."""

    accessory: str
    path: str


@dataclass(frozen=True)
class ErrorPages:
    """The ``4??.html`` and ``5??.html`` files of a local directory (``error_pages_path``): the
    upload's path is the directory they go into."""

    path: str


UploadSource = EnvFile | LocalFile | SecretFile | AccessoryTemplate | ErrorPages


def source_to_dict(source: UploadSource) -> dict[str, object]:
    """How a saved plan holds an upload's source (names and paths, never content)."""
    if isinstance(source, EnvFile):
        return {"env_file": {"owner": source.owner, "name": source.name}}
    if isinstance(source, SecretFile):
        return {"secret_file": source.name}
    if isinstance(source, AccessoryTemplate):
        return {"accessory_template": {"accessory": source.accessory, "path": source.path}}
    if isinstance(source, ErrorPages):
        return {"error_pages": source.path}
    return {"local_file": source.path}


def source_from_dict(data: dict[str, Any]) -> UploadSource:
    if "env_file" in data:
        return EnvFile(str(data["env_file"]["owner"]), str(data["env_file"]["name"]))
    if "secret_file" in data:
        return SecretFile(str(data["secret_file"]))
    if "accessory_template" in data:
        template = data["accessory_template"]
        return AccessoryTemplate(str(template["accessory"]), str(template["path"]))
    if "error_pages" in data:
        return ErrorPages(str(data["error_pages"]))
    return LocalFile(str(data["local_file"]))


def _what(source: UploadSource) -> str:
    if isinstance(source, EnvFile):
        return f"the {source.owner} {source.name} env file"
    if isinstance(source, SecretFile):
        return f"the secret {source.name}"
    if isinstance(source, AccessoryTemplate):
        return f"local {source.path} rendered with ERB"
    if isinstance(source, ErrorPages):
        return f"the 4xx/5xx pages of local {source.path}"
    return f"local {source.path}"


@dataclass(frozen=True)
class Upload:
    """A file written over SFTP; ``source`` says what apply renders (never the content)."""

    path: str
    mode: str
    source: UploadSource

    def describe(self) -> str:
        return f"# upload {self.path} (mode {self.mode}, from {_what(self.source)})"


@dataclass(frozen=True)
class Step:
    """One action on one host (or locally): its commands run as one SSH command."""

    id: str  # e.g. app.boot.web[10.0.0.1]
    host: str  # a host, or "local"
    kind: str
    description: str
    phase: int  # orders steps that do not depend on each other
    commands: tuple[Cmd | Upload, ...] = ()  # in order: an Upload happens between commands
    stdin_secrets: tuple[str, ...] = ()  # secret names written, one per line, to stdin
    changes: tuple[str, ...] = ()  # the addresses this step carries out
    audit: tuple[str, ...] = ()  # the audit-log lines (Kamal's wording) written first, in order
    on_failure: tuple[Cmd, ...] = ()  # run if a command fails (e.g. stop the new container)

    def rendered(self) -> list[str]:
        return [c.describe() if isinstance(c, Upload) else render(c) for c in self.commands]

    @property
    def sort_key(self) -> tuple[int, str]:
        return (self.phase, self.id)
