"""What the gather script prints, modelled for pure tests: ``script_output`` frames sections
exactly as ``planner/facts.py``'s script does (``m`` then ``printf '%s\\n' | q``), and
``kamal_lock_file`` is the lock details file as Kamal writes it (Base64, wrapped at 60)."""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Mapping

from backstaff.planner.facts import CONTENT, MARKER
from backstaff.planner.live import split_sections
from tests.conftest import FIXTURES

LOCK_HOST = FIXTURES / "live" / "lock-held" / "10.254.0.11.txt"


def script_output(sections: Mapping[str, str]) -> str:
    """Each section's text as ``$(…)`` captures it (trailing line breaks dropped), framed."""
    out = []
    for name, text in sections.items():
        lines = text.rstrip("\n").split("\n")
        out.append(f"\n{MARKER} {name}\n" + "".join(f"{CONTENT}{line}\n" for line in lines))
    return "".join(out) + f"\n{MARKER} end\n"


def kamal_lock_file(details: bytes) -> str:
    """Ruby's ``Base64.encode64``: lines of 60 characters, each ending in a line break."""
    encoded = base64.b64encode(details).decode()
    return "".join(line + "\n" for line in textwrap.wrap(encoded, 60))


def kamal_details(message: str, version: str = "v1") -> str:
    return f"Locked by: Alice at 2026-11-22T21:08:59Z\nVersion: {version}\nMessage: {message}"


def recorded_sections() -> dict[str, str]:
    """The lock-held primary host's recorded sections (a real lock, two containers, a route)."""
    sections = split_sections(LOCK_HOST.read_text())
    del sections["end"]
    return sections
