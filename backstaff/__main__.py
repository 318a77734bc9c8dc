"""``python -m backstaff``: the same as the ``backstaff`` command."""

from backstaff.cli import entry

entry()
