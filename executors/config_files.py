"""Reading deploy.yml, deploy.<destination>.yml and the secrets files from disk."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from backstaff.executors.erb_host import LocalErbHost
from backstaff.executors.secret_adapters import AdapterError
from backstaff.executors.secret_adapters.command import INLINE, run_inline
from backstaff.schemas import ConfigErrors, ConfigSources
from backstaff.schemas.load import LoadedConfig, load_config
from backstaff.schemas.masking import mask
from backstaff.schemas.secrets import (
    CommandFailed,
    RunCommand,
    Secrets,
    SecretsFile,
    secrets_file_names,
)


def read_sources(
    config_file: Path,
    destination: str | None,
    env: Mapping[str, str] | None = None,
    *,
    root: Path | None = None,
    ruby: str | None | bool = True,
) -> ConfigSources:
    """The config texts, and the ERB host: commands run and files resolve from ``root``,
    the project directory (by default the one holding ``config/``, else the working
    directory); ``ruby`` is the Ruby for ERB beyond the built-in subset (True: from PATH)."""
    if root is None:
        parent = _absolute(config_file).parent
        root = parent.parent if parent.name == "config" else Path.cwd()
    config_file = _display(config_file)
    base_text = _read(config_file)
    dest_name = dest_text = None
    if destination:
        dest_path = destination_file(config_file, destination)
        dest_name, dest_text = str(dest_path), _read(dest_path)
    return ConfigSources(
        base_name=str(config_file),
        base_text=base_text,
        destination=destination,
        destination_name=dest_name,
        destination_text=dest_text,
        env=dict(os.environ if env is None else env),
        erb_host=LocalErbHost(root, ruby),
    )


def load(config_file: Path, destination: str | None) -> LoadedConfig:
    return load_config(read_sources(config_file, destination))


def read_secrets(
    root: Path, secrets_path: str, destination: str | None, env: Mapping[str, str] | None = None
) -> Secrets:
    """Secrets files relative to ``root`` (the working directory, as in Kamal). ``env`` is the
    environment after deploy.yml's ERB ran (``Dotenv.load`` there adds to it, as in Kamal)."""
    names = secrets_file_names(secrets_path, destination)
    files = [
        SecretsFile(name, _read_secrets(root / name, name))
        for name in names
        if (root / name).is_file()
    ]
    environment = dict(os.environ if env is None else env)

    def show(stderr: str) -> None:
        """What a secrets command that succeeded said on stderr ("Vault is locked."), shown as
        Kamal shows it (else a locked vault gives empty secrets without a word); the secrets
        read so far masked. Commands run on a secret's first use, after ``secrets`` is made."""
        sys.stderr.write(mask(stderr, secrets.resolved_values()))

    secrets = Secrets(files, expected_files=names, env=environment, run_command=_runner(root, show))
    return secrets


def _runner(root: Path, show_stderr: Callable[[str], None]) -> RunCommand:
    def run(command: str, env: Mapping[str, str]) -> str:
        # ``command`` has its $VARs expanded (maybe secrets): it is never put in an error,
        # nor is stdout (a secret when it succeeds); Secrets names the command as written
        # and masks stderr. ``kamal secrets …`` runs in-process, as Kamal runs it (no `kamal`).
        if INLINE.match(command):
            try:
                return run_inline(command, env)
            except AdapterError as exc:
                raise CommandFailed("failed", exc.stderr, exc.message) from None
        try:
            done = subprocess.run(
                ["sh", "-c", command], cwd=root, env=dict(env), capture_output=True, text=True,
                errors="replace", timeout=300, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise CommandFailed("timed out after 300 seconds") from None
        except OSError as exc:
            raise CommandFailed(f"could not start: {exc.strerror}") from None
        if done.returncode != 0:
            raise CommandFailed(f"failed with exit code {done.returncode}", done.stderr)
        if done.stderr:
            show_stderr(done.stderr)
        return done.stdout

    return run


def _read_secrets(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigErrors.one("cannot read: not UTF-8 text", name) from None
    except OSError as exc:
        raise ConfigErrors.one(f"cannot read: {exc.strerror}", name) from None


def destination_file(config_file: Path, destination: str) -> Path:
    """Kamal's ``sub_ext(".DESTINATION.yml")``: named after the config file as given (a
    symlink's name, not its target's), its extension replaced, always by ``.yml``."""
    return config_file.with_name(f"{config_file.stem}.{destination}.yml")


def _absolute(path: Path) -> Path:
    """Absolute as Ruby's ``File.expand_path`` makes it: symlinks are not followed."""
    return Path(os.path.abspath(path))


def _display(path: Path) -> Path:
    """Relative to the working directory when inside it: messages name the file as typed."""
    try:
        return _absolute(path).relative_to(Path.cwd())
    except ValueError:
        return path


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigErrors.one(f"Configuration file not found in {_absolute(path)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigErrors.one(f"cannot read {path}: {exc}") from None
