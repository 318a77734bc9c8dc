#!/usr/bin/env bash
# The main job on the bundled example: set everything up, bring up the 3-host test bed,
# then plan and apply for real: set up v1, plan v2, deploy v2, roll back, check drift.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
python3 -m tests.testbed up 3 >/dev/null
python3 -c "from tests import testbed; testbed.load().reset()"
echo "== test bed: hosts 10.254.0.11-13, registry 10.254.0.2:5000 (python -m tests.testbed down removes it)"
export BACKSTAFF_KNOWN_HOSTS=/tmp/bst/demo_known_hosts
cd "$root/fixtures/example"
echo "== backstaff validate"
python3 -m backstaff validate
echo "== backstaff plan on fresh hosts"
python3 -m backstaff --version v1 plan
echo "== backstaff setup -P (applies that plan)"
python3 -m backstaff --version v1 setup -P
echo "== through kamal-proxy: $(curl -s http://10.254.0.11/)"
echo "== backstaff plan --version v1 --detailed-exitcode (nothing to do)"
python3 -m backstaff --version v1 plan --detailed-exitcode
echo "== backstaff plan --version v2 (markdown, as a pull-request comment)"
python3 -m backstaff --version v2 plan --format markdown
echo "== backstaff apply -y (v2)"
python3 -m backstaff --version v2 apply -y
echo "== through kamal-proxy: $(curl -s http://10.254.0.11/)"
echo "== backstaff rollback v1"
python3 -m backstaff -q rollback v1
echo "== through kamal-proxy: $(curl -s http://10.254.0.11/)"
echo "== backstaff drift"
python3 -m backstaff drift
