"""The stand-in gh's world (tests/ci/github/bin/gh): what is on GitHub before a run, and the
calls the run made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BOT = "github-actions[bot]"


class GitHub:
    def __init__(self, root: Path, **state: Any) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.state_file = root / "gh-state.json"
        self.log_file = root / "gh-calls.jsonl"
        self.state_file.write_text(json.dumps(state))
        self.log_file.touch()

    @property
    def env(self) -> dict[str, str]:
        return {"GH_STANDIN_STATE": str(self.state_file), "GH_STANDIN_LOG": str(self.log_file)}

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.state_file.read_text())
        return data

    def calls(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_file.read_text().splitlines()]

    def writes(self) -> list[tuple[str, str]]:
        """(method, path) of every API call that changes something."""
        return [(c["method"], c["path"]) for c in self.calls() if c.get("method", "GET") != "GET"]

    def forget_calls(self) -> None:
        self.log_file.write_text("")
