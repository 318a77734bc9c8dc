"""``backstaff secrets fetch|extract|print``, as Kamal's."""

from __future__ import annotations

import json

import click

from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.secret_adapters import AdapterError, extract, fetch

pass_app = click.make_pass_decorator(AppContext)


@click.group()
def secrets() -> None:
    """Fetch secrets from a password manager, pick one out, or print the resolved secrets."""


@secrets.command("fetch")
@click.option(
    "--adapter",
    "-a",
    required=True,
    help="1password, bitwarden, lastpass, aws_secrets_manager, gcp_secret_manager, doppler.",
)
@click.option("--account", help="The account (or profile) to use.")
@click.option("--from", "source", help="Vault/item, or path prefix, the keys are in.")
@click.argument("keys", nargs=-1, required=True)
def secrets_fetch(
    adapter: str, account: str | None, source: str | None, keys: tuple[str, ...]
) -> None:
    """Print KEYS as JSON (use it in .kamal/secrets with `extract`)."""
    try:
        click.echo(json.dumps(fetch(adapter, account, source, list(keys))))
    except AdapterError as exc:
        raise BackstaffError(str(exc)) from None


@secrets.command("extract")
@click.argument("name")
@click.argument("secrets_json")
def secrets_extract(name: str, secrets_json: str) -> None:
    """Print the value of NAME from the JSON `fetch` printed."""
    try:
        click.echo(extract(name, json.loads(secrets_json)))
    except (AdapterError, json.JSONDecodeError) as exc:
        raise BackstaffError(str(exc)) from None


@secrets.command("print")
@pass_app
def secrets_print(ctx: AppContext) -> None:
    """Print every secret in the secrets files, resolved (for debugging: prints values!)."""
    for name in ctx.secrets.names():
        click.echo(f"{name}={ctx.secrets[name]}")
