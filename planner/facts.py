"""The one remote command that reads a host's whole state, and its section markers.

Everything the planner needs from a host comes back from a single SSH round trip: a small
shell script whose sections are separated by marker lines. The parser is in ``live.py``.
Nothing here prints a credential: registry logins are counted, env files are hashed.

Values from a host are data, never framing: the whole answer goes through one ``sed`` that
prefixes every line with ``CONTENT`` (``|``), except the script's own marker lines, which carry
a token made fresh for each run (``token``) and which ``sed`` turns into ``MARKER`` lines. A
value would have to hold this run's token to pass for a marker, so whatever a lock message, a
proxy error or a label holds, only the script's markers start a line with ``MARKER``. The
deploy lock's details are printed as stored, still base64, and decoded by the parser.

Docker is asked three times at most, whatever runs on the host (each ``docker`` start costs
20-40 ms of CPU there): ``docker ps`` for the containers and the images they run, ONE
``docker inspect`` of those containers, those images, the latest tag and the ``kamal`` network
(one JSON object a line), and ``docker exec kamal-proxy kamal-proxy list`` for the routes,
run at the same time as the other two. No temporary file or named pipe is made.
"""

from __future__ import annotations

from backstaff.planner.model import App

MARKER = "@@backstaff@@"
CONTENT = "|"  # the first character of every line of a section's output
DOCKER_HUB = "https://index.docker.io/v1/"
NETWORK = "kamal"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _common_sections(app: App, host: str) -> list[str]:
    """The sections read from files, not from docker: registry login, env files, the lock."""
    env_dir = f"{app.app_directory}/env"
    server = app.registry.server or DOCKER_HUB
    files = f"{env_dir}/roles/*.env {env_dir}/accessories/*.env"
    lines = [
        "m registry",
        f"grep -c {_quote(chr(34) + server + chr(34))} .docker/config.json",
        "m envfiles",
        f'set --; for f in {files}; do [ -f "$f" ] && set -- "$@" "$f"; done',
        '[ $# -eq 0 ] || sha256sum -- "$@"',
        # The env files' variable NAMES (never a value) and when each was written: what a
        # container got from an env file rather than from --env (see live.parse_envkeys).
        "m envkeys",
        # (sed joins the names on one line: one process a file, and stat the other)
        'for f in "$@"; do'
        " if k=$(sed -n '/^[A-Za-z_][A-Za-z0-9_]*=/{s/=.*//;H;};${x;s/\\n/ /g;p;}' \"$f\");"
        ' then printf \'%s %s%s\\n\' "$(stat -c %Y "$f")" "$f" "$k";'
        ' else echo "!unreadable $f"; fi; done',
    ]
    if host == app.primary_host:
        lock = app.lock_directory
        # As stored (base64, Kamal's format), never decoded here: NULs, invalid UTF-8 and line
        # breaks in a message stay inside the base64.
        lines += [
            "m lock",
            f"if [ -d {lock} ]; then echo '!held'; cat {lock}/details || echo '!unreadable';"
            " else echo '!none'; fi",
        ]
    return lines


def gather_script(app: App, host: str, token: str) -> str:
    """The shell script run on ``host``; the lock is read on the primary host only.

    ``token`` (random, made by the caller for each run, letters and digits) marks the script's
    own section lines. The proxy's answer is read at the same time as the containers: its
    section goes through a pipe into the rest, which prints it last. Sections answer in this
    order: docker (``!missing``, ``!daemon-down`` or ``answering``), inspect, registry,
    envfiles, envkeys, lock, proxy.
    """
    if not token.isalnum():
        raise ValueError("the gather token must be letters and digits")
    tag = f"@@{token}@@"
    latest = _quote(app.latest_image)
    common = _common_sections(app, host)
    frame = f"2>/dev/null | LC_ALL=C sed -e 's/^{tag} /{MARKER} /' -e t -e 's/^/{CONTENT}/'"
    lines = [
        f"m() {{ printf '\\n{tag} %s\\n' \"$1\"; }}",
        "if command -v docker >/dev/null 2>&1; then",
        # The proxy's routes, at the same time as the containers (a pipe, no file).
        "  { m proxy; if o=$(docker exec kamal-proxy kamal-proxy list 2>&1); then printf '%s\\n' \"$o\";"
        " else case $o in *'No such container'*|*'is not running'*) echo '!not-running';;"
        " *) printf '%s\\n!failed\\n' \"$o\";; esac; fi; } 2>/dev/null | {",
        "  if p=$(docker ps -a --no-trunc --format '{{.ID}} {{.Image}}'); then",
        "    m docker; echo answering",
        # Ids and the images they run: a reference docker still resolves to the container's
        # image, else its id (docker ps says which). A bare name gets its :latest, so that it
        # cannot be taken for a container's name.
        "    set -f; set -- $p; c='' i=''",
        '    while [ $# -gt 1 ]; do c="$c $1";'
        " case $2 in */*|*:*|*@*) r=$2;; *) r=$2:latest;; esac;"
        ' case "$i " in *" $r "*) ;; *) i="$i $r";; esac; shift 2; done',
        f"    m inspect; docker inspect --format '{{{{json .}}}}' -- $c $i {latest} {NETWORK}",
        "    set +f",
        "  else m docker; echo '!daemon-down'; fi",
        *(f"  {line}" for line in common),
        "  cat; m end",
        f"  }} {frame}",
        "else",
        "  { m docker; echo '!missing'",
        *(f"  {line}" for line in common),
        f"  m end; }} {frame}",
        "fi",
    ]
    return "\n".join(lines) + "\n"
