#!/bin/sh
# sshd ForceCommand on the fan-out benchmark's SIMULATED hosts: log the command (to count SSH
# commands per host), then run it in the host's own home (/root) with the recorded-responder `docker`
# (sim-docker, a simulation) first in PATH.
HOST_DIR=$1
export BACKSTAFF_SIM_REPLIES="$HOST_DIR/replies"
export PATH="$HOST_DIR/bin:/usr/bin:/usr/sbin:/bin:/sbin"
cd /root || exit 1  # the host's own home, bind-mounted by simhosts.py
printf 'START\n' >> "$HOST_DIR/commands.log"
exec /bin/sh -c "${SSH_ORIGINAL_COMMAND:-true}"
