"""Kamal's ``test`` adapter (its own test suite uses it): each value is its name reversed,
``LPAREN``/``RPAREN`` turned into parentheses first. No CLI."""

from __future__ import annotations

from backstaff.executors.secret_adapters.base import Adapter, Results, prefixed


class Test(Adapter):
    def login(self, account: str | None) -> str | None:
        return None

    def fetch_secrets(
        self, secrets: list[str], *, from_: str | None, account: str | None, session: str | None
    ) -> Results:
        return {
            secret: secret.replace("LPAREN", "(").replace("RPAREN", ")")[::-1]
            for secret in prefixed(secrets, from_)
        }
