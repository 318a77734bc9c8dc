"""Enpass (``enpass-cli``), as Kamal's ``Enpass`` adapter: offline, no account; ``--from`` is
the vault's path. One ``enpass-cli -json -vault PATH show TITLE...``; ``TITLE`` gives every
password of the item (``TITLE/LABEL`` keys), ``TITLE/LABEL`` one."""

from __future__ import annotations

from backstaff.executors.secret_adapters.base import Adapter, Results, parse_json
from backstaff.executors.secret_adapters.vendor import AdapterError
from backstaff.executors.secret_adapters.words import blank


class Enpass(Adapter):
    requires_account = False
    cli = ("enpass-cli", "version")
    missing = "Enpass CLI is not installed"

    def fetch_secrets(
        self, secrets: list[str], *, from_: str | None, account: str | None, session: str | None
    ) -> Results:
        if from_ is None:
            raise AdapterError("Missing the vault's path: --from VAULT_PATH")
        titles: list[str] = []
        for secret in secrets:
            key, _, value = secret.rpartition("/")
            title = key or value
            if title not in titles:
                titles.append(title)
        done = self.vendor.run("enpass-cli", "-json", "-vault", from_, "show", *titles)
        results: Results = {}
        for item in parse_json(done.stdout.strip(), "enpass-cli show"):
            title, label, password = item.get("title"), item.get("label"), item.get("password")
            if title and not blank(password):
                key = "/".join(part for part in (title, label) if part)
                if title in secrets or key in secrets:
                    if key in results:
                        raise AdapterError(f"{key} is present more than once")
                    results[key] = password
        return results
