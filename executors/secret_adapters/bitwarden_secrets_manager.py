"""Bitwarden Secrets Manager (``bws``), as Kamal's ``BitwardenSecretsManager`` adapter:
``bws project list`` to check the access token, then ``bws secret get UUID`` per secret, or
``bws secret list [PROJECT]`` for ``all`` / ``PROJECT/all``. Keys are the secrets' keys."""

from __future__ import annotations

from backstaff.executors.secret_adapters.base import Adapter, Results, parse_json, prefixed
from backstaff.executors.secret_adapters.vendor import AdapterError


class BitwardenSecretsManager(Adapter):
    requires_account = False
    cli = ("bws", "--version")
    missing = "Bitwarden Secrets Manager CLI is not installed"

    def login(self, account: str | None) -> str | None:
        done = self.vendor.run("bws", "project", "list")
        if not done.ok:
            raise AdapterError(
                "Could not authenticate to Bitwarden Secrets Manager."
                " Did you set a valid access token?",
                done.stderr,
            )
        return None

    def fetch_secrets(
        self, secrets: list[str], *, from_: str | None, account: str | None, session: str | None
    ) -> Results:
        if not secrets:
            raise AdapterError("You must specify what to retrieve from Bitwarden Secrets Manager")
        secrets = prefixed(secrets, from_)
        results: Results = {}
        list_args: list[str] | None = None
        if len(secrets) == 1 and secrets[0] == "all":
            list_args = []
        elif len(secrets) == 1 and secrets[0].endswith("/all"):
            list_args = [secrets[0].split("/all")[0]]
        if list_args is None:
            for uuid in secrets:
                done = self.vendor.run("bws", "secret", "get", uuid)
                if not done.ok:
                    raise AdapterError(
                        f"Could not read {uuid} from Bitwarden Secrets Manager", done.stderr
                    )
                item = parse_json(done.stdout, "bws secret get")
                results[item.get("key")] = item.get("value")
        else:
            done = self.vendor.run("bws", "secret", "list", *list_args)
            if not done.ok:
                raise AdapterError(
                    "Could not read secrets from Bitwarden Secrets Manager", done.stderr
                )
            for item in parse_json(done.stdout, "bws secret list"):
                results[item.get("key")] = item.get("value")
        return results
