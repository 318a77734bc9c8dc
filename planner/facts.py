"""The one remote command that reads a host's whole state, and its section markers.

Everything the planner needs from a host comes back from a single SSH round trip: a small
shell script whose sections are separated by marker lines. The parser is in ``live.py``.
Nothing here prints a credential: registry logins are counted, env files are hashed.
"""

from __future__ import annotations

from backstaff.planner.model import App

MARKER = "@@backstaff@@"
DOCKER_HUB = "https://index.docker.io/v1/"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def gather_script(app: App, host: str) -> str:
    """The shell script run on ``host``; the lock is read on the primary host only."""
    env_dir = f"{app.app_directory}/env"
    server = app.registry.server or DOCKER_HUB
    lines = [
        f"m() {{ printf '\\n{MARKER} %s\\n' \"$1\"; }}",
        "m docker",
        "if ! command -v docker >/dev/null 2>&1; then echo '!missing';"
        " else docker version --format '{{.Server.Version}}' 2>/dev/null || echo '!daemon-down'; fi",
        "m networks",
        "docker network ls --format '{{.Name}}' 2>/dev/null",
        "m containers",
        "docker ps -aq --no-trunc 2>/dev/null | xargs -r docker inspect 2>/dev/null",
        "m image_env",
        "docker ps -aq 2>/dev/null | xargs -r docker inspect --format '{{.Image}}' 2>/dev/null"
        " | sort -u | xargs -r docker image inspect --format '{{.Id}} {{json .Config.Env}}'"
        " 2>/dev/null",
        "m images",
        "docker image ls --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' 2>/dev/null",
        "m proxy",
        "if [ \"$(docker inspect -f '{{.State.Running}}' kamal-proxy 2>/dev/null)\" = true ];"
        " then docker exec kamal-proxy kamal-proxy list 2>&1 || echo '!failed';"
        " else echo '!not-running'; fi",
        "m registry",
        f"grep -c {_quote(chr(34) + server + chr(34))} .docker/config.json 2>/dev/null || true",
        "m envfiles",
        f"for f in {env_dir}/roles/*.env {env_dir}/accessories/*.env;"
        ' do [ -f "$f" ] && sha256sum "$f"; done; true',
    ]
    if host == app.primary_host:
        lock = app.lock_directory
        lines += [
            "m lock",
            f"if [ -d {lock} ]; then (base64 -d < {lock}/details) 2>/dev/null"
            " || echo '!unreadable'; else echo '!none'; fi",
        ]
    lines.append("m end")
    return "\n".join(lines) + "\n"
