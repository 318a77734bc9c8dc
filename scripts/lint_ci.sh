#!/usr/bin/env bash
# Lints the CI files shipped for users to copy (ci/): actionlint on the GitHub workflows (it runs
# shellcheck on their run: blocks), zizmor's security audits on them (--offline: CI reaches
# package registries only, so the audits that ask GitHub's API are off), shellcheck on the
# scripts beside them. Each prints nothing but its summary and exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
actionlint ci/github/workflows/*.yml
zizmor --offline --quiet ci/github/workflows/*.yml
shellcheck ci/github/scripts/*.sh ci/gitlab/scripts/*.sh tests/ci/bin/backstaff
