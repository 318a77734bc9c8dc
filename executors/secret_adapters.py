"""``secrets fetch``: read secrets from a password manager by shelling out to its CLI, as
Kamal's adapters do. A missing CLI is a clear error naming it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable

Builder = Callable[[str | None, str | None, str], list[str]]  # (account, from, key) -> argv


def _with(flag: str, value: str | None) -> list[str]:
    return [flag, value] if value else []


ADAPTERS: dict[str, tuple[str, Builder]] = {
    "1password": ("op", lambda account, source, key: ["op", "read", f"op://{source}/{key}", *_with("--account", account)]),
    "bitwarden": ("bw", lambda account, source, key: ["bw", "get", "password", f"{source}/{key}" if source else key]),
    "lastpass": ("lpass", lambda account, source, key: ["lpass", "show", "--password", f"{source}/{key}" if source else key]),
    "aws_secrets_manager": ("aws", lambda account, source, key: [
        "aws", "secretsmanager", "get-secret-value", "--secret-id", f"{source}/{key}" if source else key,
        "--query", "SecretString", "--output", "text", *_with("--profile", account)]),
    "gcp_secret_manager": ("gcloud", lambda account, source, key: [
        "gcloud", "secrets", "versions", "access", "latest", f"--secret={key}",
        *([f"--project={source}"] if source else []), *([f"--account={account}"] if account else [])]),
    "doppler": ("doppler", lambda account, source, key: ["doppler", "secrets", "get", key, "--plain",
                                                         *_with("--project", source)]),
}  # fmt: skip


class AdapterError(Exception):
    pass


def fetch(adapter: str, account: str | None, source: str | None, keys: list[str]) -> dict[str, str]:
    if adapter not in ADAPTERS:
        raise AdapterError(f"unknown adapter '{adapter}' (one of: {', '.join(sorted(ADAPTERS))})")
    binary, build = ADAPTERS[adapter]
    if shutil.which(binary) is None:
        raise AdapterError(
            f"the {adapter} adapter needs the `{binary}` CLI, which is not installed or not on PATH"
        )
    values = {}
    for key in keys:
        done = subprocess.run(
            build(account, source, key), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise AdapterError(f"`{binary}` could not read {key} (exit {done.returncode})")
        values[f"{source}/{key}" if source else key] = done.stdout.rstrip("\n")
    return values


def extract(name: str, secrets: dict[str, str]) -> str:
    for key, value in secrets.items():
        if key == name or key.endswith(f"/{name}"):
            return value
    raise AdapterError(f"Could not find secret {name}")
