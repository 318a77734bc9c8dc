#!/usr/bin/env bash
# Keeps ONE open issue (label backstaff-drift) per service and destination about drift, found by
# the marker line the drift report starts with:
#   DRIFT_STATUS 2 (drifted): the open issue's description becomes the new report, or one is opened;
#   DRIFT_STATUS 0 (in sync): an open issue gets a note and is closed;
#   anything else (an error, e.g. a host not read): the issue is left alone.
# Exits with DRIFT_STATUS, so the job fails on drift and on errors.
# Env: CI_API_V4_URL, CI_PROJECT_ID, CI_JOB_URL (GitLab's own), BACKSTAFF_NOTE_TOKEN (a project
#      access token, role Reporter, scope api), DRIFT_FILE, DRIFT_STATUS.
set -euo pipefail
: "${CI_API_V4_URL:?}" "${CI_PROJECT_ID:?}" "${CI_JOB_URL:?}" "${DRIFT_FILE:?}" "${DRIFT_STATUS:?}"
: "${BACKSTAFF_NOTE_TOKEN:?is empty: add the project access token as a CI/CD variable (docs/ci.md)}"
api() {
  curl --silent --show-error --fail --header "PRIVATE-TOKEN: $BACKSTAFF_NOTE_TOKEN" "$@"
}
if [ "$DRIFT_STATUS" != 0 ] && [ "$DRIFT_STATUS" != 2 ]; then
  echo "backstaff drift failed (exit $DRIFT_STATUS); the drift issue is left as it is" >&2
  exit "$DRIFT_STATUS"
fi
marker=$(head -n 1 "$DRIFT_FILE")
pattern='^<!-- backstaff-plan service=([A-Za-z0-9._~%-]+) destination=([A-Za-z0-9._~%-]+) -->$'
if ! [[ $marker =~ $pattern ]]; then
  echo "the drift report does not start with a backstaff-plan marker line" >&2
  exit 1
fi
title="Drift: the hosts differ from the config (${BASH_REMATCH[1]}, ${BASH_REMATCH[2]})"
issues="$CI_API_V4_URL/projects/$CI_PROJECT_ID/issues"
issue=$(api "$issues?state=opened&labels=backstaff-drift&per_page=100" |
  jq -r --arg marker "$marker" \
    '[.[] | select(((.description // "") | split("\n") | .[0] | rtrimstr("\r")) == $marker) | .iid]
     | first // empty')

if [ "$DRIFT_STATUS" = 2 ]; then
  if [ -n "$issue" ]; then
    api --request PUT --data-urlencode "description@$DRIFT_FILE" "$issues/$issue" >/dev/null
    echo "the hosts drifted; updated issue #$issue"
  else
    api --request POST --data-urlencode "title=$title" --data-urlencode "description@$DRIFT_FILE" \
      --data-urlencode "labels=backstaff-drift" "$issues" >/dev/null
    echo "the hosts drifted; opened an issue"
  fi
elif [ -n "$issue" ]; then
  api --request POST --data-urlencode "body=The hosts match the config again ($CI_JOB_URL)." \
    "$issues/$issue/notes" >/dev/null
  api --request PUT --data-urlencode "state_event=close" "$issues/$issue" >/dev/null
  echo "no drift; closed issue #$issue"
else
  echo "no drift"
fi
exit "$DRIFT_STATUS"
