"""What the gather script prints, modelled for pure tests: ``script_output`` prints sections
as ``planner/facts.py``'s script does (``m`` then the section's lines; the proxy's section on
stderr) and frames them with the real ``frame_answer``, as the gather does; and
``kamal_lock_file`` is the lock details file as Kamal writes it (Base64, wrapped at 60)."""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Mapping

from backstaff.planner.facts import frame_answer
from backstaff.planner.live import split_sections
from tests.conftest import FIXTURES

LOCK_HOST = FIXTURES / "live" / "lock-held" / "10.254.0.11.txt"


TOKEN = "m0d3lt0k3n"  # the model's run token; a real run's is random


def script_output(sections: Mapping[str, str]) -> str:
    """Each section's text as ``$(…)`` captures it (trailing line breaks dropped), printed
    with the script's marker lines, then framed as the gather frames a real answer."""
    streams: dict[str, list[str]] = {"stdout": [], "stderr": []}
    for name, text in sections.items():
        lines = text.rstrip("\n").split("\n")
        printed = f"\n@@{TOKEN}@@ {name}\n" + "".join(f"{line}\n" for line in lines)
        streams["stderr" if name == "proxy" else "stdout"].append(printed)
    stdout = "".join(streams["stdout"]) + f"\n@@{TOKEN}@@ end\n"
    return frame_answer(stdout, "".join(streams["stderr"]), TOKEN)


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
