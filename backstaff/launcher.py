"""The ``backstaff`` command's entry point: apart from the CLI, so that the CLI's modules load
with the garbage collector held off."""

from __future__ import annotations

import gc
import sys


def entry() -> None:
    """The console script. The imports run with the collector off: they make some 75,000
    objects that all live until the process ends, and the collections they would set off
    (about 30 ms of every start) could free none of them. ``gc.freeze()`` then leaves those
    objects out of every later collection, the interpreter's last one at exit included (about
    0.1 s of walking them after the command is done); and again after the command, for what
    it made."""
    gc.disable()
    try:
        from backstaff.cli import main
    finally:
        gc.freeze()
        gc.enable()
    code = main()
    gc.freeze()
    sys.exit(code)
