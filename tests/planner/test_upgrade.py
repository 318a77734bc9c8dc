"""Kamal 2.11's ``proxy upgrade`` commands on one host (cli/proxy.rb, commands/proxy.rb at
v2.11.0), as shell words: Traefik stopped and pruned, kamal-proxy stopped (tolerated),
its container and image pruned."""

from __future__ import annotations

from backstaff.planner import operations
from backstaff.planner.commands.words import render
from tests.planner.kamal_recorded import words

KAMAL = [
    "docker container stop traefik ; docker container prune --force --filter"
    " label=org.opencontainers.image.title=Traefik && docker image prune --all --force"
    " --filter label=org.opencontainers.image.title=Traefik",
    "docker container stop kamal-proxy",  # raise_on_non_zero_exit: false
    "docker container prune --force --filter label=org.opencontainers.image.title=kamal-proxy",
    "docker image prune --all --force --filter label=org.opencontainers.image.title=kamal-proxy",
]


def test_proxy_upgrade_runs_kamals_commands() -> None:
    step = operations.proxy_upgrade("10.254.0.11")
    rendered = [render(c) for c in step.commands]  # type: ignore[arg-type]
    assert [words(c) for c in rendered] == [
        words(KAMAL[0]), words(KAMAL[1] + " || true"), words(KAMAL[2]), words(KAMAL[3]),
    ]  # fmt: skip
    assert step.audit == ("Rebooted proxy",) and step.host == "10.254.0.11"
