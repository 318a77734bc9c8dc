"""The pull-request rendering: its marker line and GitHub's comment limit, for any fleet."""

from __future__ import annotations

import dataclasses

from backstaff.planner.changes import Action, Attribute, Change, Difference
from backstaff.planner.plan import Plan
from backstaff.planner.render import render
from backstaff.planner.render.markdown import LIMIT, marker, render_markdown
from tests.planner.render.test_snapshots import build

HOSTS = 2_000


def _fleet(hosts: int = HOSTS) -> Plan:
    """A plan over ``hosts`` hosts: on each, the app replaced with three attributes, an
    accessory destroyed, downtime; every fifth host unread."""
    changes, errors = [], []
    for index in range(hosts):
        host = f"host-{index:04d}.fleet.example.internal"
        if index % 5 == 4:
            errors.append((host, "cannot connect on port 22: connection refused"))
            continue
        attributes = (
            Attribute("version", Difference.CHANGED, "v1", "v2", forces_replacement=True),
            Attribute("env.clear.GREETING", Difference.CHANGED, "hello", "hello there"),
            Attribute("env.secret.TOKEN", Difference.CHANGED, sensitive=True),
        )
        changes.append(Change("app", "web", host, Action.REPLACE, ("new version v1 → v2",),
                              downtime=True, attributes=attributes))  # fmt: skip
        changes.append(Change("accessory", "cache", host, Action.DELETE,
                              ("accessory removed from config",)))  # fmt: skip
    return Plan(
        service="fleet",
        destination="production",
        version="v2",
        changes=tuple(changes),
        steps=(),
        depends_on=(),
        live_fingerprint="0" * 64,
        config_digest="config-digest",
        hosts=tuple(f"host-{index:04d}.fleet.example.internal" for index in range(hosts)),
        errors=tuple(errors),
        lock="Locked by: someone at 2026-12-04T01:00:00Z",
        notes=("env files not compared: a note",),
    )


def test_the_first_line_is_the_marker_naming_service_and_destination() -> None:
    plan = build("new-version")
    text = render(plan, "markdown")
    assert text.splitlines()[0] == "<!-- backstaff-plan service=tb destination=default -->"
    staging = dataclasses.replace(plan, destination="staging")
    assert render(staging, "markdown").splitlines()[0] == (
        "<!-- backstaff-plan service=tb destination=staging -->"
    )


def test_a_name_cannot_close_the_marker_comment() -> None:
    plan = dataclasses.replace(build("up-to-date"), service="a-->b", destination="x --!> y\nz")
    line = marker(plan)
    assert line.startswith("<!-- ") and line.endswith(" -->")
    inner = line[len("<!-- ") : -len(" -->")]
    assert "--" not in inner and ">" not in inner and len(inner.split()) == 3
    assert line == "<!-- backstaff-plan service=a-%2D%3Eb destination=x%20-%2D%21%3E%20y%0Az -->"


def test_a_2000_host_plan_stays_within_the_limit_and_keeps_the_full_summary() -> None:
    plan = _fleet()
    text = render(plan, "markdown")
    assert len(text) <= LIMIT
    lines = text.splitlines()
    assert lines[0] == "<!-- backstaff-plan service=fleet destination=production -->"
    # the summary counts every host, shown or not
    assert "**Plan: 0 to add, 0 to change, 1600 to replace, 1600 to destroy.**" in text
    assert "This plan is incomplete: 400 of 2000 host(s) could not be read" in text
    assert "and 380 more); what would change there is unknown." in text
    assert ":warning: **1600 to destroy:** `accessory.cache[host-0000" in text
    assert "and 1580 more" in text and "and 380 more host(s) could not be read" in text
    assert "**Downtime expected:**" in text and "The deploy lock is held" in text
    # host details are cut, and it says how many
    shown = text.count("<details>")
    assert 0 < shown < 1600
    assert f"truncated: {1600 - shown} of 1600 host(s) not shown" in text
    assert text.count("</details>") == shown  # no block is cut in half


def test_the_summary_is_bounded_whatever_the_fleet() -> None:
    """Callouts name at most a few addresses: the head of a 2,000-host plan is as long as
    that of a 100-host one."""
    small, large = render(_fleet(100), "markdown"), render(_fleet(), "markdown")
    head = lambda text: text.split("<details>")[0]  # noqa: E731
    assert abs(len(head(large)) - len(head(small))) < 100


def test_masking_happens_before_the_limit_is_measured() -> None:
    """A one-letter secret masked everywhere grows the text tenfold; it still fits."""
    text = render(_fleet(), "markdown", secrets=["e"])
    assert len(text) <= LIMIT and "[REDACTED]" in text and "not shown" in text
    assert "e" not in text.replace("[REDACTED]", "")
    # masked the same way every time: the first line still finds the earlier comment
    assert text.splitlines()[0] == render(_fleet(10), "markdown", secrets=["e"]).splitlines()[0]


def test_everything_fits_without_a_cut_note() -> None:
    text = render_markdown(_fleet(10))
    assert "truncated" not in text and text.count("<details>") == 8


def test_callouts_too_long_for_the_comment_become_counts() -> None:
    """Huge host names, messages and notes: the callouts shrink to counts, the summary stays."""
    long = "x" * 5_000
    plan = dataclasses.replace(
        _fleet(40),
        errors=tuple((f"{long}-{i}", long) for i in range(40)),
        notes=tuple(long for _ in range(40)),
    )
    text = render_markdown(plan, limit=20_000)
    assert len(text) <= 20_000
    assert "**Plan: 0 to add, 0 to change, 32 to replace, 32 to destroy.**" in text
    assert "This plan is incomplete: 40 host(s) could not be read." in text
    assert ":warning: **32 to destroy.**" in text and "40 note(s)." in text
    assert "too long for a comment" in text and "<details>" in text
    assert len(render_markdown(plan)) <= LIMIT
