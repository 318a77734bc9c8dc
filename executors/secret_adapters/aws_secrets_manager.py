"""AWS Secrets Manager (``aws``), as Kamal's ``AwsSecretsManager`` adapter: one ``aws
secretsmanager batch-get-secret-value --secret-id-list ID... [--profile ACCOUNT] --output
json``; a secret holding a JSON object gives ``NAME/KEY`` per key, any other ``NAME``."""

from __future__ import annotations

import json

from backstaff.executors.secret_adapters.base import Adapter, Results, parse_json, prefixed
from backstaff.executors.secret_adapters.vendor import AdapterError
from backstaff.executors.secret_adapters.words import ruby_inspect


class AwsSecretsManager(Adapter):
    requires_account = False
    cli = ("aws", "--version")
    missing = "AWS CLI is not installed"

    def fetch_secrets(
        self, secrets: list[str], *, from_: str | None, account: str | None, session: str | None
    ) -> Results:
        ids = prefixed(secrets, from_)
        argv = ["aws", "secretsmanager", "batch-get-secret-value", "--secret-id-list", *ids]
        argv += [*(["--profile", account] if account else []), "--output", "json"]
        done = self.vendor.run(*argv)
        if not done.ok:
            raise AdapterError(
                f"Could not read {ruby_inspect(ids)} from AWS Secrets Manager", done.stderr
            )
        answer = parse_json(done.stdout, "aws secretsmanager")
        if answer.get("Errors"):
            raise AdapterError(
                " ".join(f"{e.get('SecretId')}: {e.get('Message')}" for e in answer["Errors"])
            )
        results: Results = {}
        for secret in answer.get("SecretValues") or []:
            name, string = secret.get("Name"), secret.get("SecretString")
            try:
                values = json.loads(string)
            except (TypeError, ValueError):
                values = None
            if isinstance(values, dict):
                results.update({f"{name}/{key}": value for key, value in values.items()})
            else:
                results[str(name)] = string
        return results
