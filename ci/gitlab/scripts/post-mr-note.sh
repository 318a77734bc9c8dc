#!/usr/bin/env bash
# Posts the plan as ONE note on the merge request: the note by the token's user whose first line
# is the plan's marker (`<!-- backstaff-plan service=… destination=… -->`) is updated, and only
# when there is none is one created, so a push updates the note instead of adding one. The plan
# file is data from the plan job: its first line must be a well-formed marker.
# Env: CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID (GitLab's own), BACKSTAFF_NOTE_TOKEN
#      (a project access token, role Reporter, scope api), PLAN_FILE.
set -euo pipefail
: "${CI_API_V4_URL:?}" "${CI_PROJECT_ID:?}" "${CI_MERGE_REQUEST_IID:?}" "${PLAN_FILE:?}"
: "${BACKSTAFF_NOTE_TOKEN:?is empty: add the project access token as a CI/CD variable (docs/ci.md)}"
api() {
  curl --silent --show-error --fail --header "PRIVATE-TOKEN: $BACKSTAFF_NOTE_TOKEN" "$@"
}
marker=$(head -n 1 "$PLAN_FILE")
pattern='^<!-- backstaff-plan service=[A-Za-z0-9._~%-]+ destination=[A-Za-z0-9._~%-]+ -->$'
if ! [[ $marker =~ $pattern ]]; then
  echo "the plan does not start with a backstaff-plan marker line" >&2
  exit 1
fi
notes="$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes"
me=$(api "$CI_API_V4_URL/user" | jq -r .id)
note="" page=1
while [ -z "$note" ]; do
  batch=$(api "$notes?per_page=100&page=$page&sort=asc&order_by=created_at")
  note=$(jq -r --arg marker "$marker" --argjson me "$me" \
    '[.[] | select(.author.id == $me and
       ((.body // "") | split("\n") | .[0] | rtrimstr("\r")) == $marker) | .id] | first // empty' \
    <<<"$batch")
  [ "$(jq length <<<"$batch")" -lt 100 ] && break
  page=$((page + 1))
done
if [ -n "$note" ]; then
  api --request PUT --data-urlencode "body@$PLAN_FILE" "$notes/$note" >/dev/null
  echo "updated the plan note $note on !$CI_MERGE_REQUEST_IID"
else
  api --request POST --data-urlencode "body@$PLAN_FILE" "$notes" >/dev/null
  echo "noted the plan on !$CI_MERGE_REQUEST_IID"
fi
