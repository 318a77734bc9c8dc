#!/usr/bin/env bash
# Downloads the live state the record job saved last on the default branch (its artifact
# live-state.json) into OUT_DIR, for `backstaff plan --live`. The job token is enough: the merge
# request's plan job holds no SSH key and no other secret.
# Env (GitLab's own): CI_API_V4_URL, CI_PROJECT_ID, CI_DEFAULT_BRANCH, CI_JOB_TOKEN; OUT_DIR.
set -euo pipefail
: "${CI_API_V4_URL:?}" "${CI_PROJECT_ID:?}" "${CI_DEFAULT_BRANCH:?}" "${CI_JOB_TOKEN:?}" "${OUT_DIR:?}"
branch=$(jq -rn --arg v "$CI_DEFAULT_BRANCH" '$v | @uri')
mkdir -p "$OUT_DIR"
if ! curl --silent --show-error --fail --location --header "JOB-TOKEN: $CI_JOB_TOKEN" \
  --output "$OUT_DIR/live-state.json" \
  "$CI_API_V4_URL/projects/$CI_PROJECT_ID/jobs/artifacts/$branch/raw/live-state.json?job=backstaff-record-state"; then
  echo "no recorded state: the job backstaff-record-state has not succeeded on $CI_DEFAULT_BRANCH yet (or its artifact expired); run a pipeline there" >&2
  exit 1
fi
