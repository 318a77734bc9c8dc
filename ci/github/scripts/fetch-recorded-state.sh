#!/usr/bin/env bash
# Downloads the live state that the record workflow saved last (artifact backstaff-live-state of
# its newest successful run on the default branch) into OUT_DIR, for `backstaff plan --live`.
# Needs only a read-only token with `actions: read`: this is what lets a pull request from a
# fork get a real plan with no SSH key and no secret in its job.
# Env: GH_TOKEN, GH_REPO (owner/name), RECORD_WORKFLOW (its file name), RECORD_BRANCH, OUT_DIR.
set -euo pipefail
: "${GH_REPO:?}" "${RECORD_WORKFLOW:?}" "${RECORD_BRANCH:?}" "${OUT_DIR:?}"
run_id=$(gh run list --workflow "$RECORD_WORKFLOW" --branch "$RECORD_BRANCH" --status success \
  --limit 1 --json databaseId | jq -r '.[0].databaseId // empty')
if [ -z "$run_id" ]; then
  echo "::error::no successful run of $RECORD_WORKFLOW on $RECORD_BRANCH: run it once (Actions, Run workflow)" >&2
  exit 1
fi
mkdir -p "$OUT_DIR"
gh run download "$run_id" --name backstaff-live-state --dir "$OUT_DIR"
echo "recorded state from run $run_id of $RECORD_WORKFLOW"
