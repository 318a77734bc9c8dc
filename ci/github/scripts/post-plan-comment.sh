#!/usr/bin/env bash
# Posts the plan as ONE comment on its pull request: the comment (by COMMENT_AUTHOR) whose first
# line is the plan's marker (`<!-- backstaff-plan service=… destination=… -->`) is updated, and
# only when there is none is one created. A push then updates the comment instead of adding one.
#
# Runs in the trusted workflow_run job. The plan file comes from the pull request's run, so it is
# data made by untrusted code: it is never run, its first line must be a well-formed marker and
# its length within GitHub's limit, and the pull request is found from the event's own fields
# (head repository, branch and commit), never from anything in the artifact.
#
# Env: GH_TOKEN, GH_REPO (owner/name), HEAD_OWNER, HEAD_BRANCH, HEAD_SHA (of the plan run),
#      PLAN_FILE, COMMENT_AUTHOR (default github-actions[bot], the login of GH_TOKEN's comments).
set -euo pipefail
: "${GH_REPO:?}" "${HEAD_OWNER:?}" "${HEAD_BRANCH:?}" "${HEAD_SHA:?}" "${PLAN_FILE:?}"
author=${COMMENT_AUTHOR:-github-actions[bot]}
limit=65536 # GitHub's limit for a comment body, in characters

if [ ! -f "$PLAN_FILE" ]; then
  echo "::error::the plan run left no plan ($PLAN_FILE)" >&2
  exit 1
fi
chars=$(LC_ALL=C.UTF-8 wc -m <"$PLAN_FILE")
if [ "$chars" -gt "$limit" ]; then
  echo "::error::the plan is $chars characters, more than a comment holds ($limit)" >&2
  exit 1
fi
marker=$(head -n 1 "$PLAN_FILE")
pattern='^<!-- backstaff-plan service=[A-Za-z0-9._~%-]+ destination=[A-Za-z0-9._~%-]+ -->$'
if ! [[ $marker =~ $pattern ]]; then
  echo "::error::the plan does not start with a backstaff-plan marker line" >&2
  exit 1
fi

pr=$(gh api --method GET "repos/$GH_REPO/pulls" -f state=open -f "head=$HEAD_OWNER:$HEAD_BRANCH" \
  -f per_page=100 --paginate |
  jq -rs --arg sha "$HEAD_SHA" '[.[][] | select(.head.sha == $sha) | .number] | first // empty')
if [ -z "$pr" ]; then
  echo "no open pull request has $HEAD_OWNER:$HEAD_BRANCH at $HEAD_SHA (closed, or pushed again:"
  echo "the newer run comments): nothing to do"
  exit 0
fi

comment=$(gh api --method GET "repos/$GH_REPO/issues/$pr/comments" -f per_page=100 --paginate |
  jq -rs --arg marker "$marker" --arg author "$author" \
    '[.[][] | select(.user.login == $author and
       ((.body // "") | split("\n") | .[0] | rtrimstr("\r")) == $marker) | .id] | first // empty')
if [ -n "$comment" ]; then
  gh api --method PATCH "repos/$GH_REPO/issues/comments/$comment" -F "body=@$PLAN_FILE" >/dev/null
  echo "updated the plan comment $comment on #$pr"
else
  gh api --method POST "repos/$GH_REPO/issues/$pr/comments" -F "body=@$PLAN_FILE" >/dev/null
  echo "commented the plan on #$pr"
fi
