"""``backstaff`` as installed, with the hosts' answers replayed from states recorded on the
test bed (fixtures/live/<REPLAY_SCENARIO>/; hosts in REPLAY_UNREACHABLE refuse the connection):
what the real command prints and exits with when a workflow step runs it, with no host.
tests/ci/bin/backstaff runs this."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from backstaff import planning
from backstaff.cli import main
from backstaff.planner.live import LiveHost, LiveState
from backstaff.planner.model import App
from tests.planner.scenarios import live

REFUSED = "cannot connect on port 22: connection refused (nothing listens on that port)"


def gather(app: App, hosts: Iterable[str], pool: object) -> LiveState:
    unreachable = set(filter(None, os.environ.get("REPLAY_UNREACHABLE", "").split(",")))
    recorded = {h.host: h for h in live(os.environ.get("REPLAY_SCENARIO", "deployed-v1")).hosts}
    return LiveState(tuple(
        LiveHost(h, error=REFUSED) if h in unreachable or h not in recorded else recorded[h]
        for h in dict.fromkeys(hosts)
    ))  # fmt: skip


if __name__ == "__main__":
    planning.gather = gather  # type: ignore[assignment]
    sys.exit(main(sys.argv[1:]))
