"""Captured live states (fixtures/live/<scenario>/<host>.txt, real outputs from the test bed)
and the example config with variations: the inputs of the planner's unit tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import yaml

from backstaff.planner.desired import build_desired
from backstaff.planner.live import LiveState, parse_host
from backstaff.planner.model import App
from backstaff.schemas import ConfigSources, load_config
from tests.conftest import FIXTURES
from tests.schemas.helpers import kamal_yaml

EXAMPLE = FIXTURES / "example" / "config" / "deploy.yml"
HOSTS = ("10.254.0.11", "10.254.0.12", "10.254.0.13")


def live(scenario: str, hosts: tuple[str, ...] = HOSTS) -> LiveState:
    return LiveState(
        tuple(parse_host(h, (FIXTURES / "live" / scenario / f"{h}.txt").read_text()) for h in hosts)
    )


def example(version: str = "v1", change: Callable[[dict[str, Any]], None] | None = None) -> App:
    data = yaml.safe_load(EXAMPLE.read_text())
    if change:
        data = copy.deepcopy(data)
        change(data)
    loaded = load_config(ConfigSources(str(EXAMPLE), kamal_yaml(data, sort_keys=False)))
    return build_desired(loaded, version)
