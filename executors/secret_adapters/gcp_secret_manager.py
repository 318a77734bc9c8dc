"""Google Secret Manager (``gcloud``), as Kamal's ``GcpSecretManager`` adapter (also ``gcp``):
``gcloud auth list --format=json`` must list an account (else ``gcloud auth login``), then per
secret ``gcloud secrets versions access VERSION --secret=NAME [--project=P] [--account=U]
[--impersonate-service-account=SA] --format=json``; the payload is base64. A secret is
``NAME``, ``PROJECT/NAME`` or ``PROJECT/NAME/VERSION`` (``default`` is gcloud's project);
the account is ``USER`` or ``USER|SERVICE_ACCOUNT[,…]`` (``default``: gcloud's user)."""

from __future__ import annotations

import base64
import binascii
import json

from backstaff.executors.secret_adapters.base import Adapter, Results, prefixed
from backstaff.executors.secret_adapters.vendor import AdapterError
from backstaff.executors.secret_adapters.words import ruby_split


class GcpSecretManager(Adapter):
    cli = ("gcloud", "--version")
    missing = "gcloud CLI is not installed"

    def _logged_in(self) -> bool:
        try:
            return bool(
                json.loads(self.vendor.run("gcloud", "auth", "list", "--format=json").stdout)
            )
        except ValueError:
            return False

    def login(self, account: str | None) -> str | None:
        if not self._logged_in():
            self.vendor.run("gcloud", "auth", "login", interactive=True)
            if not self._logged_in():
                raise AdapterError("could not login to gcloud")
        return None

    def fetch_secrets(
        self, secrets: list[str], *, from_: str | None, account: str | None, session: str | None
    ) -> Results:
        user, _, service_account = str(account).partition("|")
        results: Results = {}
        for secret in prefixed(secrets, from_):
            parts = ruby_split(secret, "/")
            if len(parts) == 1:
                parts.insert(0, "default")
            project, name = (parts + ["", ""])[:2]
            version = parts[2] if len(parts) > 2 else "latest"
            item_name = f"{project}/{name}"
            argv = ["gcloud", "secrets", "versions", "access", version, f"--secret={name}"]
            if project != "default":
                argv.append(f"--project={project}")
            if user != "default":
                argv.append(f"--account={user}")
            if "|" in str(account):
                argv.append(f"--impersonate-service-account={service_account}")
            done = self.vendor.run(*argv, "--format=json")
            try:
                data = json.loads(done.stdout.strip())["payload"]["data"]
                value = base64.b64decode(data + "=" * (-len(data) % 4))
            except (ValueError, KeyError, TypeError, binascii.Error):
                value = None
            if not done.ok or value is None:
                raise AdapterError(
                    f"Could not read {item_name} from Google Secret Manager", done.stderr
                )
            results[item_name] = value.decode("utf-8", errors="replace")
        return results
