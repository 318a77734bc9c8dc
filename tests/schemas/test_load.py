"""YAML features, destination merge, extensions, require_destination, minimum_version."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from backstaff.schemas import ConfigErrors, ConfigSources, load_config
from backstaff.schemas.merge import deep_merge

BASE = """service: app
image: acme/app
registry: {username: u, password: p}
builder: {arch: amd64}
"""


def load(text: str, destination: str | None = None, overlay: str | None = None, env=None):  # type: ignore[no-untyped-def]
    return load_config(
        ConfigSources(
            "config/deploy.yml",
            BASE + text,
            destination=destination,
            destination_name=f"config/deploy.{destination}.yml" if destination else None,
            destination_text=overlay,
            env=env or {},
        )
    )


def messages(exc: pytest.ExceptionInfo[ConfigErrors]) -> list[str]:
    return [str(e) for e in exc.value.errors]


def test_anchors_aliases_and_merge_keys() -> None:
    config = load(
        "x-role: &role\n  cmd: bin/run\n  hosts: [1.1.1.1]\n"
        "servers:\n  web:\n    <<: *role\n  jobs:\n    <<: *role\n    cmd: bin/jobs\n"
    )
    assert config.data["servers"]["jobs"] == {"cmd": "bin/jobs", "hosts": ["1.1.1.1"]}
    assert "x-role" not in config.data


def test_destination_file_is_deep_merged_and_arrays_replaced() -> None:
    config = load(
        "servers:\n  web: {hosts: [1.1.1.1, 1.1.1.2], cmd: run}\nproxy: {host: a.com, app_port: 3000}\n",
        destination="staging",
        overlay="servers:\n  web: {hosts: [2.2.2.2]}\nproxy: {host: staging.a.com}\n",
    )
    assert config.destination == "staging"
    assert config.data["servers"]["web"] == {"hosts": ["2.2.2.2"], "cmd": "run"}
    assert config.data["proxy"] == {"host": "staging.a.com", "app_port": 3000}


def test_errors_in_the_destination_file_are_reported() -> None:
    with pytest.raises(ConfigErrors) as exc:
        load("servers: [h]\n", destination="prod", overlay="proxy: {hostt: x}\n")
    assert messages(exc) == ["proxy: unknown key: hostt"]


def test_require_destination() -> None:
    with pytest.raises(ConfigErrors) as exc:
        load("servers: [h]\nrequire_destination: true\n")
    assert messages(exc) == ["You must specify a destination"]
    assert load("servers: [h]\nrequire_destination: true\n", "prod", "{}").destination == "prod"


@pytest.mark.parametrize(
    ("minimum", "ok"), [("2.0", True), ("2.11.0", True), ("2.11.1", False), ("3", False)]
)
def test_minimum_version(minimum: str, ok: bool) -> None:
    text = f"servers: [h]\nminimum_version: {minimum}\n"
    if ok:
        load(text)
    else:
        with pytest.raises(ConfigErrors) as exc:
            load(text)
        assert messages(exc) == [f"Current version is 2.11.0, minimum required is {minimum}"]


def test_yaml_syntax_error_names_file_line_and_column() -> None:
    with pytest.raises(ConfigErrors) as exc:
        load("servers: [1.1.1.1\nfoo: {\n")
    (message,) = messages(exc)
    assert message.startswith("config/deploy.yml: YAML syntax error at line 6, column 4:")


def test_a_document_that_is_not_a_hash() -> None:
    with pytest.raises(ConfigErrors) as exc:
        load_config(ConfigSources("config/deploy.yml", "- a\n- b\n"))
    assert messages(exc) == ["config/deploy.yml: should be a hash of settings"]


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "---\n", "<% if false %>a: 1<% end %>\n"])
def test_a_file_with_no_settings_stops_as_kamal_stops(text: str) -> None:
    """Kamal 2.11 calls symbolize_keys on what the file holds: false or nil for an empty one
    (NoMethodError); a destination file that changes nothing is ``{}``."""
    empty = "has no settings: Kamal 2.11 stops on an empty file (write {} in a destination"
    with pytest.raises(ConfigErrors) as exc:
        load("servers: [h]\n", destination="staging", overlay=text)
    assert messages(exc) == [f"config/deploy.staging.yml: {empty} file that changes nothing)"]
    with pytest.raises(ConfigErrors) as exc:
        load_config(ConfigSources("config/deploy.yml", text))
    assert messages(exc) == [f"config/deploy.yml: {empty} file that changes nothing)"]
    assert load("servers: [h]\n", destination="staging", overlay="{}\n").data["servers"] == ["h"]


def test_kamal_destination_is_visible_to_erb() -> None:
    config = load(
        'servers: [h]\nenv: {clear: {DEST: <%= ENV["KAMAL_DESTINATION"] %>}}\n', "beta", "{}"
    )
    assert config.data["env"]["clear"]["DEST"] == "beta"


def test_deep_merge_does_not_mutate_its_inputs() -> None:
    base = {"a": {"b": 1, "c": [1]}}
    merged = deep_merge(base, {"a": {"c": [2]}})
    assert merged == {"a": {"b": 1, "c": [2]}}
    assert base == {"a": {"b": 1, "c": [1]}}


FIRST_DOCUMENTS = [
    "servers: [1.1.1.1]\n---\nservers: [2.2.2.2]\n",
    "servers: [1.1.1.1]\n... # the rest is Kamal 1\n\nhealthcheck:\n  path: /up\n",
    "servers: [1.1.1.1]\n...\n'not even: [valid yaml\n",
    "servers: [1.1.1.1]\n...\n# only comments\n---\n",
    "servers: [1.1.1.1]\n--- b\n",
]


def test_only_the_first_yaml_document_is_read_as_kamal_reads_it() -> None:
    """Kamal's ``YAML.unsafe_load`` reads the first document of the stream and never parses
    the rest (a real config, corpus ``spring-boot-kamal-demo``, has Kamal 1 keys after a
    ``...``): the same servers as the real Ruby reads, and a note where content is left out."""
    texts = [BASE + text for text in FIRST_DOCUMENTS]
    ruby = shutil.which("ruby")
    assert ruby, "ruby is not installed: run scripts/setup.sh (Debian package ruby)"
    program = 'require "json"; require "yaml"; JSON.parse(STDIN.read).each { |t| puts YAML.unsafe_load(t)["servers"].to_json }'
    done = subprocess.run([ruby, "-e", program], input=json.dumps(texts), capture_output=True,
                          text=True, timeout=60, check=True)  # fmt: skip
    psych = [json.loads(line) for line in done.stdout.splitlines()]
    loaded = [load(text) for text in FIRST_DOCUMENTS]
    assert [config.data["servers"] for config in loaded] == psych == [["1.1.1.1"]] * 5
    assert [config.notes for config in loaded] == [
        ("config/deploy.yml: only the first YAML document is read, as Kamal reads it: line 7"
         " and every line after it are ignored",),
        ("config/deploy.yml: only the first YAML document is read, as Kamal reads it: line 8"
         " and every line after it are ignored",),
        ("config/deploy.yml: only the first YAML document is read, as Kamal reads it: line 7"
         " and every line after it are ignored",),
        (),
        ("config/deploy.yml: only the first YAML document is read, as Kamal reads it: line 6"
         " and every line after it are ignored",),
    ]  # fmt: skip
