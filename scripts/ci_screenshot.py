"""Renders a plan comment (``backstaff plan --format markdown``) as GitHub shows it and takes
a screenshot: the Markdown through cmarkgfm (GitHub's cmark-gfm, its table, strikethrough,
autolink and tagfilter extensions), in a page with GitHub-like CSS (comment box, tables,
collapsible blocks, coloured diff lines), shot by headless Chromium (Debian's ``chromium``).

    python3 scripts/ci_screenshot.py PLAN.md docs/ci-comment.png [--open 1] [--height 1400]

``--open N`` unfolds the first N host blocks, as a reviewer clicking them would. Chromium runs
as root here, so without its sandbox, with a new empty profile and no network of its own
(no background requests, updates or sync)."""

from __future__ import annotations

import argparse
import html
import re
import subprocess
import tempfile
from pathlib import Path

import cmarkgfm
from cmarkgfm.cmark import Options

CSS = """
body { margin: 0; padding: 16px; background: #ffffff; color: #1f2328;
  font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, "DejaVu Sans", sans-serif; }
.comment { border: 1px solid #d1d9e0; border-radius: 6px; max-width: 880px; }
.header { background: #f6f8fa; border-bottom: 1px solid #d1d9e0; padding: 8px 16px;
  border-radius: 6px 6px 0 0; color: #59636e; }
.header b { color: #1f2328; }
.bot { border: 1px solid #d1d9e0; border-radius: 2em; padding: 0 7px; font-size: 12px; }
.body { padding: 16px; }
.body > :first-child { margin-top: 0; }
p, blockquote, table, pre, details { margin: 0 0 16px; }
blockquote { margin-left: 0; padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
code { font: 85% ui-monospace, "DejaVu Sans Mono", monospace; background: #eff1f3;
  padding: .2em .4em; border-radius: 6px; }
pre { background: #f6f8fa; padding: 16px; border-radius: 6px; overflow: auto; }
pre code { background: none; padding: 0; font-size: 85%; }
table { border-collapse: collapse; display: block; width: max-content; max-width: 100%; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
th { font-weight: 600; } tr:nth-child(2n) { background: #f6f8fa; }
summary { cursor: pointer; } details > :not(summary) { margin-left: 0; }
details[open] > summary { margin-bottom: 12px; }
.add { color: #116329; background: #dafbe1; display: inline-block; width: 100%; }
.del { color: #82071e; background: #ffebe9; display: inline-block; width: 100%; }
.chg { color: #953800; }
"""


def github_html(markdown: str) -> str:
    """As GitHub renders a comment (raw HTML such as <details> kept, dangerous tags filtered)."""
    return cmarkgfm.markdown_to_html_with_extensions(
        markdown,
        options=Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG,
        extensions=["table", "strikethrough", "autolink", "tagfilter"],
    )


# GitHub shows these shortcodes as emoji (cmark-gfm leaves them as text)
EMOJI = {":floppy_disk:": "\U0001f4be", ":warning:": "\u26a0\ufe0f", ":x:": "\u274c",
         ":lock:": "\U0001f512"}  # fmt: skip


def _colour_diff(body: str) -> str:
    """GitHub colours ```diff blocks: + green, - red (and backstaff's ~ lines, changed)."""

    def lines(match: re.Match[str]) -> str:
        out = []
        for line in match.group(2).split("\n"):
            kind = {"+": "add", "-": "del", "~": "chg"}.get(line[:1])
            out.append(f'<span class="{kind}">{line}</span>' if kind else line)
        return match.group(1) + "\n".join(out) + match.group(3)

    return re.sub(r'(<pre lang="diff"><code>)(.*?)(</code></pre>)', lines, body, flags=re.S)


def page(markdown: str, unfold: int) -> str:
    body = _colour_diff(github_html(markdown))
    for code, emoji in EMOJI.items():
        body = body.replace(code, emoji)
    for _ in range(unfold):
        body = body.replace("<details>", "<details open>", 1)
    head = ('<div class="header"><b>github-actions</b> <span class="bot">bot</span> commented'
            " &middot; edited</div>")  # fmt: skip
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape('plan')}"
            f"</title><style>{CSS}</style></head><body><div class='comment'>{head}"
            f"<div class='body'>{body}</div></div></body></html>")  # fmt: skip


def screenshot(html_file: Path, png: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
             f"--screenshot={png.resolve()}", f"--window-size={width},{height}",
             html_file.resolve().as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("markdown", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--open", type=int, default=1, dest="unfold")
    parser.add_argument("--width", type=int, default=912)
    parser.add_argument("--height", type=int, default=1200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        html_file = Path(tmp) / "comment.html"
        html_file.write_text(page(args.markdown.read_text(), args.unfold))
        screenshot(html_file, args.png, args.width, args.height)
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
