"""The plan comment as GitHub shows it: the Markdown rendered by cmarkgfm (GitHub's own
cmark-gfm, with its table, strikethrough, autolink and tagfilter extensions) has the summary,
one collapsible <details> per host with the host in its <summary>, a <table> in each, and the
marker line stays a hidden HTML comment. A 2,000-host plan cut to the limit is still
well-formed: every <details> is closed and the note on what was cut is shown."""

from __future__ import annotations

from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

from backstaff.planner.render import render
from tests.ci.conftest import Project
from tests.planner.render.test_markdown import _fleet

HOSTS = ("10.254.0.11", "10.254.0.12", "10.254.0.13")


def github_html(markdown: str) -> str:
    """As GitHub renders a comment: raw HTML kept (GitHub sanitizes it afterwards; <details>,
    <summary> and comments survive), dangerous tags filtered."""
    return cmarkgfm.markdown_to_html_with_extensions(
        markdown,
        options=Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG,
        extensions=["table", "strikethrough", "autolink", "tagfilter"],
    )


class Outline(HTMLParser):
    """The <details> blocks (their summary text and tables), what comes before the first, the
    comments, and whether every element closed."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[dict[str, object]] = []
        self.before: list[str] = []
        self.comments: list[str] = []
        self.stack: list[str] = []
        self.in_summary = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "details":
            assert "details" not in self.stack, "a <details> inside another"
            self.blocks.append({"summary": "", "tables": 0, "text": ""})
        elif tag == "summary":
            self.in_summary = True
        elif tag == "table" and "details" in self.stack:
            self.blocks[-1]["tables"] = int(self.blocks[-1]["tables"]) + 1  # type: ignore[call-overload]
        if tag not in ("br", "hr", "img", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
        if tag == "summary":
            self.in_summary = False

    def handle_data(self, data: str) -> None:
        if not self.blocks:
            self.before.append(data)
        elif self.in_summary:
            self.blocks[-1]["summary"] = str(self.blocks[-1]["summary"]) + data
        elif "details" in self.stack:
            self.blocks[-1]["text"] = str(self.blocks[-1]["text"]) + data

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def outline(markdown: str) -> Outline:
    parsed = Outline()
    parsed.feed(github_html(markdown))
    parsed.close()
    assert parsed.stack == [], f"left open: {parsed.stack}"
    return parsed


def test_summary_then_one_collapsible_block_and_table_per_host(project: Project) -> None:
    project.edit(lambda d: d["env"]["clear"].update(TB_MODE="changed"))
    code, markdown = project.backstaff("--version", "v2", "plan", "--format", "markdown")
    assert code == 0
    page = outline(markdown)
    head = " ".join(page.before)
    assert "Plan: 0 to add, 0 to change, 3 to replace, 0 to destroy." in head
    assert page.comments == [" backstaff-plan service=tb destination=default "]
    assert "backstaff-plan" not in head  # the marker is not shown
    assert [str(b["summary"]).split(":")[0] for b in page.blocks] == list(HOSTS)
    assert all(b["tables"] == 1 for b in page.blocks)
    assert all("TB_MODE" in str(b["text"]) for b in page.blocks)  # each host's diff


def test_a_plan_cut_to_the_limit_is_still_well_formed() -> None:
    markdown = render(_fleet(), "markdown")
    page = outline(markdown)
    head = " ".join(page.before)
    assert "Plan: 0 to add, 0 to change, 1600 to replace, 1600 to destroy." in head
    assert 0 < len(page.blocks) < 1600
    assert all(b["tables"] == 1 for b in page.blocks)
    assert f"truncated: {1600 - len(page.blocks)} of 1600 host(s) not shown" in github_html(
        markdown
    )
