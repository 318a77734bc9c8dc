"""Bitwarden (``bw``), as Kamal's ``Bitwarden`` adapter: ``bw status`` (``bw login ACCOUNT``
when unauthenticated, ``bw unlock --raw`` when locked), ``bw sync``, ``bw get item ITEM``
with ``BW_SESSION`` set; ``ITEM`` is its login password, ``ITEM/FIELD`` a custom field."""

from __future__ import annotations

from typing import Any

from backstaff.executors.secret_adapters.base import Adapter, Results, parse_json, prefixed
from backstaff.executors.secret_adapters.vendor import AdapterError, Result
from backstaff.executors.secret_adapters.words import ruby_split


class Bitwarden(Adapter):
    cli = ("bw", "--version")
    missing = "Bitwarden CLI is not installed"

    def _bw(self, *args: str, session: str | None = None, interactive: bool = False) -> Result:
        env = {"BW_SESSION": session} if session else None
        return self.vendor.run("bw", *args, extra_env=env, interactive=interactive)

    def _status(self, session: str | None = None) -> Any:
        return parse_json(self._bw("status", session=session).stdout.strip(), "bw status")

    def login(self, account: str | None) -> str | None:
        assert account is not None
        status = self._status()
        session = None
        if status.get("status") == "unauthenticated":
            self._bw("login", account, interactive=True)
            status = self._status()
        if status.get("status") == "locked":
            session = self._bw("unlock", "--raw", interactive=True).stdout.strip() or None
            status = self._status(session)
        if status.get("status") != "unlocked":
            raise AdapterError("Failed to login to and unlock Bitwarden")
        synced = self._bw("sync", session=session)
        if not synced.ok:
            raise AdapterError("Failed to sync Bitwarden", synced.stderr)
        return session

    def fetch_secrets(
        self, secrets: list[str], *, from_: str | None, account: str | None, session: str | None
    ) -> Results:
        results: Results = {}
        for item, fields in _items_fields(prefixed(secrets, from_)).items():
            done = self._bw("get", "item", item, session=session)
            if not done.ok:
                raise AdapterError(f"Could not read {item} from Bitwarden", done.stderr)
            item_json = parse_json(done.stdout.strip(), "bw get item")
            password = (item_json.get("login") or {}).get("password")
            if any(field is not None for field in fields):
                results.update(_from_fields(fields, item, item_json))
            elif password is not None and password is not False:
                results[item] = password
            elif item_json.get("fields"):
                names = [field.get("name") for field in item_json["fields"]]
                results.update(_from_fields(names, item, item_json))
            else:
                raise AdapterError(
                    f"Item {item} is not a login type item and no fields were specified"
                )
        return results


def _items_fields(secrets: list[str]) -> dict[str, list[str | None]]:
    """``item, field = secret.split("/")``: a third part is ignored, as in Kamal."""
    items: dict[str, list[str | None]] = {}
    for secret in secrets:
        parts: list[str | None] = [*ruby_split(secret, "/"), None, None]
        items.setdefault(str(parts[0] or ""), []).append(parts[1])
    return items


def _from_fields(fields: list[Any], item: str, item_json: dict[str, Any]) -> Results:
    results: Results = {}
    for field in fields:
        found = next((f for f in item_json.get("fields") or [] if f.get("name") == field), None)
        if found is None:
            raise AdapterError(f"Could not find field {field or ''} in item {item} in Bitwarden")
        results[f"{item}/{field or ''}"] = found.get("value")
    return results
