"""``backstaff secrets fetch|extract|print``, as Kamal 2.11's ``kamal secrets``."""

from __future__ import annotations

import sys

import click

from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.secret_adapters import ADAPTER_NAMES, AdapterError
from backstaff.executors.secret_adapters.command import NO_ACCOUNT, extract_value, fetch_text
from backstaff.executors.secret_adapters.vendor import process_vendor
from backstaff.global_options import GlobalOptionsGroup, thor_flag

pass_app = click.make_pass_decorator(AppContext)
# Kamal's hidden --inline: the value is returned to the caller (a secrets file), not printed.
INLINE = click.option(*thor_flag("--inline"), default=False, hidden=True)


def _puts(text: str) -> None:
    """Ruby's ``puts``: a line break unless the text already ends with one."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def _error(exc: AdapterError) -> BackstaffError:
    lines = [line.strip() for line in exc.stderr.splitlines() if line.strip()][-5:]
    return BackstaffError(exc.message + (": " + " / ".join(lines) if lines else ""))


@click.group(cls=GlobalOptionsGroup)
def secrets() -> None:
    """Fetch secrets from a password manager, pick one out, or print the resolved secrets."""


@secrets.command("fetch")
@click.option(
    "--adapter",
    "-a",
    required=True,
    help=f"Which vault adapter to use: {', '.join(ADAPTER_NAMES)}.",
)
@click.option("--account", help="The account identifier or username.")
@click.option("--from", "source", help="A vault or folder to fetch the secrets from.")
@INLINE
@click.argument("keys", nargs=-1)
def secrets_fetch(
    adapter: str, account: str | None, source: str | None, inline: bool, keys: tuple[str, ...]
) -> None:
    """Fetch secrets from a vault; print them as JSON (for `secrets extract`)."""
    try:
        text = fetch_text(
            adapter, list(keys), account=account, from_=source, inline=inline,
            vendor=process_vendor(),
        )  # fmt: skip
    except AdapterError as exc:
        raise _error(exc) from None
    if text is None:
        _puts(NO_ACCOUNT)
    elif not inline:
        _puts(text)


@secrets.command("extract")
@INLINE
@click.argument("name")
@click.argument("secrets_json", metavar="SECRETS")
def secrets_extract(name: str, secrets_json: str, inline: bool) -> None:
    """Extract a single secret from the results of a fetch call."""
    try:
        value = extract_value(name, secrets_json)
    except AdapterError as exc:
        raise _error(exc) from None
    if not inline:
        _puts(value)


@secrets.command("print")
@pass_app
def secrets_print(ctx: AppContext) -> None:
    """Print the secrets (for debugging: prints values!)."""
    # All read before any is printed: a secret that cannot be read prints nothing, as in Kamal.
    lines = [f"{name}={ctx.secrets[name]}" for name in ctx.secrets.names_in_file_order()]
    for line in lines:
        _puts(line)
