"""1Password (``op``), as Kamal's ``OnePassword`` adapter: ``op item get ITEM --vault VAULT
--format json --account ACCOUNT [--session S] --fields label=F1,label=F2`` once per item."""

from __future__ import annotations

from typing import Any

from backstaff.executors.secret_adapters.base import Adapter, Results, parse_json, prefixed
from backstaff.executors.secret_adapters.vendor import AdapterError
from backstaff.executors.secret_adapters.words import ruby_split


class OnePassword(Adapter):
    cli = ("op", "--version")
    missing = "1Password CLI is not installed"

    def login(self, account: str | None) -> str | None:
        assert account is not None
        if self.vendor.succeeds("op", "account", "get", "--account", account):
            return None
        done = self.vendor.run(
            "op", "signin", "--account", account, "--force", "--raw", interactive=True
        )
        if not done.ok:
            raise AdapterError("Failed to login to 1Password")
        # Kamal passes the token with op's line break; op reads the token itself.
        return done.stdout.strip() or None

    def fetch_secrets(
        self, secrets: list[str], *, from_: str | None, account: str | None, session: str | None
    ) -> Results:
        assert account is not None
        results: Results = {}
        if not secrets:
            if from_ is None:
                raise AdapterError("No secrets given and no --from (vault/item) to fetch them all")
            vault, item = _vault_item(from_)
            item_json = parse_json(self._item_get(vault, item, None, account, session), "op")
            results.update(_fields_map(item_json.get("fields") or []))
            return results
        for vault, items in _vaults_items_fields(prefixed(secrets, from_)).items():
            for item, fields in items.items():
                fields_json = parse_json(
                    self._item_get(vault, item, fields, account, session), "op"
                )
                if len(fields) == 1:
                    fields_json = [fields_json]
                results.update(_fields_map(fields_json))
        return results

    def _item_get(
        self, vault: str, item: str, fields: list[str] | None, account: str, session: str | None
    ) -> str:
        argv = ["op", "item", "get", item, "--vault", vault, "--format", "json"]
        argv += ["--account", account, *(["--session", session] if session else [])]
        if fields:
            argv += ["--fields", ",".join(f"label={field}" for field in fields)]
        done = self.vendor.run(*argv)
        if not done.ok:
            what = f"{', '.join(fields)} " if fields else ""
            raise AdapterError(
                f"Could not read {what}from {item} in the {vault} 1Password vault", done.stderr
            )
        return done.stdout


def _vaults_items_fields(secrets: list[str]) -> dict[str, dict[str, list[str]]]:
    vaults: dict[str, dict[str, list[str]]] = {}
    for secret in secrets:
        parts = ruby_split(secret.removeprefix("op://"), "/")
        vault, item = (parts + ["", ""])[:2] if len(parts) < 2 else parts[:2]
        fields = parts[2:] or ["password"]
        vaults.setdefault(vault, {}).setdefault(item, []).append(".".join(fields))
    return vaults


def _vault_item(from_: str) -> tuple[str, str]:
    parts = ruby_split(from_.removeprefix("op://"), "/")
    return (parts + ["", ""])[0], (parts + ["", ""])[1]


def _fields_map(fields_json: list[dict[str, Any]]) -> Results:
    """The reference ``op://vault/item/field`` is the key, ``/password`` dropped."""
    results: Results = {}
    for field in fields_json:
        reference = str(field.get("reference") or "").removeprefix("op://")
        results[reference.removesuffix("/password")] = field.get("value")
    return results
