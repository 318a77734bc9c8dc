"""Values are data: every value position of every command hands docker exactly the configured
text when a real ``sh``, ``dash`` and ``bash`` run the rendered command, or validation refuses
the value with its config path. Shell syntax comes only from constants in the source."""

from __future__ import annotations

import ast
import copy
import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backstaff.planner.commands import app as app_cmd
from backstaff.planner.commands import host as host_cmd
from backstaff.planner.commands import proxy as proxy_cmd
from backstaff.planner.commands import verbs
from backstaff.planner.commands.words import (
    Cat,
    Raw,
    Runtime,
    Sub,
    UnsafeWord,
    Val,
    display,
    from_json,
    quote,
    render,
    to_json,
    values,
)
from backstaff.planner.desired import build_desired
from backstaff.planner.model import App
from backstaff.schemas import ConfigErrors, ConfigSources, load_config
from backstaff.schemas.shell_words import shell_words
from tests.conftest import FIXTURES, ROOT
from tests.schemas.helpers import kamal_yaml

SHELLS = ("sh", "dash", "bash")
EXAMPLE = yaml.safe_load((FIXTURES / "example" / "config" / "deploy.yml").read_text())
# Anything a YAML string can hold, shell syntax first.
HOSTILE = st.one_of(
    st.sampled_from(["$(touch /tmp/p)", "`id`", "${x:=$(touch p)}", "${HOME}", "$HOME", "a'b",
                     'a"b', "a\\b", "a;b", "a&&b", "a|b", "*", "~", "-rf", "", " ", "\n", "a\nb",
                     "'$(x)'", '"$(x)"', "\\", "!x", "#x", "{a,b}", "[ab]", "é—😀", "\x1b[31m"]),
    st.text(min_size=0, max_size=40),
)  # fmt: skip
FAKE_DOCKER = '#!/bin/sh\nfor a in "$@"; do printf \'%s\\0\' "$a"; done\n'


@pytest.fixture(scope="module")
def bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``docker`` that prints its arguments, NUL-separated: what docker would get."""
    path = tmp_path_factory.mktemp("bin")
    (path / "docker").write_text(FAKE_DOCKER)
    (path / "docker").chmod(0o755)
    return path


def argv_in(shell: str, command: str, bin_dir: Path, cwd: Path) -> list[list[str]]:
    """Run ``command`` with ``shell`` and return the argument lists docker was called with
    (one call per line of output is not possible with NULs: the fake prints one call)."""
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": "/nonexistent-home"}
    done = subprocess.run([shell, "-c", command], capture_output=True, env=env, cwd=cwd,
                          timeout=20, check=False)  # fmt: skip
    assert done.returncode == 0, (shell, command, done.stderr)
    return [done.stdout.decode("utf-8", "surrogateescape").split("\0")[:-1]]


def load(change: Callable[[dict[str, Any]], None]) -> App | ConfigErrors:
    data = copy.deepcopy(EXAMPLE)
    change(data)
    try:
        text = kamal_yaml(data).replace("<%", "<%%")  # deploy.yml is ERB: a literal <%
        loaded = load_config(ConfigSources("config/deploy.yml", text))
    except ConfigErrors as exc:
        return exc
    return build_desired(loaded, "v1")


def _set(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node = data
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value

    return change


# (config change, command built from the app, the argument docker must get)
Position = tuple[Callable[[str], Callable[[dict[str, Any]], None]], Callable[[App], Any],
                 Callable[[str], list[str]]]  # fmt: skip
WEB = "10.254.0.11"
POSITIONS: dict[str, Position] = {
    "env clear value": (lambda v: _set(["env", "clear", "TB_GREETING"], v),
                        lambda a: app_cmd.run(a, a.roles[0], WEB, "v1"),
                        lambda v: ["--env", f"TB_GREETING={v}" if v.strip() else "TB_GREETING"]),
    "label value": (lambda v: _set(["labels", "note"], v),
                    lambda a: app_cmd.run(a, a.roles[0], WEB, "v1"),
                    lambda v: ["--label", f"note={v}" if v.strip() else "note"]),  # docker: note=""
    "volume": (lambda v: _set(["volumes"], [v]),
               lambda a: app_cmd.run(a, a.roles[0], WEB, "v1"), lambda v: ["--volume", v]),
    "role option value": (lambda v: _set(["servers", "workers", "options"], {"memory": v}),
                          lambda a: app_cmd.run(a, a.roles[1], "10.254.0.13", "v1"),
                          lambda v: ["--memory", v]),
    "role cmd": (lambda v: _set(["servers", "workers", "cmd"], v),
                 lambda a: app_cmd.run(a, a.roles[1], "10.254.0.13", "v1"),
                 lambda v: shell_words(v)),
    "logging option": (lambda v: _set(["logging"], {"options": {"tag": v}}),
                       lambda a: app_cmd.run(a, a.roles[0], WEB, "v1"),
                       lambda v: ["--log-opt", f"tag={v}"]),
    "logging driver": (lambda v: _set(["logging"], {"driver": v}),
                       lambda a: app_cmd.run(a, a.roles[0], WEB, "v1"),
                       lambda v: ["--log-driver", v] if v else ["--log-opt", "max-size=10m"]),
    "accessory env": (lambda v: _set(["accessories", "cache", "env", "clear", "CACHE_MODE"], v),
                      lambda a: _accessory_run(a),
                      lambda v: ["--env", f"CACHE_MODE={v}" if v.strip() else "CACHE_MODE"]),
    "accessory label": (lambda v: _set(["accessories", "cache", "labels"], {"note": v}),
                        lambda a: _accessory_run(a),
                        lambda v: ["--label", f"note={v}" if v.strip() else "note"]),
    "accessory option": (lambda v: _set(["accessories", "cache", "options"], {"memory": v}),
                         lambda a: _accessory_run(a), lambda v: ["--memory", v]),
    "accessory volume": (lambda v: _set(["accessories", "cache", "volumes"], [v]),
                         lambda a: _accessory_run(a), lambda v: ["--volume", v]),
    "accessory cmd": (lambda v: _set(["accessories", "cache", "cmd"], v),
                      lambda a: _accessory_run(a), lambda v: shell_words(v)),
    "proxy host": (lambda v: _set(["proxy", "hosts"], [v]),
                   lambda a: proxy_cmd.deploy(a, "tb-web", a.roles[0].proxy, "abc", "web"),
                   lambda v: [f"--host={v.strip()}"] if v.strip() else []),
    "healthcheck path": (lambda v: _set(["proxy", "healthcheck", "path"], v),
                         lambda a: proxy_cmd.deploy(a, "tb-web", a.roles[0].proxy, "abc", "web"),
                         lambda v: [f"--health-check-path={v}"] if v else []),
    "path prefix": (lambda v: _set(["proxy", "path_prefixes"], [v]),
                    lambda a: proxy_cmd.deploy(a, "tb-web", a.roles[0].proxy, "abc", "web"),
                    lambda v: [f"--path-prefix={v.strip()}"] if v.strip() else []),
    "logged request header": (lambda v: _set(["proxy", "logging"], {"request_headers": [v]}),
                              lambda a: proxy_cmd.deploy(a, "tb-web", a.roles[0].proxy, "x", "web"),
                              lambda v: [f"--log-request-header={v}"] if v else []),
    "registry username": (lambda v: _set(["registry", "username"], v),
                          lambda a: host_cmd.login(a.registry), lambda v: ["-u", v]),
}  # fmt: skip


def _accessory_run(app: App) -> Any:
    from backstaff.planner.commands import accessory

    return accessory.run(app, app.accessories[0], "10.254.0.13")


def _contains(argv: list[str], expected: list[str]) -> bool:
    n = len(expected)
    return any(argv[i : i + n] == expected for i in range(len(argv) - n + 1)) if n else True


@pytest.mark.parametrize("name", sorted(POSITIONS))
def test_every_value_position_is_one_exact_argument(
    name: str, bin_dir: Path, tmp_path: Path
) -> None:
    change, build, expected = POSITIONS[name]

    @settings(max_examples=25, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
    @given(value=HOSTILE)
    def check(value: str) -> None:
        app = load(change(value))
        if isinstance(app, ConfigErrors):
            assert all(str(e).split(":")[0] for e in app.errors), app  # a path and a reason
            return
        command = render(build(app))
        for shell in SHELLS:
            (argv,) = argv_in(shell, command, bin_dir, tmp_path)
            assert _contains(argv, expected(value)), (shell, value, command, argv)
        assert not (tmp_path / "p").exists() and not Path("/tmp/p").exists()

    check()


@pytest.mark.parametrize(
    "build",
    [
        lambda v: verbs.proxy_maintenance(_example(), _example().roles[0], v),
        lambda v: verbs.app_logs(_example(), _example().roles[0], 10, v),
        lambda v: verbs.host_shell(v),
    ],
    ids=["maintenance message", "logs grep", "server exec"],
)
@settings(max_examples=30, deadline=None)
@given(value=HOSTILE.filter(lambda v: "\0" not in v))
def test_cli_values_are_one_word(build: Callable[[str], Any], value: str) -> None:
    """Values typed on the command line: the rendered command holds them as single words."""
    command = render(build(value))
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = list(lexer)
    assert any(value in w for w in words) or value == ""


def _example() -> App:
    app = load(lambda d: None)
    assert isinstance(app, App)
    return app


def test_a_nul_is_refused_by_validation_with_its_path() -> None:
    errors = load(_set(["env", "clear", "TB_GREETING"], "a\0b"))
    assert isinstance(errors, ConfigErrors)
    assert str(errors.errors[0]).startswith("env/clear/TB_GREETING: cannot hold a NUL byte")
    errors = load(_set(["labels", "note"], "two\nlines"))
    assert isinstance(errors, ConfigErrors)
    assert str(errors.errors[0]) == "labels/note: a label value cannot hold a line break"
    errors = load(_set(["servers", "workers", "cmd"], "echo 'open"))
    assert isinstance(errors, ConfigErrors)
    assert str(errors.errors[0]).startswith("servers/workers/cmd: cannot be split into words")


def test_a_literal_with_shell_meaning_is_never_rendered() -> None:
    for literal in ("$HOME", "a b", "x;y", "`id`", "'q'", "*", "~"):
        with pytest.raises(UnsafeWord):
            render(("echo", literal))
    assert render(("echo", Val("$HOME"), Cat((Raw('"$PWD"'), Val("/a b"))))) == (
        "echo '$HOME' \"$PWD\"'/a b'"
    )
    with pytest.raises(UnsafeWord):
        render(("echo", Val("a\0b")))

    with pytest.raises(UnsafeWord, match="^a NUL byte cannot be passed in a command$"):
        quote("\0")
    with pytest.raises(UnsafeWord, match="'a b' has shell meaning: it must be a Val or a Raw"):
        render(("a b",))


# Unbalanced or half-written shell syntax too: the shell must parse the word and give it back.
HARD = ["${HOME", "$(", "$(id", "`", "`id", "$((1+1))", "${x:=$(id)}", "'", "''", "a'b'c",
        "\\", "\\'", "\n", "a\nb", "\t", "!x", "-n", "", " ", "a b", "é😀", "$", "\"\"", "*"]  # fmt: skip


@pytest.mark.parametrize("shell", SHELLS)
def test_quote_gives_every_shell_the_text_back(shell: str, tmp_path: Path) -> None:
    command = "printf '%s\\0' " + " ".join(quote(text) for text in HARD)
    done = subprocess.run([shell, "-c", command], capture_output=True, cwd=tmp_path,
                          timeout=20, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().split("\0")[:-1] == HARD


def test_plain_text_stays_unquoted_and_anything_else_is_one_quoted_word() -> None:
    assert quote("registry.example.com/app:v1.2_3@x%y+z=w,k-") == (
        "registry.example.com/app:v1.2_3@x%y+z=w,k-"
    )
    assert quote("a b") == "'a b'"
    assert quote("") == "''"
    assert quote("it's") == "'it'\\''s'"


def test_runtime_values_are_filled_in_joined_and_substituted_words() -> None:
    command = ("echo", Runtime("lock"), Cat((Raw('"$PWD"'), Runtime("lock"))),
               Sub(("echo", Runtime("lock"))))  # fmt: skip
    assert render(command, lambda name: f"{name} at 12:00") == (
        "echo 'lock at 12:00' \"$PWD\"'lock at 12:00' \"$(echo 'lock at 12:00')\""
    )
    assert render(command) == 'echo <lock> "$PWD"<lock> "$(echo <lock>)"'
    assert display(command) == render(command)  # what plans show


def test_words_round_trip_through_a_plan_file_and_nothing_else_is_a_word() -> None:
    command = ("docker", Val("a b"), Raw("&&"), Sub(("id", Val("-u"))),
               Cat((Raw('"$PWD"'), Val("/x"))), Runtime("lock"))  # fmt: skip
    assert to_json(command) == [
        "docker", {"value": "a b"}, {"shell": "&&"}, {"output_of": ["id", {"value": "-u"}]},
        {"joined": [{"shell": '"$PWD"'}, {"value": "/x"}]}, {"runtime": "lock"},
    ]  # fmt: skip
    assert from_json(to_json(command)) == command
    assert values(command) == ["a b", "-u", "/x"]
    for item in (3, None, {}, {"value": 1}, {"shell": ["&&"]}, {"output_of": "id"},
                 {"joined": "x"}, {"runtime": 2}, {"value": "a", "shell": "b"}, {"other": "x"}):  # fmt: skip
        with pytest.raises(ValueError, match="not a command word"):
            from_json([item])
    with pytest.raises(TypeError, match="not a command word"):
        render((3,))  # type: ignore[arg-type]


SOURCES = [
    p for d in ("backstaff", "planner", "executors", "schemas") for p in (ROOT / d).rglob("*.py")
]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_syntax_comes_only_from_constants(path: Path) -> None:
    """``Raw(...)`` is called with a string literal, never with a value. The one exception
    reads a saved plan back (words.py ``from_json``): such a plan is only compared with the
    plan made now and never run (tests/backstaff/test_saved_plan.py)."""
    if path.relative_to(ROOT).as_posix() == "planner/commands/words.py":
        return
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Raw":
            (argument,) = node.args
            assert isinstance(argument, ast.Constant) and isinstance(argument.value, str), (
                f"{path.name}:{node.lineno}: Raw() of a non-constant"
            )


def test_shells_are_installed() -> None:
    for shell in SHELLS:
        assert any(Path(d, shell).exists() for d in os.environ["PATH"].split(os.pathsep)), shell


def test_bind_ips_are_addresses_and_ipv6_is_bracketed() -> None:
    errors = load(_set(["proxy", "run"], {"bind_ips": ["127.0.0.1", "$(id)"]}))
    assert isinstance(errors, ConfigErrors)
    assert [str(e) for e in errors.errors] == [
        "proxy/run/bind_ips/1: Invalid publish IP address: $(id)"
    ]
    app = load(_set(["proxy", "run"], {"bind_ips": ["127.0.0.1", "::1"]}))
    assert isinstance(app, App)
    command = render(proxy_cmd.run_args(app))
    assert "--publish 127.0.0.1:80:80" in command and "--publish '[::1]:80:80'" in command
