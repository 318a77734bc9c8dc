"""deploy.yml is ERB: rendered whole (YAML comments included) before YAML, as Kamal does.

Kamal reads each config file and renders it with ``ERB.new(text, trim_mode: "-").result``.
This module scans the template exactly like Ruby's ERB in that trim mode (``<%= %>``,
``<% %>``, ``<%# %>``, ``<%%``, ``%%>``, ``<%-`` eating the indentation before it, ``-%>``
eating the newline after it; an unclosed tag is output as text) and evaluates the program
with the built-in Ruby subset of ``erb_ruby``. A file the subset cannot evaluate is rendered
by the real Ruby's ERB through the host (exactly what Kamal does); with no Ruby installed it
is ONE error naming the file, the line and the construct. Ruby exceptions (``ENV.fetch`` of a
missing key, a command that does not exist, ``File.read`` of a missing file) read like
Kamal's, prefixed with the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from backstaff.schemas.erb_ruby import (
    NO_IO,
    ErbHost,
    ErbRefused,
    Evaluator,
    Lexer,
    Node,
    Parser,
    RefusingHost,
    RubyError,
    RubyRendered,
    RubyState,
    Tok,
    Unsupported,
    parse_expr,
)
from backstaff.schemas.errors import ConfigError, ConfigErrors

__all__ = [
    "NO_IO", "ErbHost", "RefusingHost", "RubyError", "RubyRendered", "RubyState", "render",
    "render_file", "scan",
]  # fmt: skip

_OUTSIDE = re.compile(r"(.*?)(^[ \t]*<%-|<%-|<%%|<%=|<%#|<%|\Z)", re.DOTALL | re.MULTILINE)
_INSIDE = re.compile(r"(.*?)(-%>|%%>|%>|\Z)", re.DOTALL)
_CR = re.compile(r"\r?\n|\Z")


@dataclass(frozen=True)
class Chunk:
    """A piece of the compiled template: ``text``, ``code`` (<% %>), ``expr`` (<%= %>)."""

    kind: str
    body: str
    line: int  # where the tag (or text) starts
    tag: str  # the tag as written, for messages


def scan(text: str) -> list[Chunk]:
    """Ruby's ERB ExplicitScanner + Compiler for ``trim_mode: "-"``, as chunks."""
    chunks: list[Chunk] = []
    content: list[str] = []
    content_start = 0
    stag: str | None = None
    tag_start = 0
    pos = 0

    def line_at(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    def flush_text() -> None:
        if content:
            chunks.append(Chunk("text", "".join(content), line_at(content_start), ""))
        content.clear()

    while pos < len(text):
        if stag is None:
            m = _OUTSIDE.match(text, pos)
            assert m
            if not content:
                content_start = pos
            content.append(m.group(1))
            elem = m.group(2)
            end = m.end()
            if re.fullmatch(r"[ \t]*<%-", elem):
                elem = "<%"
            if elem == "<%%":
                content.append("<%")
            elif elem in ("<%", "<%=", "<%#"):
                flush_text()
                stag = elem
                tag_start = m.end() - len(m.group(2).lstrip(" \t"))
            elif not elem and end == pos:
                break
            pos = end
        else:
            m = _INSIDE.match(text, pos)
            assert m
            content.append(m.group(1))
            elem = m.group(2)
            pos = m.end()
            if elem == "%%>":
                content.append("%>")
            elif elem in ("%>", "-%>"):
                body = "".join(content)
                content.clear()
                raw = text[tag_start:pos]
                kind = {"<%": "code", "<%=": "expr", "<%#": "comment"}[stag]
                chunks.append(Chunk(kind, body, line_at(tag_start), raw))
                stag = None
                if elem == "-%>":
                    cr = _CR.match(text, pos)
                    if cr:
                        pos = cr.end()
            elif not elem:
                break
    if stag is not None:
        # Ruby's ERB outputs the body of an unclosed tag as text.
        content_start = tag_start
    if content and "".join(content):
        chunks.append(Chunk("text", "".join(content), line_at(content_start), ""))
    return chunks


def compile_program(chunks: list[Chunk]) -> list[Node]:
    """Parse the whole compiled program; Unsupported for anything outside the subset."""
    toks: list[Tok] = []
    for chunk in chunks:
        if chunk.kind == "comment":
            continue
        if chunk.kind == "text":
            toks.append(Tok("text", chunk.body, chunk.line, chunk.tag))
        elif chunk.kind == "expr":
            toks.append(Tok("expr", chunk, chunk.line, chunk.tag))  # parsed in order, below
        else:
            toks.extend(Lexer(chunk.body, chunk.line, chunk.tag).tokens())
        toks.append(Tok("nl", "sep", chunk.line, chunk.tag))
    toks.append(Tok("eof", None, chunks[-1].line if chunks else 1, ""))
    # A name is a local variable from its assignment on, in program order: each <%= %> is
    # parsed when the parser reaches it, with the locals assigned before it.
    parser = _SequentialParser(toks)
    try:
        return parser.program()
    except RecursionError:
        raise Unsupported("nesting this deep", parser.tok.line, parser.tok.tag) from None


class _SequentialParser(Parser):
    def stmt(self) -> Node:
        t = self.tok
        if t.kind == "expr" and isinstance(t.value, Chunk):
            chunk = t.value
            t.value = parse_expr(chunk.body, chunk.line, chunk.tag, self.locals)
        return super().stmt()


def render(text: str, env: Mapping[str, str], source: str, host: ErbHost = NO_IO) -> str:
    """``text`` rendered as Kamal renders it; ``source`` names the file in errors."""
    return render_file(text, source, RubyState(dict(env)), host)


def render_file(text: str, source: str, state: RubyState, host: ErbHost = NO_IO) -> str:
    """Render one file; ``state`` (ENV, requires) carries on to the next file, as in Kamal."""
    if "<%" not in text:
        return text
    chunks = scan(text)
    try:
        program = compile_program(chunks)
        evaluator = Evaluator(host, RubyState(dict(state.env), set(state.required)))
        evaluator.run(program)
    except Unsupported as exc:
        return _render_with_ruby(text, source, state, host, exc)
    except RubyError as exc:
        raise _ruby_error(source, exc) from None
    except ErbRefused as exc:
        raise ConfigErrors.one(f"line {_line(exc)}: {exc}", source) from None
    except RecursionError:
        raise ConfigErrors.one("ERB nested too deeply", source) from None
    state.env.clear()
    state.env.update(evaluator.state.env)
    state.required |= evaluator.state.required
    return "".join(evaluator.out)


def _line(exc: Exception) -> int:
    return getattr(exc, "line", 0) or 0


def _render_with_ruby(
    text: str, source: str, state: RubyState, host: ErbHost, why: Unsupported
) -> str:
    try:
        rendered = host.render_with_ruby(text, source, dict(state.env))
    except RubyError as exc:
        raise _ruby_error(source, exc) from None
    if rendered is None:
        tag = why.tag or "<% ... %>"
        if len(tag) > 80:
            tag = tag[:77] + "..."
        raise ConfigErrors(
            [
                ConfigError(
                    source,
                    f"line {why.line}: cannot evaluate ERB `{tag}` without Ruby ({why.what}; "
                    "install ruby and backstaff renders it with Ruby's ERB, as Kamal does)",
                )
            ]
        )
    state.env.clear()
    state.env.update(rendered.env)
    return rendered.text


def _ruby_error(source: str, exc: RubyError) -> ConfigErrors:
    where = f"line {exc.line}: " if exc.line else ""
    message = " ".join(exc.message.split()) or exc.kind
    return ConfigErrors.one(f"{where}{message}", source)
