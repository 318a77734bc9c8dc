"""The one remote command that reads a host's whole state, and its section markers.

Everything the planner needs from a host comes back from a single SSH round trip: a small
shell script whose sections are separated by marker lines. The parser is in ``live.py``.
Nothing here prints a credential: registry logins are counted, env files are hashed.

Values from a host are data, never framing: every line a section prints is prefixed with
``CONTENT`` (``|``) by ``sed``, so only the script's own marker lines start with ``MARKER``,
whatever a value holds (a lock message, a proxy error, a label). The deploy lock's details are
printed as stored, still base64, and decoded by the parser.
"""

from __future__ import annotations

from backstaff.planner.model import App

MARKER = "@@backstaff@@"
CONTENT = "|"  # the first character of every line of a section's output
DOCKER_HUB = "https://index.docker.io/v1/"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _sections(app: App, host: str) -> list[tuple[str, str]]:
    """(name, shell) of every section, in answer order; each prints its part on stdout.

    ``image_env`` reads the containers' inspect JSON on stdin: the ids of the images they run
    are taken from it instead of asking docker twice."""
    env_dir = f"{app.app_directory}/env"
    server = app.registry.server or DOCKER_HUB
    sections = [
        ("docker", "if ! command -v docker >/dev/null 2>&1; then echo '!missing';"
                   " else docker version --format '{{.Server.Version}}' || echo '!daemon-down'; fi"),
        ("networks", "docker network ls --format '{{.Name}}'"),
        ("containers", "docker ps -aq --no-trunc | xargs -r docker inspect"),
        ("image_env", "sed -n 's/^ *\"Image\": \"\\(sha256:[0-9a-f]*\\)\".*/\\1/p' | sort -u"
                      " | xargs -r docker image inspect --format '{{.Id}} {{json .Config.Env}}'"),
        ("images", "docker image ls --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}'"),
        ("proxy", "o=$(docker exec kamal-proxy kamal-proxy list 2>&1) && printf '%s\\n' \"$o\""
                  " || case \"$o\" in *'No such container'*|*'is not running'*) echo '!not-running';;"
                  " *) printf '%s\\n' \"$o\" '!failed';; esac"),
        ("registry", f"grep -c {_quote(chr(34) + server + chr(34))} .docker/config.json || true"),
        ("envfiles", f"for f in {env_dir}/roles/*.env {env_dir}/accessories/*.env;"
                     ' do [ -f "$f" ] && sha256sum "$f"; done; true'),
        # The env files' variable NAMES (never a value) and when each was written: what a
        # container got from an env file rather than from --env (see live.parse_envkeys).
        ("envkeys", f"for f in {env_dir}/roles/*.env {env_dir}/accessories/*.env;"
                    ' do [ -f "$f" ] || continue;'
                    " if k=$(LC_ALL=C sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p' \"$f\");"
                    ' then printf \'%s %s %s\\n\' "$(stat -c %Y "$f")" "$f" "$(echo $k)";'
                    ' else echo "!unreadable $f"; fi; done; true'),
    ]  # fmt: skip
    if host == app.primary_host:
        lock = app.lock_directory
        sections.append(
            (
                "lock",
                # As stored (base64, Kamal's format), never decoded here: NULs, invalid
                # UTF-8 and line breaks in a message stay inside the base64.
                f"if [ -d {lock} ]; then echo '!held'; cat {lock}/details 2>/dev/null"
                " || echo '!unreadable'; else echo '!none'; fi",
            )  # fmt: skip
        )
    return sections


def gather_script(app: App, host: str) -> str:
    """The shell script run on ``host``; the lock is read on the primary host only.

    Each docker call is a round trip to the daemon, so the sections run concurrently: each
    captures its output and writes it, marker first, into a named pipe of its own, and one
    ``cat`` of the pipes prints them in a fixed order. Pipes hold no data on disk, so this
    works on a full disk too; where no temporary directory can be made, the sections run one
    after the other. The answer is the same either way.
    """
    sections = _sections(app, host)
    names = [name for name, _ in sections]
    fifos = " ".join(f'"$d/{i}"' for i in range(len(names)))
    lines = [
        f"m() {{ printf '\\n{MARKER} %s\\n' \"$1\"; }}",
        # q: a section's output, every line prefixed, so that no value can forge a marker
        f"q() {{ LC_ALL=C sed 's/^/{CONTENT}/'; }}",
        *(f"s_{name}() {{ {shell}; }}" for name, shell in sections),
        # j NAME PIPE COMMAND...: run COMMAND, then write NAME's marker and output to PIPE
        'j() { n=$1 p=$2; shift 2; o=$("$@" 2>/dev/null); { m "$n"; printf \'%s\\n\' "$o" | q; } > "$p"; }',
        f"if d=$(mktemp -d 2>/dev/null) && mkfifo {fifos} 2>/dev/null; then",
    ]
    for i, name in enumerate(names):
        if name == "containers":
            image_env = names.index("image_env")
            lines.append(
                f'  {{ c=$(s_containers 2>/dev/null); {{ m containers; printf \'%s\\n\' "$c" | q; }} > "$d/{i}";'
                f' printf \'%s\\n\' "$c" | j image_env "$d/{image_env}" s_image_env; }} &'
            )
        elif name != "image_env":
            lines.append(f'  j {name} "$d/{i}" s_{name} &')
    lines += [
        f"  cat {fifos}",
        '  wait; rm -rf "$d"',
        "else",
        '  [ -n "$d" ] && rm -rf "$d"',
        "  c=$(s_containers 2>/dev/null)",
    ]
    for name in names:
        if name == "containers":
            lines.append("  m containers; printf '%s\\n' \"$c\" | q")
        elif name == "image_env":
            lines.append("  m image_env; printf '%s\\n' \"$c\" | s_image_env 2>/dev/null | q")
        else:
            lines.append(f"  m {name}; s_{name} 2>/dev/null | q")
    lines += ["fi", "m end"]
    return "\n".join(lines) + "\n"
