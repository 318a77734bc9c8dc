"""Kamal 2.11's secrets adapters, in Python: each calls its password manager's CLI with the
arguments Kamal's adapter uses and reads its answer the same way (``lib/kamal/secrets/
adapters/*.rb``). ``kamal secrets …`` itself (fetch, extract, print, ``--inline``) is in
``command``."""

from __future__ import annotations

import re

from backstaff.executors.secret_adapters.aws_secrets_manager import AwsSecretsManager
from backstaff.executors.secret_adapters.base import Adapter, Results
from backstaff.executors.secret_adapters.bitwarden import Bitwarden
from backstaff.executors.secret_adapters.bitwarden_secrets_manager import (
    BitwardenSecretsManager,
)
from backstaff.executors.secret_adapters.doppler import Doppler
from backstaff.executors.secret_adapters.enpass import Enpass
from backstaff.executors.secret_adapters.gcp_secret_manager import GcpSecretManager
from backstaff.executors.secret_adapters.last_pass import LastPass
from backstaff.executors.secret_adapters.one_password import OnePassword
from backstaff.executors.secret_adapters.passbolt import Passbolt
from backstaff.executors.secret_adapters.test import Test
from backstaff.executors.secret_adapters.vendor import AdapterError, Vendor

__all__ = ["ADAPTER_NAMES", "Adapter", "AdapterError", "Results", "Vendor", "fetch", "lookup"]

_CLASSES: dict[str, type[Adapter]] = {
    cls.__name__: cls
    for cls in (
        OnePassword, Bitwarden, BitwardenSecretsManager, LastPass, AwsSecretsManager,
        GcpSecretManager, Doppler, Passbolt, Enpass, Test,
    )
}  # fmt: skip
_ALIASES = {
    "1password": "one_password",
    "lastpass": "last_pass",
    "gcp": "gcp_secret_manager",
    "bitwarden-sm": "bitwarden_secrets_manager",
}
#: the names the docs give (any spelling Kamal's ``camelize`` maps to a class works too)
ADAPTER_NAMES = (
    "1password", "bitwarden", "bitwarden-sm", "lastpass", "aws_secrets_manager",
    "gcp_secret_manager", "gcp", "doppler", "passbolt", "enpass",
)  # fmt: skip


def _camelize(name: str) -> str:
    """ActiveSupport's ``camelize`` for a lowercase-first word: ``aws_secrets_manager``."""
    name = re.sub(r"^[a-z\d]*", lambda m: m[0].capitalize(), name)
    return re.sub(
        r"(?:_|(/))([a-z\d]*)", lambda m: (m[1] or "") + m[2].capitalize(), name, flags=re.I
    )


def lookup(name: str, vendor: Vendor) -> Adapter:
    """``Kamal::Secrets::Adapters.lookup``: the aliases, then the class ``name.camelize``."""
    name = _ALIASES.get(name.lower(), name)
    cls = _CLASSES.get(_camelize(name))
    if cls is None:
        raise AdapterError(f"Unknown secrets adapter: {name}")
    return cls(vendor)


def fetch(
    adapter: str, secrets: list[str], *, account: str | None, from_: str | None, vendor: Vendor
) -> Results:
    return lookup(adapter, vendor).fetch(secrets, account, from_)
