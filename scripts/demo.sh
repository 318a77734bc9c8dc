#!/usr/bin/env bash
# The main job on the bundled example: set everything up, bring up the 3-host test bed,
# then run backstaff on fixtures/example (validate, resolved config, a real SSH check).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
cd "$root"
python3 -m tests.testbed up 3 >/dev/null
echo "== test bed: hosts 10.254.0.11-13, registry 10.254.0.2:5000 (python -m tests.testbed down removes it)"
cd "$root/fixtures/example"
echo "== backstaff validate"
python3 -m backstaff validate
echo "== backstaff config (secrets masked)"
python3 -m backstaff --version v1 config
echo "== docker on every host over SSH (paramiko)"
python3 - <<'PY'
from pathlib import Path

from backstaff.context import AppContext, Options
from backstaff.executors.ssh import SshConnection

app = AppContext(Options(Path("config/deploy.yml"), None, None, None, False, "v1", False, False, False)).app
for host in app.all_hosts:
    with SshConnection(host, app.ssh, known_hosts=Path("/tmp/bst/known_hosts")) as ssh:
        print(host, "docker", ssh.run("docker version --format '{{.Server.Version}}'").stdout.strip())
PY
