"""``backstaff config``: Kamal's keys in Kamal's order, then backstaff's, secrets masked."""

from __future__ import annotations

from typing import Any

import yaml

from backstaff.planner.config_view import (
    ADDED_BY_BACKSTAFF,
    KAMAL_KEYS,
    MASK,
    config_view,
    render_config_view,
)
from backstaff.planner.desired import build_desired
from backstaff.schemas import load_config
from backstaff.schemas.load import ConfigSources

CONFIG = """
service: shop
image: acme/shop
primary_role: web
servers:
  workers:
    hosts:
      - 192.0.2.3: [eu]
    cmd: bin/jobs
  web:
    - 192.0.2.1
    - 192.0.2.2
  api:
    hosts:
      - 192.0.2.2
registry:
  server: ghcr.io
  username: acme
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  arch: amd64
ssh:
  user: deploy
  proxy: bastion.example.test
  key_data:
    - SSH_KEY
env:
  clear:
    A: "1"
  tags:
    eu:
      REGION: eu
asset_path: /rails/public/assets
accessories:
  db:
    image: mysql:8
    host: 192.0.2.9
    volumes:
      - /data:/var/lib/mysql
"""


def _view(reveal: Any = None) -> dict[str, Any]:
    loaded = load_config(ConfigSources("config/deploy.yml", CONFIG))
    return config_view(build_desired(loaded, "v1"), loaded.data, reveal)


def test_kamal_keys_first_in_kamal_order_with_roles_sorted_by_name() -> None:
    view = _view()
    assert [k for k in view if k in KAMAL_KEYS] == [k for k in KAMAL_KEYS if k in view]
    assert list(view)[: len(KAMAL_KEYS)] == list(KAMAL_KEYS)
    assert view["roles"] == ["api", "web", "workers"]  # Kamal sorts; the primary is not first
    assert view["hosts"] == ["192.0.2.2", "192.0.2.1", "192.0.2.3", "192.0.2.9"]
    assert view["primary_host"] == "192.0.2.1"
    assert list(view["servers"]) == ["api", "web", "workers"]


def test_ssh_options_as_kamal_prints_them_with_key_data_masked() -> None:
    ssh = _view()["ssh_options"]
    assert list(ssh) == ["user", "port", "proxy", "keepalive", "keepalive_interval"] + [
        "key_data",
        "log_level",
    ]
    assert ssh["proxy"] == "root@bastion.example.test"
    assert ssh["key_data"] == [MASK]
    assert _view(lambda name: f"<{name}>")["ssh_options"]["key_data"] == ["<SSH_KEY>"]


def test_backstaff_additions_resolve_tags_accessories_and_assets() -> None:
    view = _view()
    assert view["accessories"]["db"]["volumes"] == ["/data:/var/lib/mysql"]  # as written
    assert view["resolved_accessories"]["db"]["service"] == "shop-db"
    assert view["servers"]["workers"]["host_env"]["192.0.2.3"]["clear"]["REGION"] == "eu"
    assert view["servers"]["web"]["asset_path"] == "/rails/public/assets"
    assert view["registry"]["password"] == MASK


def test_rendered_with_a_comment_before_backstaffs_keys() -> None:
    text = render_config_view(_view())
    kamal_part, added_part = text.split(ADDED_BY_BACKSTAFF + "\n")
    assert list(yaml.safe_load(kamal_part)) == list(KAMAL_KEYS)
    assert "servers" in yaml.safe_load(added_part)
    assert yaml.safe_load(text)["roles"] == ["api", "web", "workers"]
