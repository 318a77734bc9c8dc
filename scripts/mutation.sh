#!/usr/bin/env bash
# Mutation testing (mutmut) of the modules where a silent change hurts most, against the fast
# tests that need no test bed: see scripts/mutation.cfg and docs/development.md.
# Usage: scripts/mutation.sh [MUTANT-NAME-GLOB ...]  e.g. 'backstaff.planner.diff.*'; without
# one, the functions listed in scripts/mutation.cfg.
# mutmut names a mutant by its file's path, and the tests import backstaff.planner.diff: so the
# run happens in .mutation/, a copy laid out as the package installs (schemas/, planner/ and
# executors/ inside backstaff/), where mutmut writes its mutants/. Each run starts afresh.
# The last line printed is "mutation score: NN.N% (K killed of N mutants)".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tree="$root/.mutation"
rm -rf "$tree"
mkdir -p "$tree"
cp -r "$root/backstaff" "$tree/backstaff"
for sub in schemas planner executors; do cp -r "$root/$sub" "$tree/backstaff/$sub"; done
cp -r "$root/tests" "$root/fixtures" "$root/docs" "$root/pyproject.toml" "$tree/"
cp "$root/scripts/mutation.cfg" "$tree/setup.cfg"
find "$tree" -name __pycache__ -prune -exec rm -rf {} +
cd "$tree"
if [ $# -eq 0 ]; then
  mapfile -t selected < <(python3 -c 'import configparser, sys
config = configparser.ConfigParser()
config.read(sys.argv[1])
print(config["mutation.sh"]["functions"].strip())' setup.cfg)
  set -- "${selected[@]}"
fi
start=$(date +%s)
if ! mutmut run --max-children "${MUTATION_JOBS:-2}" "$@" >mutmut.log 2>&1; then
  tail -n 30 mutmut.log
  echo "mutmut failed (log: $tree/mutmut.log)" >&2
  exit 1
fi
echo "mutmut ran $(($(date +%s) - start))s on ${MUTATION_JOBS:-2} processes; survivors: $tree/mutants/survivors.txt"
python3 "$root/scripts/mutation_score.py" mutants
