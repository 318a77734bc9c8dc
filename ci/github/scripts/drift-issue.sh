#!/usr/bin/env bash
# Keeps ONE open issue per service and destination about drift, found by the marker line the
# drift report starts with (`<!-- backstaff-plan service=… destination=… -->`):
#   DRIFT_STATUS 2 (drifted): the open issue's body becomes the new report, or one is opened;
#   DRIFT_STATUS 0 (in sync): an open issue gets a comment and is closed;
#   anything else (an error, e.g. a host not read): the issue is left alone.
# Exits with DRIFT_STATUS, so the job fails on drift and on errors.
# Env: GH_TOKEN, GH_REPO (owner/name), DRIFT_FILE (`backstaff drift --format markdown`),
#      DRIFT_STATUS (its exit code), RUN_URL (this run, linked from the issue).
set -euo pipefail
: "${GH_REPO:?}" "${DRIFT_FILE:?}" "${DRIFT_STATUS:?}" "${RUN_URL:?}"

if [ "$DRIFT_STATUS" != 0 ] && [ "$DRIFT_STATUS" != 2 ]; then
  echo "::error::backstaff drift failed (exit $DRIFT_STATUS); the drift issue is left as it is" >&2
  exit "$DRIFT_STATUS"
fi
marker=$(head -n 1 "$DRIFT_FILE")
pattern='^<!-- backstaff-plan service=([A-Za-z0-9._~%-]+) destination=([A-Za-z0-9._~%-]+) -->$'
if ! [[ $marker =~ $pattern ]]; then
  echo "::error::the drift report does not start with a backstaff-plan marker line" >&2
  exit 1
fi
title="Drift: the hosts differ from the config (${BASH_REMATCH[1]}, ${BASH_REMATCH[2]})"

issue=$(gh api --method GET "repos/$GH_REPO/issues" -f state=open -f per_page=100 --paginate |
  jq -rs --arg marker "$marker" \
    '[.[][] | select(.pull_request == null and
       ((.body // "") | split("\n") | .[0] | rtrimstr("\r")) == $marker) | .number] | first // empty')

if [ "$DRIFT_STATUS" = 2 ]; then
  if [ -n "$issue" ]; then
    gh api --method PATCH "repos/$GH_REPO/issues/$issue" -F "body=@$DRIFT_FILE" >/dev/null
    echo "::error::the hosts drifted; updated issue #$issue"
  else
    gh api --method POST "repos/$GH_REPO/issues" -f "title=$title" -F "body=@$DRIFT_FILE" >/dev/null
    echo "::error::the hosts drifted; opened an issue"
  fi
elif [ -n "$issue" ]; then
  gh api --method POST "repos/$GH_REPO/issues/$issue/comments" \
    -f "body=The hosts match the config again ($RUN_URL)." >/dev/null
  gh api --method PATCH "repos/$GH_REPO/issues/$issue" -f state=closed -f state_reason=completed >/dev/null
  echo "no drift; closed issue #$issue"
else
  echo "no drift"
fi
exit "$DRIFT_STATUS"
