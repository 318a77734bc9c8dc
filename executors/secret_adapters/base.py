"""Kamal's ``Kamal::Secrets::Adapters::Base``: the account check, the CLI check, sign-in, fetch."""

from __future__ import annotations

from typing import Any

from backstaff.executors.secret_adapters.vendor import AdapterError, Vendor
from backstaff.executors.secret_adapters.words import blank

Results = dict[str, Any]


class Adapter:
    requires_account = True
    #: the CLI and the arguments of Kamal's "is it installed" check, and the error when not
    cli: tuple[str, ...] = ()
    missing = ""

    def __init__(self, vendor: Vendor) -> None:
        self.vendor = vendor

    def fetch(self, secrets: list[str], account: str | None, from_: str | None) -> Results:
        if self.requires_account and blank(account):
            raise AdapterError("Missing required option '--account'")
        self.check_dependencies()
        session = self.login(account)
        return self.fetch_secrets(secrets, from_=from_, account=account, session=session)

    def check_dependencies(self) -> None:
        if self.cli and not self.vendor.succeeds(*self.cli):
            raise AdapterError(self.missing)

    def login(self, account: str | None) -> str | None:
        return None

    def fetch_secrets(
        self, secrets: list[str], *, from_: str | None, account: str | None, session: str | None
    ) -> Results:
        raise NotImplementedError


def prefixed(secrets: list[str], from_: str | None) -> list[str]:
    """``[from, secret].compact.join("/")``."""
    return [secret if from_ is None else f"{from_}/{secret}" for secret in secrets]


def parse_json(text: str, what: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        raise AdapterError(f"{what} did not answer JSON") from None
