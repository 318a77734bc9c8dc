"""Masking secret values in any text backstaff prints, whatever escaping it went through.

A rendering escapes what it prints: JSON (``\\"``, ``\\\\``, ``\\n``, ``\\uXXXX`` with or without
``ensure_ascii``), Markdown table cells (``|`` to ``\\|``, line breaks to spaces), shell words
(``'`` to ``'\\''``), ``repr``, HTML entities; tables strip cell edges and print a multi-line
cell line by line. So every such form of every secret is masked, not only the raw value.
All forms go into one regular expression, longest first: at each position the longest
secret matches, the text is scanned once, and a mask never makes a new match. No value is
too short to be masked.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from functools import lru_cache

MASK = "[REDACTED]"


def forms(secret: str) -> frozenset[str]:
    """Every way ``secret`` can appear in backstaff's output."""
    bases = {secret, secret.strip()}
    if len(secret.splitlines()) > 1:  # a table or an indented block prints it line by line
        bases |= {line.strip() for line in secret.splitlines()}
    found: set[str] = set()
    for base in bases - {""}:
        found |= {
            base,
            json.dumps(base)[1:-1],
            json.dumps(base, ensure_ascii=False)[1:-1],
            base.replace("|", "\\|").replace("\n", " "),
            html.escape(base),
            html.escape(base, quote=False),
            repr(base)[1:-1],
            base.replace("'", "'\\''"),
            base.replace("'", "'\"'\"'"),
        }
    return frozenset(found - {""})


@lru_cache(maxsize=128)
def _pattern(secrets: frozenset[str]) -> re.Pattern[str] | None:
    variants = {form for secret in secrets for form in forms(secret)}
    if not variants:
        return None
    ordered = sorted(variants, key=lambda v: (-len(v), v))
    return re.compile("|".join(re.escape(v) for v in ordered))


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every non-empty secret replaced by ``MASK``."""
    pattern = _pattern(frozenset(s for s in secrets if s))
    return text if pattern is None else pattern.sub(MASK, text)
