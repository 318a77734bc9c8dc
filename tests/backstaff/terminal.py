"""A real terminal for the interactive commands' tests: ``python -m backstaff`` in a tmux pane
of a tmux server of the tests' own; keys are typed into it and the screen is read back."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SOCKET = f"backstaff-tests-{os.getpid()}"  # a tmux server of our own, never the user's


def tmux_server() -> Iterator[None]:
    """A fixture's (or a ``contextmanager``'s) body: skips without tmux; the server is killed
    after, a failed test's too (its panes' commands get SIGHUP: an apply gives its lock back)."""
    if subprocess.run(["which", "tmux"], capture_output=True).returncode:
        pytest.skip("tmux is not installed (scripts/setup.sh installs it)")
    try:
        yield
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)


class Pane:
    """One tmux session running ``python -m backstaff ARGS`` in the project, then reporting
    its exit status and the terminal's mode."""

    def __init__(self, project: Path, name: str, *args: str, prompt: bool = True) -> None:
        self.name = name
        command = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "backstaff", *args))
        script = (
            f"cd {shlex.quote(str(project))} &&"
            f" BACKSTAFF_KNOWN_HOSTS={shlex.quote(str(project.parent / 'known_hosts'))}"
            f" TERM=xterm {command}; echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon"
            " -e echo -e -icanon -e -echo | tr '\\n' ' ' | sed 's/^/STTY=/'; echo; sleep 600"
        )
        self._tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", script)
        if prompt:  # the remote shell's prompt: it reads the keys now
            self.wait_for(r"^(/ )?#\s*$")

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", self.name)

    def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.screen(), re.MULTILINE)
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not on the screen:\n{self.screen()}")
            time.sleep(0.2)

    def type(self, line: str) -> None:
        self._tmux("send-keys", "-t", self.name, "-l", line)
        self._tmux("send-keys", "-t", self.name, "Enter")

    def press(self, key: str) -> None:
        """A key as tmux names it (``C-c``): what the terminal sends for it."""
        self._tmux("send-keys", "-t", self.name, key)

    def run(self, line: str, marker: str) -> str:
        """Type ``line`` (whose output ends with ``marker``) and return the output line."""
        self.type(f"{line}; echo {marker}")
        return self.wait_for(rf"^(.*)\r?\n{marker}\s*$").group(1).strip()

    def resize(self, columns: int, rows: int) -> None:
        self._tmux("resize-window", "-t", self.name, "-x", str(columns), "-y", str(rows))

    def signal(self, signum: int) -> None:
        """Signal the command itself (as a CI runner cancels a job), not the pane's shell."""
        shell = self._tmux("list-panes", "-t", self.name, "-F", "#{pane_pid}").strip()
        found = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True)
        os.kill(int(found.stdout.split()[0]), signum)

    def finish(self, exit_line: str, status: int) -> None:
        self.type(exit_line)
        self.ended(status)

    def ended(self, status: int) -> None:
        """The command exited with ``status`` and left the terminal in its normal mode."""
        self.wait_for(rf"^EXIT={status}\s*$")
        modes = self.wait_for(r"^STTY=(.*)$").group(1).split()
        assert sorted(modes) == ["echo", "icanon"], self.screen()  # the terminal is restored
        self._tmux("kill-session", "-t", self.name)
