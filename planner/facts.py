"""The one remote command that reads a host's whole state, and its section markers.

Everything the planner needs from a host comes back from a single SSH round trip: a small
shell script whose sections are separated by marker lines. The parser is in ``live.py``.
Nothing here prints a credential: registry logins are counted, env files are hashed.

Values from a host are data, never framing. The script's own marker lines carry a token made
fresh for each run (``token``); ``frame_answer`` turns them into ``MARKER`` lines and prefixes
every other line with ``CONTENT`` (``|``). A value would have to hold this run's token to pass
for a marker, so whatever a lock message, a proxy error or a label holds, only the script's
markers start a line with ``MARKER``. The framing is done here, on the client, not by a ``sed``
on the host: one process fewer on every host, the same lines. The deploy lock's details are
printed as stored, still base64, and decoded by the parser.

Docker is asked three times at most, whatever runs on the host (each ``docker`` start costs
20-40 ms of CPU there): ``docker ps`` for the containers and the images they run, ONE
``docker inspect`` of those containers, those images, the latest tag and the ``kamal`` network
(one JSON object a line), and ``docker exec kamal-proxy kamal-proxy list`` for the routes,
its section on the command's stderr (the rest's stderr goes to ``/dev/null``). On a host meant
to run kamal-proxy the routes are read in the background, at the same time as the other two;
on another host only when ``docker ps`` shows a container named ``kamal-proxy`` there (a
worker's or an accessory's host asks docker twice, where a third call would only answer "No
such container"). No temporary file, named pipe or pipeline is made; the registry login is
counted and the env files' names are read by the shell itself, with one ``sha256sum`` and one
``stat`` for all the env files: on a host whose ``docker`` is cheap, the processes the script
starts are what it costs.
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
        # The lines naming the server, as `grep -c` counts them, without starting a grep; no
        # count at all when there is no docker config (logged out).
        "m registry",
        'n=0; while IFS= read -r l || [ -n "$l" ]; do'
        f" case $l in *{_quote(chr(34) + server + chr(34))}*) n=$((n + 1));; esac;"
        ' done < .docker/config.json && echo "$n"',
        "m envfiles",
        f'set --; for f in {files}; do [ -f "$f" ] && set -- "$@" "$f"; done',
        '[ $# -eq 0 ] || sha256sum -- "$@"',
        # The env files' variable NAMES (never a value) and when each was written: what a
        # container got from an env file rather than from --env (see live.parse_envkeys).
        # One `stat` for every file's date, a line each; the names are read by the shell.
        "m envkeys",
        'if [ $# -gt 0 ]; then if t=$(stat -c %Y -- "$@"); then for f in "$@"; do k=\'\'',
        '  if while IFS= read -r l || [ -n "$l" ]; do case $l in [A-Za-z_]*=*) n=${l%%=*};'
        ' case $n in *[!A-Za-z0-9_]*) ;; *) k="$k $n";; esac;; esac; done < "$f"',
        '  then printf \'%s %s%s\\n\' "${t%%[!0-9]*}" "$f" "$k"; else echo "!unreadable $f"; fi',
        # the next file's date: what follows the first line break
        "  case $t in *[!0-9]*) t=${t#*[!0-9]};; esac; done; else echo '!unreadable'; fi; fi",
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
    own section lines; read the answer with ``frame_answer``. On stdout, sections answer in
    this order: docker (``!missing``, ``!daemon-down`` or ``answering``), inspect, registry,
    envfiles, envkeys, lock, end; the proxy's section, read at the same time, is on stderr
    and done before ``end`` is printed.
    """
    if not token.isalnum():
        raise ValueError("the gather token must be letters and digits")
    latest = _quote(app.latest_image)
    common = _common_sections(app, host)
    # A host meant to run kamal-proxy has its routes read at once, at the same time as the
    # containers; another host only when docker ps shows a container named kamal-proxy there.
    routed = host in app.proxy_host_set
    proxy_left_behind = () if routed else (
        '    case "$n," in *,kamal-proxy,*) routes & b=$!;;'
        " *) { m proxy; echo '!not-running'; } >&3;; esac",
    )  # fmt: skip
    lines = [
        f"m() {{ printf '\\n{_tag(token)} %s\\n' \"$1\"; }}",
        # fd 3: the command's stderr, where the proxy's section goes; nothing else's stderr.
        "exec 3>&2 2>/dev/null",
        "if command -v docker >/dev/null 2>&1; then",
        "  routes() { m proxy; if o=$(docker exec kamal-proxy kamal-proxy list 2>&1); then"
        " printf '%s\\n' \"$o\"; else case $o in *'No such container'*|*'is not running'*)"
        " echo '!not-running';; *) printf '%s\\n!failed\\n' \"$o\";; esac; fi; } >&3",
        "  routes & b=$!" if routed else "  b=''",
        "  if p=$(docker ps -a --no-trunc --format '{{.ID}} {{.Image}} {{.Names}}'); then",
        "    m docker; echo answering",
        # Ids and the images they run: a reference docker still resolves to the container's
        # image, else its id (docker ps says which). A bare name gets its :latest, so that it
        # cannot be taken for a container's name. Names: each container's, a comma between.
        "    set -f; set -- $p; c='' i='' n=''",
        '    while [ $# -gt 2 ]; do c="$c $1"; n="$n,$3";'
        " case $2 in */*|*:*|*@*) r=$2;; *) r=$2:latest;; esac;"
        ' case "$i " in *" $r "*) ;; *) i="$i $r";; esac; shift 3; done',
        *proxy_left_behind,
        f"    m inspect; docker inspect --format '{{{{json .}}}}' -- $c $i {latest} {NETWORK}",
        "    set +f",
        "  else m docker; echo '!daemon-down'" + ("; fi" if routed else "; routes & b=$!; fi"),
        *(f"  {line}" for line in common),
        # That job only: a job the login shell's rc files left running is not waited for.
        '  [ -z "$b" ] || wait "$b"',
        "else",
        "  m docker; echo '!missing'",
        *(f"  {line}" for line in common),
        "fi",
        "m end",
    ]
    return "\n".join(lines) + "\n"


def _tag(token: str) -> str:
    return f"@@{token}@@"


def frame_answer(stdout: str, stderr: str, token: str) -> str:
    """The gather script's answer as ``live.split_sections`` reads it: each of the script's
    marker lines (this run's ``token``) becomes a ``MARKER`` line, every other line gets the
    ``CONTENT`` prefix. Lines split on ``\\n`` only. Whatever a stream printed before its
    first marker (a login shell's greeting) is left out: it belongs to no section."""
    prefix = _tag(token) + " "
    framed: list[str] = []
    for stream in (stdout, stderr):
        inside = False
        for line in stream.split("\n"):
            if line.startswith(prefix):
                inside = True
                framed.append(f"{MARKER} {line[len(prefix) :]}")
            elif inside:
                framed.append(CONTENT + line)
    return "\n".join(framed) + "\n"
