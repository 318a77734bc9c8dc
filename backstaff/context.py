"""The global options and the I/O that turns them into a loaded config and a desired App."""

from __future__ import annotations

import os
import secrets as random_source
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from backstaff.errors import warn, watch_secrets
from backstaff.executors.config_files import load, read_secrets
from backstaff.executors.git import read_git_facts
from backstaff.planner.desired import build_desired
from backstaff.planner.filters import Selection, select
from backstaff.planner.model import App
from backstaff.planner.version import compute_version
from backstaff.schemas.load import LoadedConfig
from backstaff.schemas.secrets import Secrets


def adopt_environment(env: Mapping[str, str]) -> None:
    """From the config's load on, this process's environment is Kamal's ENV at that point:
    what deploy.yml's ERB added (``Dotenv.load``) or removed, KAMAL_DESTINATION the -d given or
    unset. Kamal's own process has it so; every command it starts (docker, git, the hooks, the
    secrets' commands) inherits it, and net-ssh reads SSH_AUTH_SOCK and SendEnv's variables
    there. So do backstaff's commands and its SSH."""
    for name in set(os.environ) - set(env):
        del os.environ[name]
    os.environ.update(env)


@dataclass
class Options:
    """The global options as given on the command line (Kamal's own), before any is resolved."""

    config_file: Path
    destination: str | None
    hosts: str | None
    roles: str | None
    primary: bool
    version: str | None
    verbose: bool
    quiet: bool
    skip_hooks: bool
    known_hosts: str | None = None
    no_trust_new_hosts: bool = False


class AppContext:
    """Built once per invocation by the root command and handed to subcommands."""

    def __init__(self, options: Options, cwd: Path | None = None) -> None:
        self.options = options
        self.cwd = cwd or Path.cwd()
        self.connected = False  # the pre-connect hook ran (once per run, as Kamal)
        watch_secrets(self.resolved_secret_values)  # errors are printed masked

    @cached_property
    def config(self) -> LoadedConfig:
        path = self.options.config_file
        loaded = load(path if path.is_absolute() else self.cwd / path, self.options.destination)
        for note in loaded.notes:
            warn(note)
        adopt_environment(loaded.env)
        return loaded

    @cached_property
    def version(self) -> str:
        builder = self.config.data.get("builder") or {}
        env_version = self.config.env.get("VERSION")  # ENV after the ERB: Dotenv.load's too
        # git runs only when neither --version nor $VERSION decides.
        git = None if self.options.version or env_version else read_git_facts(self.cwd)
        return compute_version(
            self.options.version,
            env_version,
            git,
            builds_from_context=builder.get("context") is not None,
            random_hex=random_source.token_hex(8),
        )

    @cached_property
    def app(self) -> App:
        return build_desired(self.config, self.version)

    @cached_property
    def selection(self) -> Selection:
        hosts_only = build_desired(self.config, "-")  # hosts and roles do not depend on the version
        return select(hosts_only, self.options.hosts, self.options.roles, self.options.primary)

    def resolved_secret_values(self) -> list[str]:
        """Secret values read so far in this run (none if secrets were never loaded): masked."""
        return self.secrets.resolved_values() if "secrets" in self.__dict__ else []

    @cached_property
    def secrets(self) -> Secrets:
        secrets_path = str(self.config.data.get("secrets_path") or ".kamal/secrets")
        # ENV as Kamal's secrets see it, in the same process as deploy.yml's ERB: what its
        # Dotenv.load added, and KAMAL_DESTINATION the -d given or unset (never the shell's)
        env = dict(self.config.env)
        return read_secrets(self.cwd, secrets_path, self.options.destination, env)
