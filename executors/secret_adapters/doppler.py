"""Doppler (``doppler``), as Kamal's ``Doppler`` adapter: ``doppler me --json`` (else
``doppler login -y``), then one ``doppler secrets get NAME... --json -p PROJECT -c CONFIG``
(``--from PROJECT/CONFIG``; no ``-p``/``-c`` with a service token, ``DOPPLER_TOKEN=dp.st…``).
Keys are the bare names, values their ``computed`` value."""

from __future__ import annotations

from backstaff.executors.secret_adapters.base import Adapter, Results, parse_json, prefixed
from backstaff.executors.secret_adapters.vendor import AdapterError
from backstaff.executors.secret_adapters.words import ruby_inspect, ruby_split


class Doppler(Adapter):
    requires_account = False
    cli = ("doppler", "--version")
    missing = "Doppler CLI is not installed"

    def login(self, account: str | None) -> str | None:
        if not self.vendor.succeeds("doppler", "me", "--json"):
            if not self.vendor.run("doppler", "login", "-y", interactive=True).ok:
                raise AdapterError("Failed to login to Doppler")
        return None

    def fetch_secrets(
        self, secrets: list[str], *, from_: str | None, account: str | None, session: str | None
    ) -> Results:
        secrets = prefixed(secrets, from_)
        flags: list[str] = []
        if not (self.vendor.getenv("DOPPLER_TOKEN") or "").startswith("dp.st"):
            first = ruby_split(secrets[0], "/") if secrets else []
            if len(first) < 2:
                raise AdapterError("Missing project or config from '--from=project/config' option")
            flags = ["-p", first[0], "-c", first[1]]
        names = [(ruby_split(secret, "/") or [""])[-1] for secret in secrets]
        done = self.vendor.run("doppler", "secrets", "get", *names, "--json", *flags)
        if not done.ok:
            raise AdapterError(f"Could not read {ruby_inspect(secrets)} from Doppler", done.stderr)
        items = parse_json(done.stdout, "doppler secrets get")
        return {name: (value or {}).get("computed") for name, value in items.items()}
