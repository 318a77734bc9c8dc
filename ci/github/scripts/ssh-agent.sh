#!/usr/bin/env bash
# Gives the job's later steps an ssh-agent holding the deploy key, and a known_hosts file.
# The key comes from BACKSTAFF_SSH_KEY (an environment secret) and goes straight into the agent,
# never onto disk; known_hosts from BACKSTAFF_KNOWN_HOSTS (`ssh-keyscan HOST` lines, checked by
# hand once). backstaff then runs with --no-trust-new-hosts: a host whose key is not listed is
# refused instead of trusted on first use.
set -euo pipefail
: "${BACKSTAFF_SSH_KEY:?is empty: add the secret to the environment the job names (docs/ci.md)}"
: "${BACKSTAFF_KNOWN_HOSTS:?is empty: set the variable to the known_hosts lines of the hosts}"
: "${GITHUB_ENV:?is not set: this script runs inside a GitHub Actions step}"
mkdir -p ~/.ssh
chmod 700 ~/.ssh
printf '%s\n' "$BACKSTAFF_KNOWN_HOSTS" >~/.ssh/known_hosts
eval "$(ssh-agent -s)" >/dev/null
printf '%s\n' "$BACKSTAFF_SSH_KEY" | ssh-add -q -
{
  echo "SSH_AUTH_SOCK=$SSH_AUTH_SOCK"
  echo "SSH_AGENT_PID=$SSH_AGENT_PID"
} >>"$GITHUB_ENV"
