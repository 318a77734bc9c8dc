"""The gather script's framing, on the client: only this run's marker lines are markers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backstaff.planner.facts import CONTENT, MARKER, frame_answer, gather_script
from backstaff.planner.live import split_sections
from tests.planner.scenarios import example


def test_this_runs_markers_become_markers_and_every_other_line_content() -> None:
    stdout = (
        "\n@@t0ken@@ docker\nanswering\n"
        "\n@@t0ken@@ lock\n@@other@@ end\n@@t0ken@@end\n x\n@@backstaff@@ end\n|y\r@@t0ken@@ end\n"
        "\n@@t0ken@@ end\n"
    )
    framed = frame_answer(stdout, "\n@@t0ken@@ proxy\nService Host\n", "t0ken")
    assert framed.split("\n") == [
        f"{MARKER} docker", f"{CONTENT}answering", CONTENT,
        f"{MARKER} lock", f"{CONTENT}@@other@@ end", f"{CONTENT}@@t0ken@@end", f"{CONTENT} x",
        f"{CONTENT}{MARKER} end", f"{CONTENT}|y\r@@t0ken@@ end", CONTENT,
        f"{MARKER} end", CONTENT,
        f"{MARKER} proxy", f"{CONTENT}Service Host", CONTENT, "",
    ]  # fmt: skip
    assert split_sections(framed) == {
        "docker": "answering",
        "lock": f"@@other@@ end\n@@t0ken@@end\n x\n{MARKER} end\n|y\r@@t0ken@@ end",
        "end": "",
        "proxy": "Service Host",
    }


def test_what_comes_before_a_streams_first_marker_is_left_out() -> None:
    """A login shell's greeting, on either stream, belongs to no section: were it kept, what
    stderr printed first would run on at the end of stdout's last section."""
    framed = frame_answer(
        "Welcome\n\n@@t0ken@@ lock\n!none\n\n@@t0ken@@ end\n",
        "warning: no tty\n!held\n\n@@t0ken@@ proxy\n!not-running\n",
        "t0ken",
    )
    assert "Welcome" not in framed and "warning" not in framed and "!held" not in framed
    assert split_sections(framed) == {"lock": "!none", "end": "", "proxy": "!not-running"}
    assert frame_answer("no marker at all\n", "", "t0ken") == "\n"


@given(lines=st.lists(st.text(alphabet=st.characters(exclude_characters="\n")), max_size=6))
def test_no_text_without_the_token_makes_a_section(lines: list[str]) -> None:
    text = "\n".join(line for line in lines if "@@t0ken@@ " not in line)
    framed = frame_answer(f"\n@@t0ken@@ inspect\n{text}\n\n@@t0ken@@ end\n", text, "t0ken")
    assert split_sections(framed) == {"inspect": text.strip("\n"), "end": ""}


def test_the_token_is_letters_and_digits() -> None:
    app = example()
    with pytest.raises(ValueError, match="letters and digits"):
        gather_script(app, "10.254.0.11", "t0k en")
    assert "@@t0ken@@" in gather_script(app, "10.254.0.11", "t0ken")
