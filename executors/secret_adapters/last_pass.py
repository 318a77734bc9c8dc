"""LastPass (``lpass``), as Kamal's ``LastPass`` adapter: ``lpass status --color never`` must
say ``Logged in as ACCOUNT.`` (else ``lpass login ACCOUNT``), then one ``lpass show NAME...
--json``; keys are the entries' ``fullname``, values their ``password``."""

from __future__ import annotations

from backstaff.executors.secret_adapters.base import Adapter, Results, parse_json, prefixed
from backstaff.executors.secret_adapters.vendor import AdapterError
from backstaff.executors.secret_adapters.words import ruby_inspect


class LastPass(Adapter):
    cli = ("lpass", "--version")
    missing = "LastPass CLI is not installed"

    def login(self, account: str | None) -> str | None:
        status = self.vendor.run("lpass", "status", "--color", "never").stdout.strip()
        if status != f"Logged in as {account}.":
            if not self.vendor.run("lpass", "login", str(account), interactive=True).ok:
                raise AdapterError("Failed to login to LastPass")
        return None

    def fetch_secrets(
        self, secrets: list[str], *, from_: str | None, account: str | None, session: str | None
    ) -> Results:
        secrets = prefixed(secrets, from_)
        done = self.vendor.run("lpass", "show", *secrets, "--json")
        if not done.ok:
            raise AdapterError(f"Could not read {ruby_inspect(secrets)} from LastPass", done.stderr)
        results: Results = {}
        for item in parse_json(done.stdout, "lpass show"):
            results[item.get("fullname")] = item.get("password")
        missing = [secret for secret in secrets if secret not in results]
        if missing:
            raise AdapterError(f"Could not find {', '.join(missing)} in LastPass")
        return results
