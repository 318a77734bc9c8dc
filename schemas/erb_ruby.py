"""The Ruby that deploy.yml ERB tags really use, evaluated with Ruby's semantics (pure).

Kamal compiles deploy.yml with ``ERB.new(text, trim_mode: "-")`` into one Ruby program: text
becomes ``print``, ``<%= x %>`` becomes ``print((x).to_s)`` and ``<% code %>`` is spliced in,
so an ``if`` may open in one tag and end in another. This module lexes and parses that program
(for the subset below) and evaluates it. It never guesses: a construct outside the subset
raises ``Unsupported`` (the caller then renders the file with the real Ruby, or says it
cannot), and a Ruby exception the subset models exactly (``KeyError`` from ``ENV.fetch``,
``NoMethodError`` on nil, ``Errno::ENOENT``) raises ``RubyError`` with Ruby's message.

The subset: literals (``nil``, ``true``, ``false``, integers, ``"..."`` with escapes and
``#{}``, ``'...'``, ``%q``/``%Q``/``%()``, ``[...]``), backticks and ``%x`` (run through the
host), local variables, ``ENV[...]``/``ENV[...] = v``/``ENV.fetch``/``ENV.key?``,
``File.read``/``File.exist?``, ``require "dotenv"``/``"dotenv/load"``, ``Dotenv.load``,
``RUBY_ENGINE``/``RUBY_ENGINE_VERSION``/``RUBY_VERSION``, ``Kamal::Utils.docker_arch``, ``!``, ``&&``, ``||``, ``==``,
``!=``, ``+``, ``a ? b : c``, ``x if c``/``x unless c``/``x rescue y`` modifiers,
``if/elsif/else/end`` and ``unless`` (also across tags), ``&.`` and the common String, Array
and nil methods (with ActiveSupport's ``presence``/``present?``/``blank?``, which Kamal loads).

All I/O goes through an ``ErbHost`` (run a command, read a file, render with Ruby).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from backstaff.schemas import dotenv, ruby_text
from backstaff.schemas.errors import ConfigErrors
from backstaff.schemas.ruby_text import strip as ruby_strip

# Kamal 2.11 ships Ruby 3.3.7: what RUBY_ENGINE_VERSION says when no ``ruby`` is installed.
KAMAL_RUBY = ("ruby", "3.3.7")


class RubyError(Exception):
    """A Ruby exception raised while rendering, as Kamal would raise it (``KeyError``...)."""

    def __init__(self, kind: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line


class Unsupported(Exception):
    """A construct outside the built-in subset (the real Ruby can still render it)."""

    def __init__(self, what: str, line: int = 0, tag: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.line = line
        self.tag = tag


class ErbRefused(Exception):
    """The host does no I/O of this kind (the pure default, for tests and planning)."""

    line: int = 0


@dataclass(frozen=True)
class RubyRendered:
    """What Ruby's own ERB rendered, and ENV afterwards (Dotenv.load may have changed it)."""

    text: str
    env: dict[str, str]


class ErbHost(Protocol):
    """Everything ERB rendering needs from the world, relative to the project directory."""

    def run(self, command: str, env: Mapping[str, str]) -> str:
        """A backtick: stdout whatever the exit status; RubyError when it cannot start."""
        ...

    def read_file(self, path: str) -> str:
        """``File.read``; RubyError (``Errno::ENOENT``...) as Ruby raises it."""
        ...

    def file_exists(self, path: str) -> bool: ...

    def ruby_engine(self) -> tuple[str, str]:
        """``RUBY_ENGINE`` and ``RUBY_ENGINE_VERSION`` of the Ruby that would render."""
        ...

    def render_with_ruby(
        self, text: str, source: str, env: Mapping[str, str]
    ) -> RubyRendered | None:
        """Render with Ruby's ERB as Kamal does; None when no ``ruby`` is installed."""
        ...


class RefusingHost:
    """The pure default: no commands, no files, no Ruby."""

    def run(self, command: str, env: Mapping[str, str]) -> str:
        raise ErbRefused(f"cannot run `{command}` here (no I/O when loading from text)")

    def read_file(self, path: str) -> str:
        raise ErbRefused(f"cannot read {path} here (no I/O when loading from text)")

    def file_exists(self, path: str) -> bool:
        raise ErbRefused(f"cannot look for {path} here (no I/O when loading from text)")

    def ruby_engine(self) -> tuple[str, str]:
        return KAMAL_RUBY

    def render_with_ruby(
        self, text: str, source: str, env: Mapping[str, str]
    ) -> RubyRendered | None:
        return None


NO_IO: ErbHost = RefusingHost()


@dataclass
class RubyState:
    """What survives from one rendered file to the next in Kamal's process: ENV, requires."""

    env: dict[str, str]
    required: set[str] = field(default_factory=set)


# ---------------------------------------------------------------------------------- lexing


@dataclass
class Tok:
    """A token of the Ruby inside an ERB tag."""

    kind: str  # int str xstr ident const kw op nl text expr eof
    value: Any
    line: int
    tag: str
    spaced: bool = False  # whitespace right before it


KEYWORDS = {
    "if", "elsif", "else", "end", "unless", "then", "nil", "true", "false", "and", "or",
    "not", "do", "begin", "rescue", "ensure", "while", "until", "for", "in", "case", "when",
    "def", "class", "module", "return", "yield", "self", "super", "defined?", "break", "next",
    "redo", "retry", "alias", "undef", "loop", "__FILE__", "__LINE__", "__dir__", "BEGIN",
    "END", "lambda", "proc",
}  # fmt: skip
_OPS = ["&&=", "||=", "**", "==", "!=", "&&", "||", "&.", "::", "=~", "!~", "<=", ">=", "<<",
        ">>", "=>", "->", "..", "+=", "-=", "*=", "/=", "|", "&", "!", "?", ":", "+", "-", "*",
        "/", "%", "(", ")", "[", "]", "{", "}", ".", ",", "=", "<", ">", "^", "~", ";", "@",
        "$"]  # fmt: skip
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BLOCK_PASS = re.compile(r"&:([A-Za-z_][A-Za-z0-9_]*[?!]?)")
_INT = re.compile(r"[0-9]+(?:_[0-9]+)*")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "s": " ", "e": "\x1b",
                   "a": "\x07", "b": "\x08", "f": "\x0c", "v": "\x0b"}  # fmt: skip
_PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}


class Lexer:
    def __init__(self, src: str, line: int, tag: str) -> None:
        self.src, self.pos, self.line, self.tag = src, 0, line, tag

    def fail(self, what: str) -> Unsupported:
        return Unsupported(what, self.line, self.tag)

    def tokens(self, until_brace: bool = False) -> list[Tok]:
        """Tokens to the end (or to the ``}`` closing an interpolation)."""
        out: list[Tok] = []
        depth = 0
        src = self.src
        while True:
            spaced = False
            while self.pos < len(src) and src[self.pos] in " \t\r\\":
                if src[self.pos] == "\\":
                    if src.startswith("\\\n", self.pos):  # line continuation
                        self.pos += 2
                        self.line += 1
                        spaced = True
                        continue
                    raise self.fail("a backslash")
                self.pos += 1
                spaced = True
            if self.pos >= len(src):
                if until_brace:
                    raise self.fail("an unterminated #{")
                return out
            c = src[self.pos]
            start_line = self.line

            def tok(kind: str, value: Any) -> None:
                out.append(Tok(kind, value, start_line, self.tag, spaced))  # noqa: B023

            if c == "\n":
                self.pos += 1
                self.line += 1
                tok("nl", "\n")
            elif c == "#":
                end = src.find("\n", self.pos)
                if end < 0:
                    # In the compiled program the comment would swallow what follows the tag.
                    raise self.fail("a Ruby comment that runs to the end of the tag")
                self.pos = end
            elif c == ";":
                self.pos += 1
                tok("nl", ";")
            elif c.isdigit():
                m = _INT.match(src, self.pos)
                assert m
                self.pos = m.end()
                if self.pos < len(src) and (src[self.pos].isalnum() or src[self.pos] == "_"):
                    raise self.fail("a number literal")
                if src.startswith(".", self.pos) and src[self.pos + 1 : self.pos + 2].isdigit():
                    raise self.fail("a float literal")
                digits = m.group().replace("_", "")
                if len(digits) > 1000:
                    raise self.fail("a huge number")
                tok("int", int(digits))
            elif c == '"':
                self.pos += 1
                tok("str", self.quoted('"', None, interpolate=True))
            elif c == "'":
                self.pos += 1
                tok("str", [self.single("'", None)])
            elif c == "`":
                self.pos += 1
                tok("xstr", self.quoted("`", None, interpolate=True))
            elif (m := _BLOCK_PASS.match(src, self.pos)) is not None:
                self.pos = m.end()  # ``&:strip``: a method name passed as the block
                tok("blockpass", m[1])
            elif c == "%" and self.percent_literal_ahead(out, spaced):
                kind, parts = self.percent_literal()
                tok(kind, parts)
            elif c.isalpha() or c == "_" or ord(c) > 127:
                m = _IDENT.match(src, self.pos)
                if not m or ord(c) > 127:
                    raise self.fail("a non-ASCII name")
                word = m.group()
                self.pos = m.end()
                nxt = src[self.pos : self.pos + 1]
                after = src[self.pos + 1 : self.pos + 3]
                if nxt in ("?", "!") and (after[:1] != "=" or after == "=="):
                    word += nxt
                    self.pos += 1
                if (
                    self.pos < len(src)
                    and src[self.pos] == ":"
                    and src[self.pos + 1 : self.pos + 2] != ":"
                ):
                    raise self.fail("a hash label")
                after_dot = bool(out) and out[-1].kind == "op" and out[-1].value in (".", "&.")
                if after_dot:
                    tok("ident", word)
                elif word in KEYWORDS:
                    tok("kw", word)
                elif word[0].isupper():
                    tok("const", word)
                else:
                    tok("ident", word)
            else:
                for op in _OPS:
                    if src.startswith(op, self.pos):
                        break
                else:
                    raise self.fail(f"the character {c!r}")
                if (
                    op in ("?", ":")
                    and self.pos + 1 < len(src)
                    and src[self.pos + 1] not in " \t\n"
                ):
                    raise self.fail(f"`{op}` not followed by a space")
                self.pos += len(op)
                if until_brace and op == "{":
                    depth += 1
                if until_brace and op == "}":
                    if depth == 0:
                        return out
                    depth -= 1
                tok("op", op)

    def percent_literal_ahead(self, out: list[Tok], spaced: bool) -> bool:
        """``%x(`` etc. where an operand may start (else it is the modulo operator)."""
        nxt = self.src[self.pos + 1 : self.pos + 2]
        operand_expected = not out or (
            out[-1].kind in ("op", "nl", "kw") and out[-1].value not in (")", "]", "}")
        )
        if nxt in ("x", "q", "Q", "w", "W", "i", "I", "r", "s"):
            return operand_expected
        return operand_expected and nxt in _PAIRS

    def percent_literal(self) -> tuple[str, list[Any]]:
        self.pos += 1
        kind = "Q"
        if self.src[self.pos].isalpha():
            kind = self.src[self.pos]
            self.pos += 1
        if kind not in ("x", "q", "Q"):
            raise self.fail(f"%{kind} literals")
        opener = self.src[self.pos : self.pos + 1]
        if not opener or opener.isalnum() or opener.isspace():
            raise self.fail("a % literal delimiter")
        self.pos += 1
        closer = _PAIRS.get(opener, opener)
        nest = opener if opener in _PAIRS else None
        if kind == "q":
            return "str", [self.single(closer, nest)]
        return ("xstr" if kind == "x" else "str"), self.quoted(closer, nest, interpolate=True)

    def single(self, closer: str, nest: str | None) -> str:
        text: list[str] = []
        depth = 0
        src = self.src
        while True:
            if self.pos >= len(src):
                raise self.fail("an unterminated string")
            c = src[self.pos]
            if c == "\\" and self.pos + 1 < len(src) and src[self.pos + 1] in ("\\", closer):
                text.append(src[self.pos + 1])
                self.pos += 2
                continue
            if nest and c == nest:
                depth += 1
            elif c == closer:
                if depth == 0:
                    self.pos += 1
                    return "".join(text)
                depth -= 1
            if c == "\n":
                self.line += 1
            text.append(c)
            self.pos += 1

    def quoted(self, closer: str, nest: str | None, *, interpolate: bool) -> list[Any]:
        """Parts of a double-quoted literal: strings and lists of tokens (``#{...}``)."""
        parts: list[Any] = []
        text: list[str] = []
        depth = 0
        src = self.src
        while True:
            if self.pos >= len(src):
                raise self.fail("an unterminated string")
            c = src[self.pos]
            if c == "\\":
                self.pos += 1
                text.append(self.escape(closer, nest))
                continue
            if c == "#" and interpolate and src[self.pos + 1 : self.pos + 2] in ("{", "@", "$"):
                if src[self.pos + 1] != "{":
                    raise self.fail("#@ or #$ interpolation")
                self.pos += 2
                if text:
                    parts.append("".join(text))
                    text = []
                parts.append(self.tokens(until_brace=True))
                continue
            if nest and c == nest:
                depth += 1
            elif c == closer:
                if depth == 0:
                    self.pos += 1
                    if text or not parts:
                        parts.append("".join(text))
                    return parts
                depth -= 1
            if c == "\n":
                self.line += 1
            text.append(c)
            self.pos += 1

    def escape(self, closer: str, nest: str | None) -> str:
        src = self.src
        if self.pos >= len(src):
            raise self.fail("an unterminated string")
        c = src[self.pos]
        self.pos += 1
        if c in _SIMPLE_ESCAPES and not (c == "0" and src[self.pos : self.pos + 1].isdigit()):
            return _SIMPLE_ESCAPES[c]
        if c == "\n":
            self.line += 1
            return ""
        if c in "01234567":
            m = re.compile(r"[0-7]{0,2}").match(src, self.pos)
            assert m
            self.pos = m.end()
            code = int(c + m.group(), 8)
            if code >= 0x80:
                raise self.fail("an octal escape")
            return chr(code)
        if c == "x":
            m = re.compile(r"[0-9A-Fa-f]{1,2}").match(src, self.pos)
            if not m or int(m.group(), 16) >= 0x80:
                raise self.fail("a \\x escape")
            self.pos = m.end()
            return chr(int(m.group(), 16))
        if c == "u":
            if src.startswith("{", self.pos):
                m = re.compile(r"\{([0-9A-Fa-f]{1,6})\}").match(src, self.pos)
            else:
                m = re.compile(r"([0-9A-Fa-f]{4})").match(src, self.pos)
            if not m:
                raise self.fail("a \\u escape")
            self.pos = m.end()
            point = int(m.group(1), 16)
            if 0xD800 <= point <= 0xDFFF or point > 0x10FFFF:
                raise self.fail("a \\u escape")
            return chr(point)
        if c in "cCM":
            raise self.fail(f"a \\{c} escape")
        return c


# --------------------------------------------------------------------------------- parsing


@dataclass
class Node:
    """A node of the parsed Ruby expression tree."""

    kind: str
    line: int
    tag: str
    args: list[Any] = field(default_factory=list)
    name: str = ""


class Parser:
    """Recursive descent over the whole compiled program (text and tags)."""

    def __init__(self, toks: list[Tok], locals_: set[str] | None = None) -> None:
        self.toks = toks
        self.i = 0
        self.locals: set[str] = locals_ if locals_ is not None else set()

    # helpers
    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def peek(self, n: int = 1) -> Tok:
        return self.toks[min(self.i + n, len(self.toks) - 1)]

    def fail(self, what: str | None = None) -> Unsupported:
        t = self.tok
        if what is None:
            what = "the end of the tag" if t.kind == "eof" else f"`{t.value}`"
            what = f"unexpected {what}" if t.kind != "nl" else "an unexpected line break"
        return Unsupported(what, t.line, t.tag)

    def node(self, kind: str, t: Tok, *args: Any, name: str = "") -> Node:
        return Node(kind, t.line, t.tag, list(args), name)

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.value in ops

    def is_kw(self, *kws: str) -> bool:
        return self.tok.kind == "kw" and self.tok.value in kws

    def expect_op(self, op: str) -> None:
        if not self.is_op(op):
            raise self.fail()
        self.i += 1

    def skip_nl(self) -> None:
        while self.tok.kind == "nl":
            self.i += 1

    # grammar
    def program(self) -> list[Node]:
        body = self.stmts()
        if self.tok.kind != "eof":
            raise self.fail()
        return body

    def stmts(self) -> list[Node]:
        body: list[Node] = []
        while True:
            self.skip_nl()
            t = self.tok
            if t.kind == "eof" or self.is_kw("end", "else", "elsif", "rescue", "ensure", "when"):
                return body
            if self.is_op(")", "}"):
                return body
            body.append(self.stmt())
            if self.tok.kind not in ("nl", "eof") and not self.is_kw("end", "else", "elsif"):
                if not self.is_op(")", "}"):
                    raise self.fail()

    def stmt(self) -> Node:
        t = self.tok
        if t.kind == "text":
            self.i += 1
            return self.node("print", t, t.value)
        if t.kind == "expr":
            self.i += 1
            return self.node("output", t, t.value)
        node = self.expr_stmt()
        while self.is_kw("if", "unless", "rescue"):
            mod = self.tok
            self.i += 1
            other = self.expr_stmt()
            if mod.value == "rescue":
                node = self.node("rescue", mod, node, other)
            else:
                node = self.node("if", mod, [(other, [node])], [], name=str(mod.value))
        return node

    def expr_stmt(self) -> Node:
        t = self.tok
        if t.kind == "ident" and self.peek().kind == "op" and self.peek().value in ("=", "||="):
            op = self.peek().value
            self.i += 2
            self.skip_nl()
            self.locals.add(t.value)
            value = self.expr_stmt()
            if self.is_kw("rescue"):  # x = a rescue b is x = (a rescue b)
                mod = self.tok
                self.i += 1
                value = self.node("rescue", mod, value, self.expr_stmt())
            return self.node("assign", t, value, op, name=t.value)
        if self.is_kw("not", "and", "or"):
            raise self.fail(f"`{t.value}`")
        node = self.ternary()
        if self.is_op("="):
            if node.kind == "index" and node.args[0].kind == "const" and node.args[0].name == "ENV":
                self.i += 1
                self.skip_nl()
                return self.node("env_set", t, node.args[1], self.expr_stmt())
            raise self.fail("this assignment")
        if self.is_kw("and", "or") or self.is_op("+=", "-=", "||=", "&&=", "=~", "!~"):
            raise self.fail(f"`{self.tok.value}`")
        return node

    def ternary(self) -> Node:
        cond = self.binary(0)
        if self.is_op("?"):
            t = self.tok
            self.i += 1
            self.skip_nl()
            a = self.ternary()
            self.skip_nl()
            self.expect_op(":")
            self.skip_nl()
            b = self.ternary()
            return self.node("if", t, [(cond, [a])], [b], name="if")
        return cond

    _LEVELS: list[tuple[str, ...]] = [("||",), ("&&",), ("==", "!="), ("+",)]
    _REFUSED_BINARY = {"-", "*", "/", "%", "**", "<", ">", "<=", ">=", "<<", ">>", "|", "&",
                       "^", "..", "=>"}  # fmt: skip

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        ops = self._LEVELS[level]
        while self.is_op(*ops):
            t = self.tok
            self.i += 1
            self.skip_nl()
            right = self.binary(level + 1)
            if t.value in ("||", "&&"):
                left = self.node("or" if t.value == "||" else "and", t, left, right)
            else:
                left = self.node("binop", t, left, right, name=t.value)
            if t.value in ("==", "!=") and self.is_op("==", "!="):
                raise self.fail("a chained comparison")
        if self.is_op(*self._REFUSED_BINARY):
            raise self.fail(f"the operator `{self.tok.value}`")
        return left

    def unary(self) -> Node:
        t = self.tok
        if self.is_op("!"):
            self.i += 1
            return self.node("not", t, self.unary())
        if self.is_op("-") and self.peek().kind == "int" and not self.peek().spaced:
            self.i += 1
            number = self.tok
            self.i += 1
            return self.postfix(self.node("lit", number, -number.value))
        return self.postfix(self.primary())

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "int":
            self.i += 1
            return self.node("lit", t, t.value)
        if t.kind in ("str", "xstr"):
            self.i += 1
            parts = [p if isinstance(p, str) else self.sub_program(p, t) for p in t.value]
            node = self.node(t.kind, t, *parts)
            if t.kind == "str":
                while self.tok.kind == "str" and self.tok.spaced:  # "a" "b" juxtaposition
                    raise self.fail("adjacent string literals")
            return node
        if t.kind == "kw":
            if t.value in ("nil", "true", "false"):
                self.i += 1
                return self.node("lit", t, {"nil": None, "true": True, "false": False}[t.value])
            if t.value in ("if", "unless"):
                return self.if_expr()
            if t.value == "begin":
                return self.begin_expr()
            raise self.fail(f"`{t.value}`")
        if self.is_op("("):
            self.i += 1
            body = self.stmts()
            self.skip_nl()
            self.expect_op(")")
            return self.node("seq", t, body)
        if self.is_op("["):
            self.i += 1
            items = self.args("]")
            return self.node("array", t, items)
        if t.kind == "const":
            self.i += 1
            if t.value == "Kamal" and self.is_op("::") and self.peek().value == "Utils":
                self.i += 2  # Kamal's own helpers, loaded in Kamal's process
                return self.node("const", t, name="Kamal::Utils")
            if self.is_op("::"):
                raise self.fail("`::`")
            if t.value in ("ENV", "File", "Dotenv", "RUBY_ENGINE", "RUBY_ENGINE_VERSION",
                           "RUBY_VERSION"):  # fmt: skip
                return self.node("const", t, name=t.value)
            raise self.fail(f"the constant {t.value}")
        if t.kind == "ident":
            self.i += 1
            if t.value in self.locals and not self.is_op("("):
                return self.node("local", t, name=t.value)
            if t.value in ("require", "raise"):  # each with one string: require "dotenv"
                if self.is_op("(") and not self.tok.spaced:
                    self.i += 1
                    args = self.args(")")
                elif self.tok.kind == "str" and self.tok.spaced:
                    args = [self.primary()]
                else:
                    raise self.fail(f"this use of {t.value}")
                return self.node(str(t.value), t, args)
            raise self.fail(f"`{t.value}`")
        raise self.fail()

    def sub_program(self, toks: list[Tok], at: Tok) -> Node:
        end = Tok("eof", None, toks[-1].line if toks else at.line, at.tag)
        sub = Parser([*toks, end], self.locals)
        return self.node("seq", at, sub.program())

    def if_expr(self) -> Node:
        t = self.tok
        self.i += 1
        branches: list[tuple[Node, list[Node]]] = []
        cond = self.expr_stmt()
        self.then()
        branches.append((cond, self.stmts()))
        otherwise: list[Node] = []
        while True:
            if self.is_kw("elsif") and t.value == "if":
                self.i += 1
                cond = self.expr_stmt()
                self.then()
                branches.append((cond, self.stmts()))
            elif self.is_kw("else"):
                self.i += 1
                otherwise = self.stmts()
                if not self.is_kw("end"):
                    raise self.fail()
            elif self.is_kw("end"):
                self.i += 1
                return self.node("if", t, branches, otherwise, name=str(t.value))
            else:
                raise self.fail()

    def begin_expr(self) -> Node:
        """``begin ... rescue [Class, ...] ... end`` (no ``=> e``, ``else``, ``ensure``)."""
        t = self.tok
        self.i += 1
        body = self.stmts()
        rescues: list[tuple[list[str], list[Node]]] = []
        while self.is_kw("rescue"):
            self.i += 1
            classes: list[str] = []
            while self.tok.kind == "const":
                name = str(self.tok.value)
                self.i += 1
                if self.is_op("::"):
                    raise self.fail("`::`")
                classes.append(name)
                if not self.is_op(","):
                    break
                self.i += 1
            if self.is_op("=>"):
                raise self.fail("rescue => a variable")
            rescues.append((classes, self.stmts()))
        if not rescues or not self.is_kw("end"):
            raise self.fail("this begin")
        self.i += 1
        return self.node("begin", t, body, rescues)

    def then(self) -> None:
        if self.tok.kind == "nl":
            self.skip_nl()
            if self.is_kw("then"):
                self.i += 1
        elif self.is_kw("then"):
            self.i += 1
        else:
            raise self.fail()

    def args(self, closer: str) -> list[Node]:
        items: list[Node] = []
        self.skip_nl()
        while not self.is_op(closer):
            if (
                self.tok.kind == "blockpass"
                and self.peek().kind == "op"
                and self.peek().value == closer
            ):
                items.append(self.node("blockpass", self.tok, name=str(self.tok.value)))
                self.i += 1
                continue
            if self.is_op("*", "&", "**"):
                raise self.fail("a splat or block argument")
            items.append(self.ternary())
            if self.is_op("=>") or self.is_op(":"):
                raise self.fail("a hash argument")
            self.skip_nl()
            if self.is_op(","):
                self.i += 1
                self.skip_nl()
            elif not self.is_op(closer):
                raise self.fail()
        self.i += 1
        return items

    def postfix(self, node: Node) -> Node:
        while True:
            if self.tok.kind == "nl" and self.tok.value == "\n":
                j = self.i
                while self.toks[j].kind == "nl" and self.toks[j].value == "\n":
                    j += 1
                if self.toks[j].kind == "op" and self.toks[j].value in (".", "&."):
                    self.i = j  # a method chain continued on the next line
                else:
                    return node
            t = self.tok
            if self.is_op(".", "&."):
                self.i += 1
                self.skip_nl()
                name_tok = self.tok
                if name_tok.kind != "ident":
                    raise self.fail()
                self.i += 1
                args: list[Node] = []
                block = None
                if self.is_op("(") and not self.tok.spaced:
                    self.i += 1
                    args = self.args(")")
                    if args and args[-1].kind == "blockpass":
                        block = args.pop()
                if block is None and self.is_op("{"):
                    block = self.block()
                elif self.is_kw("do"):
                    raise self.fail("a do ... end block")
                elif self.tok.kind in ("str", "xstr", "int", "const") or (
                    self.tok.kind == "ident" and self.tok.spaced
                ):
                    raise self.fail("method arguments without parentheses")
                node = self.node(
                    "call", name_tok, node, args, block, t.value == "&.", name=name_tok.value
                )
            elif self.is_op("[") and not t.spaced:
                self.i += 1
                node = self.node("index", t, node, *self.args("]"))
                if len(node.args) != 2 and not (
                    len(node.args) == 3 and node.args[0].kind != "const"
                ):
                    raise self.fail("this index")
            elif self.is_op("::"):
                raise self.fail("`::`")
            else:
                return node

    def block(self) -> Node:
        t = self.tok
        self.i += 1
        params: list[str] = []
        if self.is_op("|"):
            self.i += 1
            while self.tok.kind == "ident":
                params.append(self.tok.value)
                self.i += 1
                if self.is_op(","):
                    self.i += 1
            self.expect_op("|")
        saved = set(self.locals)
        self.locals |= set(params)
        body = self.stmts()
        self.locals = saved | (self.locals - set(params))
        self.skip_nl()
        self.expect_op("}")
        return self.node("block", t, params, body)


def parse_expr(src: str, line: int, tag: str, locals_: set[str]) -> Node:
    """One ``<%= ... %>``: its statements, wrapped like Ruby's ``print((...).to_s)``."""
    toks = Lexer(src, line, tag).tokens()
    end = Tok("eof", None, toks[-1].line if toks else line, tag)
    parser = Parser([*toks, end], locals_)
    body = parser.program()
    return Node("seq", line, tag, [body])


# ------------------------------------------------------------------------------ evaluation


@dataclass
class RHash:
    """A Ruby Hash value (what ``Dotenv.load`` returns); rendering one is left to Ruby."""

    items: dict[str, str]


class _Const:
    def __init__(self, name: str) -> None:
        self.name = name


ENV_OBJ, FILE_OBJ, DOTENV_OBJ = _Const("ENV"), _Const("File"), _Const("Dotenv")
KAMAL_UTILS = _Const("Kamal::Utils")

# Methods nil answers (Object, Kernel, NilClass, ActiveSupport): calling one of the methods
# we implement for strings or arrays on nil is a NoMethodError; anything else is left to Ruby.
_NIL_METHODS = {"to_s", "to_a", "to_i", "to_f", "to_h", "inspect", "nil?", "presence",
                "blank?", "present?", "==", "!=", "!", "freeze", "dup", "frozen?", "to_r",
                "to_c", "rationalize", "&", "|", "^", "=~", "tap", "then", "itself", "class",
                "is_a?", "respond_to?", "send", "public_send", "object_id", "hash", "eql?",
                "equal?", "instance_of?", "kind_of?", "display", "method", "methods",
                "try", "try!", "in?", "presence_in", "as_json", "to_param", "to_query",
                "duplicable?", "deep_dup", "instance_variables", "instance_values",
                "instance_variable_names", "to_json", "html_safe?", "acts_like?", "with",
                "yield_self", "clone", "singleton_class", "extend", "format", "pp"}  # fmt: skip
# ActiveSupport's /\A[[:space:]]*\z/ (Python's \s would also match \x1c-\x1f).
_BLANK = re.compile("[ \t\n\v\f\r\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*")


def ruby_class(value: Any) -> str:
    if value is None:
        return "nil"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, str):
        return "String"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, RHash):
        return "Hash"
    raise Unsupported("this value")


def truthy(value: Any) -> bool:
    return value is not None and value is not False


def to_s(value: Any) -> str:
    if isinstance(value, list):
        return inspect(value)
    return ruby_text.to_s(_plain(value, "rendering"))


def inspect(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(inspect(v) for v in value) + "]"
    return ruby_text.inspect(_plain(value, "inspecting"))


def _plain(value: Any, doing: str) -> Any:
    """A value ``ruby_text`` writes as Ruby does (nil, a string, a boolean, an integer);
    anything else (a Hash, ENV, File) is left to Ruby itself."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    raise Unsupported(f"{doing} a {ruby_class(value)}")


def ruby_eq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(ruby_eq(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is not type(b):
        if isinstance(a, _Const) or isinstance(b, _Const):
            raise Unsupported("comparing ENV, File or Dotenv")
        return False
    if isinstance(a, RHash):
        return a.items == b.items
    if isinstance(a, _Const):
        return a is b
    return bool(a == b)


def blank(value: Any) -> bool:
    if value is None or value is False:
        return True
    if value is True or isinstance(value, int):
        return False
    if isinstance(value, str):
        return _BLANK.fullmatch(value) is not None
    if isinstance(value, list):
        return not value
    if isinstance(value, RHash):
        return not value.items
    raise Unsupported("blank? on this value")


def ruby_to_i(text: str) -> int:
    m = re.match(r"[ \t\n\v\f\r]*([+-]?[0-9]+(?:_[0-9]+)*)", text)
    if not m:
        return 0
    digits = m.group(1).replace("_", "")
    if len(digits) > 1000:
        raise Unsupported("a huge number")
    return int(digits)


def ruby_chomp(text: str, suffix: Any = ...) -> str:
    if suffix is ...:
        return ruby_text.chomp(text)
    if suffix is None:
        return text
    if not isinstance(suffix, str):
        raise RubyError("TypeError", f"no implicit conversion of {ruby_class(suffix)} into String")
    if suffix == "":
        while text.endswith("\n"):
            text = text[:-2] if text.endswith("\r\n") else text[:-1]
        return text
    if suffix == "\n":
        return ruby_chomp(text)
    return text[: -len(suffix)] if text.endswith(suffix) else text


def ruby_split(text: str, sep: Any = None) -> list[str]:
    if sep is None or sep == " ":
        parts = re.split(r"[ \t\n\v\f\r]+", text)
        parts = parts[1:] if parts and parts[0] == "" else parts
    elif isinstance(sep, str):
        parts = list(text) if sep == "" else text.split(sep)
    else:
        raise Unsupported("split with a non-string separator")
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def ruby_lines(text: str) -> list[str]:
    return re.findall(r"[^\n]*\n|[^\n]+", text)


def setenv(env: dict[str, str], key: str, value: str | None) -> None:
    """Ruby's ENV[key] = value (None deletes), with its checks: a name or a value holding NUL,
    or a name empty or holding ``=``, is refused as Ruby refuses it, so the environment never
    holds what no process could be given."""
    if "\0" in key:
        raise RubyError("ArgumentError", "bad environment variable name: contains null byte")
    if value is None:
        env.pop(key, None)
        return
    if "\0" in value:
        raise RubyError("ArgumentError", "bad environment variable value: contains null byte")
    if not key or "=" in key:
        raise RubyError("Errno::EINVAL", f"Invalid argument - setenv({key})")
    env[key] = value


def _str_arg(value: Any) -> str:
    if not isinstance(value, str):
        raise RubyError("TypeError", f"no implicit conversion of {ruby_class(value)} into String")
    return value


def _index(seq: Any, args: list[Any]) -> Any:
    if isinstance(seq, (str, list)):
        if len(args) == 1 and isinstance(args[0], int) and not isinstance(args[0], bool):
            i = args[0]
            return seq[i] if -len(seq) <= i < len(seq) else None
        if len(args) == 1 and isinstance(seq, str) and isinstance(args[0], str):
            return args[0] if args[0] in seq else None
        if len(args) == 2 and all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            start, length = args
            if start < 0:
                start += len(seq)
            if start < 0 or start > len(seq) or length < 0:
                return None
            return seq[start : start + length]
    if isinstance(seq, RHash) and len(args) == 1:
        return seq.items.get(args[0]) if isinstance(args[0], str) else None
    raise Unsupported("this index")


@dataclass
class Evaluator:
    """Runs a template's parsed Ruby, writing what it outputs."""

    host: ErbHost
    state: RubyState
    out: list[str] = field(default_factory=list)
    locals: dict[str, Any] = field(default_factory=dict)

    def run(self, body: list[Node]) -> Any:
        value = None
        for node in body:
            value = self.eval(node)
        return value

    def eval(self, node: Node) -> Any:
        try:
            return getattr(self, "_" + node.kind)(node)
        except RubyError as exc:
            if exc.line is None:
                exc.line = node.line
            raise
        except Unsupported as exc:
            if not exc.line:
                exc.line, exc.tag = node.line, node.tag
            raise
        except ErbRefused as exc:
            if not exc.line:
                exc.line = node.line
            raise

    # statements
    def _print(self, node: Node) -> None:
        self.out.append(node.args[0])

    def _output(self, node: Node) -> None:
        self.out.append(to_s(self.eval(node.args[0])))

    def _seq(self, node: Node) -> Any:
        return self.run(node.args[0])

    def _assign(self, node: Node) -> Any:
        value, op = node.args
        if op == "||=" and truthy(self.locals.get(node.name)):
            return self.locals[node.name]
        result = self.eval(value)
        self.locals[node.name] = result
        return result

    def _env_set(self, node: Node) -> Any:
        """``ENV[name] = value`` (``nil`` deletes)."""
        key, value = self.eval(node.args[0]), self.eval(node.args[1])
        setenv(self.state.env, _str_arg(key), None if value is None else _str_arg(value))
        return value

    def _rescue(self, node: Node) -> Any:
        try:
            return self.eval(node.args[0])
        except RubyError:
            return self.eval(node.args[1])

    def _begin(self, node: Node) -> Any:
        body, rescues = node.args
        try:
            return self.run(body)
        except RubyError as exc:
            for classes, handler in rescues:
                if any(_rescues(name, exc.kind) for name in classes or ["StandardError"]):
                    return self.run(handler)
            raise

    def _if(self, node: Node) -> Any:
        branches, otherwise = node.args
        for cond, body in branches:
            value = truthy(self.eval(cond))
            if value != (node.name == "unless"):
                return self.run(body)
        return self.run(otherwise)

    # expressions
    def _lit(self, node: Node) -> Any:
        return node.args[0]

    def _str(self, node: Node) -> str:
        return "".join(p if isinstance(p, str) else to_s(self.eval(p)) for p in node.args)

    def _xstr(self, node: Node) -> str:
        command = self._str(node)
        return self.host.run(command, dict(self.state.env))

    def _array(self, node: Node) -> list[Any]:
        return [self.eval(n) for n in node.args[0]]

    def _local(self, node: Node) -> Any:
        return self.locals.get(node.name)

    def _const(self, node: Node) -> Any:
        name = node.name
        if name == "ENV":
            return ENV_OBJ
        if name == "File":
            return FILE_OBJ
        if name == "Kamal::Utils":
            return KAMAL_UTILS
        if name == "Dotenv":
            if "dotenv" not in self.state.required:
                raise Unsupported('Dotenv without require "dotenv"')
            return DOTENV_OBJ
        engine, version = self.host.ruby_engine()
        return engine if name == "RUBY_ENGINE" else version

    def _not(self, node: Node) -> bool:
        return not truthy(self.eval(node.args[0]))

    def _and(self, node: Node) -> Any:  # "&&"
        left = self.eval(node.args[0])
        return self.eval(node.args[1]) if truthy(left) else left

    def _or(self, node: Node) -> Any:  # "||"
        left = self.eval(node.args[0])
        return left if truthy(left) else self.eval(node.args[1])

    def _binop(self, node: Node) -> Any:
        left, right = self.eval(node.args[0]), self.eval(node.args[1])
        op = node.name
        if op == "==":
            return ruby_eq(left, right)
        if op == "!=":
            return not ruby_eq(left, right)
        # "+"
        if isinstance(left, str):
            return left + _str_arg(right)
        if isinstance(left, bool) or left is None:
            raise RubyError("NoMethodError", f"undefined method `+' for {ruby_class(left)}")
        if isinstance(left, int):
            if isinstance(right, int) and not isinstance(right, bool):
                return left + right
            if right is None or isinstance(right, bool):
                raise RubyError("TypeError", f"{ruby_class(right)} can't be coerced into Integer")
            raise RubyError("TypeError", f"{ruby_class(right)} can't be coerced into Integer")
        if isinstance(left, list):
            if not isinstance(right, list):
                raise RubyError(
                    "TypeError", f"no implicit conversion of {ruby_class(right)} into Array"
                )
            return left + right
        raise Unsupported("`+` on this value")

    def _index(self, node: Node) -> Any:
        target = self.eval(node.args[0])
        args = [self.eval(a) for a in node.args[1:]]
        if target is ENV_OBJ:
            return self.state.env.get(_str_arg(args[0]))
        if target is None:
            raise RubyError("NoMethodError", "undefined method `[]' for nil")
        return _index(target, args)

    def _raise(self, node: Node) -> None:
        """``raise "message"``: a RuntimeError (``ENV.fetch("X") { raise "X is required" }``)."""
        args = [self.eval(a) for a in node.args[0]]
        if len(args) != 1 or not isinstance(args[0], str):
            raise Unsupported("raise of anything but a message")
        raise RubyError("RuntimeError", args[0])

    def _require(self, node: Node) -> bool:
        args = [self.eval(a) for a in node.args[0]]
        if len(args) != 1 or args[0] not in ("dotenv", "dotenv/load"):
            raise Unsupported("require of anything but dotenv")
        name = args[0]
        if name in self.state.required:
            return False
        self.state.required.add("dotenv")
        self.state.required.add(name)
        if name == "dotenv/load":
            self.dotenv_load([], overwrite=False)
        return True

    def _call(self, node: Node) -> Any:
        receiver_node, arg_nodes, block, safe = node.args
        receiver = self.eval(receiver_node)
        if safe and receiver is None:
            return None
        name = node.name
        if receiver is ENV_OBJ:
            return self.env_method(name, arg_nodes, block)
        args = [self.eval(a) for a in arg_nodes]
        if block is not None and block.kind == "blockpass" and isinstance(receiver, list):
            return self.each_by_method(receiver, name, args, block.name)
        if block is not None:
            raise Unsupported(f"a block given to {name}")
        if receiver is FILE_OBJ:
            return self.file_method(name, args)
        if receiver is KAMAL_UTILS:
            if name == "docker_arch" and not args:
                return self.docker_arch()
            raise Unsupported(f"Kamal::Utils.{name}")
        if receiver is DOTENV_OBJ:
            if name in ("load", "overload") and all(isinstance(a, str) for a in args):
                return self.dotenv_load(args, overwrite=name == "overload")
            raise Unsupported(f"Dotenv.{name}")
        return self.value_method(receiver, name, args)

    def each_by_method(self, items: list[Any], name: str, args: list[Any], method: str) -> Any:
        """``list.map(&:strip)``, ``select``/``filter``/``reject(&:empty?)``: the block is the
        method named, called on each item."""
        if args or name not in ("map", "collect", "select", "filter", "reject"):
            raise Unsupported(f"{name}(&:{method})")
        results = [self.value_method(item, method, []) for item in items]
        if name in ("map", "collect"):
            return results
        keep = name != "reject"
        return [item for item, result in zip(items, results, strict=True) if truthy(result) == keep]

    def env_method(self, name: str, arg_nodes: list[Node], block: Node | None) -> Any:
        env = self.state.env
        if name == "fetch" and 1 <= len(arg_nodes) <= 2:
            key = _str_arg(self.eval(arg_nodes[0]))
            default = self.eval(arg_nodes[1]) if len(arg_nodes) == 2 else ...
            if key in env:
                return env[key]
            if block is not None:
                params, body = block.args
                if len(params) > 1:
                    raise Unsupported("a block with several parameters")
                saved = dict(self.locals)
                if params:
                    self.locals[params[0]] = key
                try:
                    return self.run(body)
                finally:
                    for p in params:
                        if p in saved:
                            self.locals[p] = saved[p]
                        else:
                            self.locals.pop(p, None)
            if default is not ...:
                return default
            raise RubyError("KeyError", f"key not found: {ruby_text.inspect_string(key)}")
        if block is not None:
            raise Unsupported(f"a block given to ENV.{name}")
        args = [self.eval(a) for a in arg_nodes]
        if name in ("key?", "has_key?", "include?", "member?") and len(args) == 1:
            return _str_arg(args[0]) in env
        if name == "[]" and len(args) == 1:
            return env.get(_str_arg(args[0]))
        raise Unsupported(f"ENV.{name}")

    def docker_arch(self) -> str:
        """Kamal::Utils.docker_arch, as Kamal 2.11 defines it."""
        arch = ruby_strip(self.host.run("docker info --format '{{.Architecture}}'", self.state.env))
        if "aarch64" in arch:
            return "arm64"
        if "x86_64" in arch:
            return "amd64"
        return arch

    def file_method(self, name: str, args: list[Any]) -> Any:
        if name == "read" and len(args) == 1:
            return self.host.read_file(_str_arg(args[0]))
        if name in ("exist?", "exists?") and len(args) == 1:
            if name == "exists?":
                raise Unsupported("File.exists? (removed in Ruby 3.2)")
            return self.host.file_exists(_str_arg(args[0]))
        raise Unsupported(f"File.{name}")

    def dotenv_load(self, files: list[str], *, overwrite: bool) -> RHash:
        """``Dotenv.load`` (``overload``: ``overwrite``) as dotenv 3.2 does it: each file read
        alone, its ``$NAME``s the names above in it, else ENV; a name ENV has keeps ENV's
        value unless overwriting; ENV updated before the next file (in reverse order when
        overwriting); its commands run as backticks."""
        env = self.state.env
        merged: dict[str, str] = {}
        paths = files or [".env"]
        for path in reversed(paths) if overwrite else paths:
            if not self.host.file_exists(path):
                continue
            text = self.host.read_file(path).removeprefix("\ufeff")
            try:
                entries = dotenv.parse(text, path, env.get("DOTENV_LINEBREAK_MODE") == "legacy")
            except ConfigErrors as exc:
                raise RubyError("Dotenv::FormatError", exc.errors[0].message) from None
            values: dict[str, str] = {}

            def lookup(name: str, values: dict[str, str] = values) -> str:
                return values[name] if name in values else env.get(name, "")

            def run(command: str, written: str, used: list[str]) -> str:
                return ruby_text.chomp(self.host.run(command, env))

            for entry in entries:
                if not overwrite and entry.key != "DOTENV_LINEBREAK_MODE" and entry.key in env:
                    values[entry.key] = env[entry.key]
                elif entry.literal:
                    values[entry.key] = entry.raw
                else:
                    values[entry.key] = dotenv.substitute(entry.raw, lookup, run)
            for key, value in values.items():
                if overwrite or key not in env:
                    setenv(env, key, value)
            merged.update(values)
        return RHash(merged)

    def value_method(self, recv: Any, name: str, args: list[Any]) -> Any:
        handler = _METHODS.get(name)
        if handler is None:
            if recv is None and name not in _NIL_METHODS and name in _KNOWN_ELSEWHERE:
                raise RubyError("NoMethodError", f"undefined method `{name}' for nil")
            raise Unsupported(f"the method {name}")
        result = handler(recv, args)
        if result is _NO_METHOD:
            if recv is None and name not in _NIL_METHODS:
                raise RubyError("NoMethodError", f"undefined method `{name}' for nil")
            raise Unsupported(f"{name} on a {ruby_class(recv)} with {len(args)} argument(s)")
        return result


_NO_METHOD = object()


def _m(
    *types: type | None, arity: tuple[int, ...] = (0,)
) -> Callable[[Callable[..., Any]], Callable[[Any, list[Any]], Any]]:
    """A method for receivers of ``types`` (None: nil) taking a number of args in ``arity``."""

    def wrap(fn: Callable[..., Any]) -> Callable[[Any, list[Any]], Any]:
        def call(recv: Any, args: list[Any]) -> Any:
            kind: type | None = None if recv is None else type(recv)
            if kind not in types or len(args) not in arity:
                return _NO_METHOD
            return fn(recv, *args)

        return call

    return wrap


_ANY = (None, str, int, list, bool)


def _to_s(recv: Any) -> str:
    return to_s(recv)


def _to_i(recv: Any) -> int:
    if recv is None:
        return 0
    if isinstance(recv, str):
        return ruby_to_i(recv)
    return int(recv)


def _chomp(recv: str, *args: Any) -> str:
    return ruby_chomp(recv, *args)


def _split(recv: str, *args: Any) -> list[str]:
    return ruby_split(recv, *args)


def _first(recv: list[Any], *args: Any) -> Any:
    if not args:
        return recv[0] if recv else None
    n = args[0]
    if not isinstance(n, int) or isinstance(n, bool):
        raise Unsupported("first with this argument")
    if n < 0:
        raise RubyError("ArgumentError", "negative array size")
    return recv[:n]


def _last(recv: list[Any], *args: Any) -> Any:
    if not args:
        return recv[-1] if recv else None
    n = args[0]
    if not isinstance(n, int) or isinstance(n, bool):
        raise Unsupported("last with this argument")
    if n < 0:
        raise RubyError("ArgumentError", "negative array size")
    return recv[len(recv) - n :] if n else []


def _join(recv: list[Any], *args: Any) -> str:
    sep = args[0] if args else ""
    if sep is None:
        sep = ""
    sep = _str_arg(sep)

    def flat(items: list[Any]) -> list[str]:
        out: list[str] = []
        for item in items:
            out.extend(flat(item) if isinstance(item, list) else [to_s(item)])
        return out

    return sep.join(flat(recv))


def _include(recv: Any, arg: Any) -> bool:
    if isinstance(recv, str):
        return _str_arg(arg) in recv
    return any(ruby_eq(item, arg) for item in recv)


def _affix(check: Callable[[str, str], bool]) -> Callable[..., bool]:
    def call(recv: str, *args: Any) -> bool:
        return any(check(recv, _str_arg(a)) for a in args)

    return call


def _gsub(recv: str, pattern: Any, replacement: Any) -> str:
    if not isinstance(pattern, str) or not isinstance(replacement, str) or "\\" in replacement:
        raise Unsupported("sub/gsub beyond plain strings")
    return recv.replace(pattern, replacement)


def _sub(recv: str, pattern: Any, replacement: Any) -> str:
    if not isinstance(pattern, str) or not isinstance(replacement, str) or "\\" in replacement:
        raise Unsupported("sub/gsub beyond plain strings")
    return recv.replace(pattern, replacement, 1)


def _capitalize(recv: str) -> str:
    if any(ord(c) > 127 for c in recv):
        raise Unsupported("capitalize of non-ASCII text")
    return recv[:1].upper() + recv[1:].lower()


def _ascii_case(fn: Callable[[str], str]) -> Callable[[str], str]:
    def call(recv: str) -> str:
        if any(ord(c) > 127 for c in recv):
            raise Unsupported("changing the case of non-ASCII text")
        return fn(recv)

    return call


def _delete_prefix(recv: str, prefix: Any) -> str:
    prefix = _str_arg(prefix)
    return recv[len(prefix) :] if prefix and recv.startswith(prefix) else recv


def _delete_suffix(recv: str, suffix: Any) -> str:
    suffix = _str_arg(suffix)
    return recv[: -len(suffix)] if suffix and recv.endswith(suffix) else recv


def _compact(recv: list[Any]) -> list[Any]:
    return [x for x in recv if x is not None]


def _uniq(recv: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in recv:
        if not any(ruby_eq(item, seen) and type(item) is type(seen) for seen in out):
            out.append(item)
    return out


def _presence(recv: Any) -> Any:
    return None if blank(recv) else recv


def _to_a(recv: Any) -> list[Any]:
    return [] if recv is None else list(recv)


_METHODS: dict[str, Callable[[Any, list[Any]], Any]] = {
    "to_s": _m(*_ANY)(_to_s),
    "to_str": _m(str)(lambda r: r),
    "to_i": _m(None, str, int)(_to_i),
    "to_a": _m(None, list)(_to_a),
    "inspect": _m(*_ANY)(inspect),
    "nil?": _m(*_ANY)(lambda r: r is None),
    "presence": _m(*_ANY)(_presence),
    "blank?": _m(*_ANY)(blank),
    "present?": _m(*_ANY)(lambda r: not blank(r)),
    "freeze": _m(*_ANY)(lambda r: r),
    "dup": _m(*_ANY)(lambda r: list(r) if isinstance(r, list) else r),
    "strip": _m(str)(ruby_strip),
    "lstrip": _m(str)(lambda r: ruby_strip(r, right=False)),
    "rstrip": _m(str)(lambda r: ruby_strip(r, left=False)),
    "chomp": _m(str, arity=(0, 1))(_chomp),
    "split": _m(str, arity=(0, 1))(_split),
    "lines": _m(str)(ruby_lines),
    "downcase": _m(str)(_ascii_case(str.lower)),
    "upcase": _m(str)(_ascii_case(str.upper)),
    "capitalize": _m(str)(_capitalize),
    "empty?": _m(str, list)(lambda r: len(r) == 0),
    "length": _m(str, list)(len),
    "size": _m(str, list)(len),
    "include?": _m(str, list, arity=(1,))(_include),
    "start_with?": _m(str, arity=(1, 2, 3))(_affix(str.startswith)),
    "end_with?": _m(str, arity=(1, 2, 3))(_affix(str.endswith)),
    "delete_prefix": _m(str, arity=(1,))(_delete_prefix),
    "delete_suffix": _m(str, arity=(1,))(_delete_suffix),
    "sub": _m(str, arity=(2,))(_sub),
    "gsub": _m(str, arity=(2,))(_gsub),
    "first": _m(list, arity=(0, 1))(_first),
    "last": _m(list, arity=(0, 1))(_last),
    "join": _m(list, arity=(0, 1))(_join),
    "compact": _m(list)(_compact),
    "uniq": _m(list)(_uniq),
    "zero?": _m(int)(lambda r: r == 0),
}
# Methods of String/Array nil does not have: on nil they are Ruby's NoMethodError.
_KNOWN_ELSEWHERE = set(_METHODS) | {"chop", "squish", "tr", "reverse", "sort", "map", "each",
                                    "select", "reject", "count", "match?", "scan", "ljust",
                                    "rjust", "center", "chars", "bytes", "encoding"}  # fmt: skip


# Ruby's exception classes an ERB raises here, and the classes above them a rescue names.
_ANCESTORS = {
    "KeyError": {"IndexError", "StandardError", "Exception"},
    "NoMethodError": {"NameError", "StandardError", "Exception"},
    "RuntimeError": {"StandardError", "Exception"},
    "ArgumentError": {"StandardError", "Exception"},
    "TypeError": {"StandardError", "Exception"},
    "Dotenv::FormatError": {"SyntaxError", "ScriptError", "Exception"},
}


def _rescues(name: str, kind: str) -> bool:
    """Whether ``rescue name`` catches a Ruby exception of class ``kind``."""
    if name == kind:
        return True
    if kind.startswith("Errno::"):
        return name in ("SystemCallError", "StandardError", "Exception")
    return name in _ANCESTORS.get(kind, {"StandardError", "Exception"})
