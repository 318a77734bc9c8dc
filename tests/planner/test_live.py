"""Parsing the gather script's output: real captures, and odd output that must not crash."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backstaff.planner.facts import CONTENT, MARKER
from backstaff.planner.live import (
    UNREADABLE_LOCK,
    LiveHost,
    LiveLock,
    LiveState,
    parse_host,
    parse_lock,
    parse_routes,
    split_sections,
    without_own_lock,
)
from tests.planner.gather_output import (
    LOCK_HOST,
    kamal_details,
    kamal_lock_file,
    recorded_sections,
    script_output,
)
from tests.planner.scenarios import live


def test_deployed_host() -> None:
    h1 = live("deployed-v1").host("10.254.0.11")
    assert h1.error is None and h1.docker_version == "20.10.24+dfsg1"
    assert "kamal" in h1.networks and h1.registry_login is True
    web = h1.container("tb-web-v1")
    assert web is not None and web.running and web.image == "10.254.0.2:5000/tb/app:v1"
    assert dict(web.labels) == {"destination": "", "role": "web", "service": "tb"}
    assert h1.routes and h1.routes[0].service == "tb-web"
    assert h1.routes[0].target == f"{web.short_id}:80" and h1.routes[0].hosts == ()
    assert h1.envfile_digest(".kamal/apps/tb/env/roles/web.env")
    assert h1.lock is None and h1.lock_known


def test_env_values_are_digests_never_values() -> None:
    web = live("deployed-v1").host("10.254.0.11").container("tb-web-v1")
    assert web is not None
    env = dict(web.env)
    assert "SECRET_TOKEN" in env and env["SECRET_TOKEN"] != "s3cr3t-token-123"
    assert "s3cr3t" not in repr(live("deployed-v1"))


def test_fresh_host() -> None:
    h2 = live("fresh").host("10.254.0.12")
    assert h2.docker_version and h2.containers == () and h2.routes is None
    assert h2.registry_login is False and "kamal" not in h2.networks


def test_lock_held() -> None:
    lock = live("lock-held").host("10.254.0.11").lock
    assert lock is not None and "Investigating an outage" in lock.details
    assert lock.holder.endswith("at 2026-11-22T21:08:59Z")
    assert live("lock-held").host("10.254.0.12").lock_known is False


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage\n",
        "@@backstaff@@ docker\n20.10\n",
        "@@backstaff@@ containers\n{not json\n@@backstaff@@ end\n",
    ],
)
def test_odd_output_never_raises(text: str) -> None:
    host = parse_host("h", text)
    assert host.host == "h"


def test_cut_short_answer_is_an_error() -> None:
    assert parse_host("h", "@@backstaff@@ docker\n20.10\n").error is not None


def test_docker_missing() -> None:
    host = parse_host("h", "@@backstaff@@ docker\n!missing\n@@backstaff@@ end\n")
    assert host.error is None and host.docker_version is None


def test_routes_table_with_ansi_and_unknown_output() -> None:
    table = "\x1b[3;94mService\x1b[0m  \x1b[3;94mHost\x1b[0m  Path  Target  State  TLS  \nshop-web  a.com,b.com  /api  abc:3000  stopped  yes  \n"
    (route,) = parse_routes(table) or ()
    assert route.hosts == ("a.com", "b.com") and route.paths == ("/api",) and route.tls
    assert route.state == "stopped"
    assert parse_routes("!not-running") is None
    assert parse_routes("Error: something") is None


def test_fingerprint_changes_with_state() -> None:
    assert live("deployed-v1").fingerprint() == live("deployed-v1").fingerprint()
    assert live("deployed-v1").fingerprint() != live("proxy-missing").fingerprint()


# Values are data (issue #12): nothing a host prints can forge the script's section markers.

HOSTILE_LINES = [
    f"{MARKER} containers",
    f"{MARKER} end",
    f"{MARKER} lock",
    f"{CONTENT}{MARKER} end",
    f"\r{MARKER} end",
    f"\x85{MARKER} end",
    f"\u2028{MARKER} end",
    "@@m0d3lt0k3n@@end",
    " @@m0d3lt0k3n@@ end",
    "@@t0ken@@ end",
    "@@@@ end",
    "!none",
    "!unreadable",
    "[]",
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE_LINES), st.text(max_size=40)), max_size=8
).map("\n".join)


def _state(host: LiveHost) -> tuple[object, ...]:
    """Everything but the lock."""
    return (host.error, host.docker_version, host.networks, host.containers, host.images,
            host.image_env, host.routes, host.registry_login, host.envfiles, host.lock_known)  # fmt: skip


def _with_lock_file(content: str) -> str:
    sections = recorded_sections()
    sections["lock"] = "!held\n" + content
    return script_output(sections)


def test_recorded_output_round_trips_through_the_model() -> None:
    assert parse_host("h", script_output(recorded_sections())) == parse_host(
        "h", LOCK_HOST.read_text()
    )


@settings(max_examples=300)
@given(message=st.one_of(hostile_text, st.text()))
def test_any_lock_message_leaves_the_state_intact(message: str) -> None:
    baseline = parse_host("h", LOCK_HOST.read_text())
    details = kamal_details(message)
    host = parse_host("h", _with_lock_file(kamal_lock_file(details.encode())))
    assert _state(host) == _state(baseline) and len(host.containers) == 2 and host.routes
    assert host.lock is not None and host.lock.details == details
    assert host.lock.holder == "Alice at 2026-11-22T21:08:59Z"


@settings(max_examples=200)
@given(details=st.binary(min_size=1))
def test_any_lock_bytes_decode_or_are_unreadable(details: bytes) -> None:
    """NULs, invalid UTF-8: decoded as UTF-8 with replacement characters, never an error."""
    host = parse_host("h", _with_lock_file(kamal_lock_file(details)))
    assert host.lock is not None and host.lock.details == details.decode("utf-8", "replace")
    assert _state(host) == _state(parse_host("h", LOCK_HOST.read_text()))


@settings(max_examples=300)
@given(content=st.one_of(hostile_text, st.text()))
def test_a_details_file_that_is_not_base64_is_unreadable(content: str) -> None:
    """Written by hand, not by Kamal: the state is intact and the lock still held."""
    host = parse_host("h", _with_lock_file(content))
    assert _state(host) == _state(parse_host("h", LOCK_HOST.read_text()))
    assert host.lock is not None
    stripped = "".join(content.replace("\\n", "").split(None))
    if not set(stripped) <= set(string.ascii_letters + string.digits + "+/="):
        assert host.lock.details == UNREADABLE_LOCK


@settings(max_examples=300)
@given(section=st.sampled_from(sorted(recorded_sections())), text=hostile_text)
def test_any_section_text_leaves_the_other_sections_intact(section: str, text: str) -> None:
    """The framing does not rely on what docker, kamal-proxy or sha256sum print."""
    sections = recorded_sections()
    sections[section] = text
    parsed = split_sections(script_output(sections))
    assert parsed == {**{name: value.strip("\n") for name, value in sections.items()}, "end": ""}


def test_lock_section_states() -> None:
    lock = parse_lock
    assert lock("!none") is None and lock("") is None
    assert lock("!held\n!unreadable") == LiveLock(UNREADABLE_LOCK)
    assert lock("!held\n") == LiveLock("(empty lock details)")
    assert lock("!held\nTG9j\nay==") == LiveLock("Lock")
    assert lock("!held\nTG9j\\nay==\\n") == LiveLock("Lock")  # echo without escapes
    assert lock("something else") == LiveLock(UNREADABLE_LOCK)


@pytest.mark.parametrize("echo", ["bash", "dash"])
def test_the_lock_this_run_took_reads_as_free(echo: str) -> None:
    """Read under this run's own lock, the primary host is as it was read without one; the
    details as ``echo`` wrote them: bash keeps the literal ``\\n``, dash makes line breaks."""
    ours = kamal_details("Automatic deploy lock", "v2")
    stored = "".join(f"{line}\\n" for line in kamal_lock_file(ours.encode()).splitlines())
    written = stored if echo == "bash" else stored.replace("\\n", "\n")
    free = recorded_sections() | {"lock": "!none"}
    state = LiveState((parse_host("h", _with_lock_file(written)), live("deployed-v1").hosts[1]))
    assert state.hosts[0].lock == LiveLock(ours)
    read = without_own_lock(state, stored)
    assert read.hosts == (parse_host("h", script_output(free)), state.hosts[1])
    assert read.fingerprint() == LiveState((parse_host("h", script_output(free)),
                                            state.hosts[1])).fingerprint()  # fmt: skip
    # a lock with other details (another run, a minute later) is someone else's
    other = kamal_lock_file(ours.replace("v2", "v3").encode())
    held = LiveState((parse_host("h", _with_lock_file(other)),))
    assert without_own_lock(held, stored) == held


def _inspect(env: list[str], name: str = "tb-web-v9", labels: dict[str, str] | None = None) -> str:
    import json

    labels = {"service": "tb", "role": "web"} if labels is None else labels
    item = {"Id": "a" * 64, "Name": f"/{name}", "Created": "2026-11-25T18:43:34.46Z",
            "Config": {"Env": env, "Labels": labels}, "State": {}}  # fmt: skip
    return json.dumps([item])


WEB_ENV = ((".kamal/apps/tb/env/roles/web.env", 1795632214, ("SECRET",)),)  # 18:43:34


def test_clear_env_holds_only_values_given_on_the_command_line() -> None:
    """Only with positive evidence that a value is not from an env file: Kamal's own
    variables on the container, its env file read and not newer than the container, and no
    env file on the host naming the variable."""
    from backstaff.planner.live import parse_containers

    state = live("deployed-v1-envkeys")
    web = state.host("10.254.0.11").container("tb-web-v1")
    assert web is not None
    assert dict(web.clear_env) == {
        "KAMAL_CONTAINER_NAME": "tb-web-v1", "KAMAL_VERSION": "v1", "KAMAL_HOST": "10.254.0.11",
        "TB_GREETING": "hello", "TB_MODE": "testbed",
    }  # fmt: skip
    cache = state.host("10.254.0.13").container("tb-cache")
    assert cache is not None
    assert dict(cache.clear_env) == {"KAMAL_HOST": "10.254.0.13", "CACHE_MODE": "lru"}
    assert "s3cr3t" not in repr(state) and "cache-pass" not in repr(state)
    # captured before the env files' names were gathered: nothing is taken for clear
    old = live("deployed-v1").host("10.254.0.11").container("tb-web-v1")
    assert old is not None and old.clear_env == ()

    def clear(env: list[str], envkeys: object = WEB_ENV, **kwargs: object) -> dict[str, str]:
        (container,) = parse_containers(_inspect(env, **kwargs), "10.0.0.1", envkeys)  # type: ignore[arg-type]
        return dict(container.clear_env)

    marked = ["SECRET=x", "KAMAL_CONTAINER_NAME=tb-web-v9", "A=1", "B=2", "B=3"]
    assert clear(marked) == {"KAMAL_CONTAINER_NAME": "tb-web-v9", "A": "1"}
    assert clear(["A=1", "KAMAL_HOST=10.0.0.1"]) == {"A": "1", "KAMAL_HOST": "10.0.0.1"}
    # no marker, or not this container's or host's: nothing
    assert clear(["A=1"]) == {} and clear(["KAMAL_CONTAINER_NAME=other", "A=1"]) == {}
    assert clear(["KAMAL_HOST=10.0.0.9", "A=1"]) == {}
    # env files unknown or unreadable, its own missing, or written after the container
    assert clear(marked, None) == {} and clear(marked, ()) == {}
    assert clear(marked, labels={"service": "tb", "role": "jobs"}) == {}
    newer = ((".kamal/apps/tb/env/roles/web.env", 1795632215, ("SECRET",)),)
    assert clear(marked, newer) == {}
    # another env file on the host naming the variable
    other = WEB_ENV + ((".kamal/apps/tb/env/roles/jobs.env", 1795632299, ("A",)),)
    assert clear(marked, other) == {"KAMAL_CONTAINER_NAME": "tb-web-v9"}
    accessory = ((".kamal/apps/tb/env/accessories/db.env", 1795632214, ("PASSWORD",)),)
    assert clear(["PASSWORD=p", "KAMAL_HOST=10.0.0.1", "USER=u"], accessory,
                 name="tb-db", labels={"service": "tb-db"}) == {"KAMAL_HOST": "10.0.0.1", "USER": "u"}  # fmt: skip


def test_envkeys_section() -> None:
    from backstaff.planner.live import parse_envkeys

    text = "1795632215 .kamal/apps/tb/env/roles/web.env SECRET_TOKEN OTHER\n1 .kamal/x.env "
    assert parse_envkeys(text) == (
        (".kamal/apps/tb/env/roles/web.env", 1795632215, ("OTHER", "SECRET_TOKEN")),
        (".kamal/x.env", 1, ()),
    )
    assert parse_envkeys("!unreadable .kamal/apps/tb/env/roles/web.env") is None
    assert parse_envkeys(" .kamal/x.env A") is None and parse_envkeys("") == ()


def test_options_network_and_logging_as_inspect_shows_them() -> None:
    web = live("deployed-v1").host("10.254.0.11").container("tb-web-v1")
    assert web is not None and web.network == "kamal" and web.log_driver == "json-file"
    assert web.log_options == (("max-size", "10m"),)
    options = dict(web.options)
    assert options["memory"] == "0" and options["cap-add"] == "" and options["init"] == "false"


# Issue #14: the gather asks docker three times; its ONE inspect answer holds every fact.


def test_one_inspect_answer_reads_every_fact() -> None:
    """A real capture of the new script (setup v1 by backstaff on the test bed)."""
    state = live("inspect-deployed-v1")
    h1, h3 = state.host("10.254.0.11"), state.host("10.254.0.13")
    assert h1.error is None and h1.docker_version == "answering" and h1.networks == ("kamal",)
    web, proxy = h1.container("tb-web-v1"), h1.container("kamal-proxy")
    assert web is not None and proxy is not None and web.running
    assert h1.image_id("10.254.0.2:5000/tb/app:latest") == web.image_id
    assert h1.image_id("basecamp/kamal-proxy:v0.9.2") == proxy.image_id
    assert {image for image, _ in h1.image_env} == {web.image_id, proxy.image_id}
    assert dict(web.clear_env)["TB_GREETING"] == "hello" and web.options
    assert h1.routes and h1.routes[0].target == f"{web.short_id}:80"
    assert h1.registry_login is True and h1.envfile_digest(".kamal/apps/tb/env/roles/web.env")
    assert h1.lock_known and h1.lock is None and not h3.lock_known
    cache = h3.container("tb-cache")
    assert cache is not None and cache.mounts and h3.routes is None  # no proxy there
    fresh = live("inspect-fresh").host("10.254.0.12")
    assert fresh.docker_version and fresh.networks == () and fresh.containers == ()
    assert fresh.routes is None and fresh.registry_login is False


def test_inspect_lines_of_any_kind_never_raise() -> None:
    text = '[1]\n{"Id": 3}\nnot json\n{"Id": "x", "State": {}}\n{"Id": "n", "IPAM": {}, "Name": "kamal"}'
    host = parse_host("h", script_output({"docker": "answering", "inspect": text}))
    assert host.containers == () and host.networks == ("kamal",) and host.images == ()
