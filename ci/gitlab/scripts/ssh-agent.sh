# shellcheck shell=bash
# Sourced by a job's script (`. .gitlab/backstaff/ssh-agent.sh`): starts an ssh-agent holding the
# deploy key for the rest of the job, and writes known_hosts. BACKSTAFF_SSH_KEY is the key, or
# the path GitLab gives a variable of type File; it goes into the agent, never into the job log.
# BACKSTAFF_KNOWN_HOSTS holds the hosts' `ssh-keyscan` lines: backstaff runs with
# --no-trust-new-hosts, so a host whose key is not listed is refused.
: "${BACKSTAFF_SSH_KEY:?is empty: a protected variable reaches only protected branches (docs/ci.md)}"
: "${BACKSTAFF_KNOWN_HOSTS:?is empty: set it to the known_hosts lines of the hosts}"
mkdir -p ~/.ssh
chmod 700 ~/.ssh
if [ -f "$BACKSTAFF_KNOWN_HOSTS" ]; then
  cp "$BACKSTAFF_KNOWN_HOSTS" ~/.ssh/known_hosts
else
  printf '%s\n' "$BACKSTAFF_KNOWN_HOSTS" >~/.ssh/known_hosts
fi
eval "$(ssh-agent -s)" >/dev/null
if [ -f "$BACKSTAFF_SSH_KEY" ]; then
  ssh-add -q - <"$BACKSTAFF_SSH_KEY"
else
  printf '%s\n' "$BACKSTAFF_SSH_KEY" | ssh-add -q -
fi
