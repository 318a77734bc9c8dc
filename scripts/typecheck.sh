#!/usr/bin/env bash
# mypy over the package as it installs: schemas/, planner/ and executors/ are backstaff.*
# subpackages (setuptools package-dir), so lay them out that way in a temporary tree first.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
cp -r "$root/backstaff" "$tree/backstaff"
for sub in schemas planner executors; do cp -r "$root/$sub" "$tree/backstaff/$sub"; done
cd "$tree" && mypy --config-file "$root/pyproject.toml" -p backstaff
