"""Everything that touches the world: SSH to the hosts, local files, processes and git.

paramiko imports ``invoke`` (and with it asyncio and unittest.mock: about 40 ms of every
command's start-up) only to run the ``Match exec`` lines of an ssh config read by its own
``SSHConfig``, which backstaff does not use: executors/ssh_config.py reads the ssh config
files, as net-ssh does (``Match exec`` ignored). So ``invoke`` is marked absent before paramiko
loads, and paramiko takes it as not installed. A process that loaded it already keeps it.
"""

import sys

sys.modules.setdefault("invoke", None)  # type: ignore[arg-type]
