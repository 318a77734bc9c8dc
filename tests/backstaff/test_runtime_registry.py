"""A registry password written in deploy.yml is read from the config only when the login
runs: the step names it by its config path (``<accessories/db/registry/password>``)."""

from __future__ import annotations

from backstaff.runtime import config_value


def test_config_value_walks_the_path() -> None:
    data = {"registry": {"password": "p1"},
            "accessories": {"db": {"registry": {"password": "p2"}}}}  # fmt: skip
    assert config_value(data, "registry/password") == "p1"
    assert config_value(data, "accessories/db/registry/password") == "p2"
    assert config_value(data, "accessories/web/registry/password") == ""
    assert config_value({"registry": ["x"]}, "registry/password") == ""
