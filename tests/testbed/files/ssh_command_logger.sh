#!/bin/sh
# sshd ForceCommand on the test hosts: logs every command with its exit code and duration
# (to count SSH round trips per host), then runs it with the Debian docker client first in PATH.
LOG=$1
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
start=$(date +%s%3N)
cmd=${SSH_ORIGINAL_COMMAND:-}
printf '%s\t%s\tSTART\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$$" "$cmd" >> "$LOG"
if [ -z "$cmd" ]; then
  /bin/sh -l
else
  /bin/sh -c "$cmd"
fi
rc=$?
printf '%s\t%s\tEND\trc=%s ms=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$$" "$rc" "$(( $(date +%s%3N) - start ))" >> "$LOG"
exit $rc
