"""Passbolt (``passbolt``), as Kamal's ``Passbolt`` adapter: ``passbolt verify``, then the
folders of ``FOLDER[/SUB…]/NAME`` secrets (``passbolt list folders --filter '…' --json``, level
by level), then one ``passbolt list resources [--filter '…'] [--folder ID…] --json``. Keys are
the resources' bare names, values their ``password``."""

from __future__ import annotations

import json
from typing import Any

from backstaff.executors.secret_adapters.base import Adapter, Results, parse_json, prefixed
from backstaff.executors.secret_adapters.vendor import AdapterError
from backstaff.executors.secret_adapters.words import ruby_inspect, ruby_split, shellescape


def _quoted(text: str) -> str:
    """``text.shellescape.inspect``: what Kamal writes into a filter expression."""
    return json.dumps(shellescape(text), ensure_ascii=False)


class Passbolt(Adapter):
    requires_account = False
    cli = ("passbolt", "--version")
    missing = "Passbolt CLI is not installed"

    def login(self, account: str | None) -> str | None:
        done = self.vendor.run("passbolt", "verify")
        if not done.ok:
            raise AdapterError("Failed to login to Passbolt", done.stderr)
        return None

    def fetch_secrets(
        self, secrets: list[str], *, from_: str | None, account: str | None, session: str | None
    ) -> Results:
        secrets = prefixed(secrets, from_)
        if not secrets:
            raise AdapterError("No secrets given to fetch")
        names = [(ruby_split(secret, "/") or [""])[-1] for secret in secrets]
        folders = self._folders(secrets)
        conditions = []
        for secret in secrets:
            parts = ruby_split(secret, "/")
            name = parts[-1] if parts else ""
            if len(parts) > 1:
                current = None
                for depth in range(1, len(parts)):
                    path = "/".join(parts[:depth])
                    matching = [f for f in folders if _folder_path(f, folders) == path]
                    if matching:
                        current = matching[0]
                if current is not None:
                    conditions.append(
                        f"(Name == {_quoted(name)} && FolderParentID == {_quoted(str(current['id']))})"
                    )
            else:
                conditions.append(f"Name == {_quoted(name)}")
        argv = ["passbolt", "list", "resources"]
        if conditions:
            argv += ["--filter", " || ".join(conditions)]
        for folder in folders:
            argv += ["--folder", str(folder.get("id"))]
        done = self.vendor.run(*argv, "--json")
        if not done.ok:
            raise AdapterError(f"Could not read {ruby_inspect(secrets)} from Passbolt", done.stderr)
        items = parse_json(done.stdout, "passbolt list resources")
        found = {item.get("name") for item in items}
        missing = [name for name in names if name not in found]
        if missing:
            raise AdapterError(
                f"Could not find the following secrets in Passbolt: {', '.join(missing)}"
            )
        return {item.get("name"): item.get("password") for item in items}

    def _folders(self, secrets: list[str]) -> list[dict[str, Any]]:
        paths: list[list[str]] = []
        for secret in secrets:
            if "/" in secret:
                path = ruby_split(secret, "/")[:-1]
                if path not in paths:
                    paths.append(path)
        if not paths:
            return []
        parents = list(dict.fromkeys(path[0] for path in paths if path))
        condition = " || ".join(f"Name == {_quoted(name)}" for name in parents)
        done = self.vendor.run("passbolt", "list", "folders", "--filter", condition, "--json")
        if not done.ok:
            raise AdapterError("Could not read folders from Passbolt", done.stderr)
        parent_items = parse_json(done.stdout, "passbolt list folders")
        folders: list[dict[str, Any]] = list(parent_items)
        for path in paths:
            if len(path) <= 1:
                continue
            parent = next((f for f in parent_items if f.get("name") == path[0]), None)
            if parent is None:
                continue
            for name in path[1:]:
                condition = (
                    f"Name == {_quoted(name)} && FolderParentID == {_quoted(str(parent['id']))}"
                )
                nested = self.vendor.run(
                    "passbolt", "list", "folders", "--filter", condition, "--json"
                )
                if not nested.ok:
                    continue
                nested_items = parse_json(nested.stdout, "passbolt list folders")
                if not nested_items:
                    break
                folders.extend(nested_items)
                parent = nested_items[0]
        found = [_folder_path(f, folders) for f in folders]
        missing = ["/".join(path) for path in paths if "/".join(path) not in found]
        if missing:
            raise AdapterError(
                f"Could not find the following folders in Passbolt: {', '.join(missing)}"
            )
        return folders


def _folder_path(folder: dict[str, Any], folders: list[dict[str, Any]]) -> str:
    path = [str(folder.get("name"))]
    seen = {id(folder)}
    while str(folder.get("folder_parent_id") or ""):
        parent = next((f for f in folders if f.get("id") == folder.get("folder_parent_id")), None)
        if parent is None or id(parent) in seen:
            break
        seen.add(id(parent))
        path.insert(0, str(parent.get("name")))
        folder = parent
    return "/".join(path)
