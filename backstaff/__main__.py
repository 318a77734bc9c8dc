"""``python -m backstaff``: the same as the ``backstaff`` command."""

from backstaff.launcher import entry

entry()
