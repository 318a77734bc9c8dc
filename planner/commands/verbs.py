"""Builders for Kamal's imperative verbs (app, accessory, proxy, registry, prune, audit)."""

from __future__ import annotations

from backstaff.planner.commands import accessory as accessory_cmd
from backstaff.planner.commands import logs
from backstaff.planner.commands.app import command_words
from backstaff.planner.commands.base import Cmd, argumentize, optionize, pipe
from backstaff.planner.commands.words import (
    END_GROUP,
    GROUP,
    PIPE,
    SEMI,
    STDERR_TO_STDOUT,
    Cat,
    Raw,
    Sub,
    Val,
    Word,
)
from backstaff.planner.model import Accessory, App, Pairs, Role


def role_filters(app: App, role: Role) -> Cmd:
    return ("--filter", Val(f"label=service={app.service}"), "--filter",
            Val(f"label=destination={app.destination or ''}"), "--filter", Val(f"label=role={role.name}"))  # fmt: skip


def current_container_id(app: App, role: Role) -> Cmd:
    """The role's current container (Kamal's ``current_running_container_id``)."""
    return _current_container(app, role, "--quiet")


def current_container_name(app: App, role: Role) -> Cmd:
    """The name of that container: the role's container prefix, a dash, its version."""
    return _current_container(app, role, "--format", Val("{{.Names}}"))


def _current_container(app: App, role: Role, *output: Word) -> Cmd:
    """As Kamal finds it: the newest running container of the role whose image is the
    ``latest`` tag (the version deployed last), else the newest running container of the role
    (two can run at once: a rollback's, an ``app boot --version``'s)."""
    newest: Cmd = ("docker", "ps", "--latest", *output, *role_filters(app, role),
                   "--filter", "status=running", "--filter", "status=restarting")  # fmt: skip
    latest_image: Cmd = ("docker", "image", "ls", "--filter", Val(f"reference={app.latest_image}"),
                         "--format", Val("{{.ID}}"))  # fmt: skip
    on_latest = (*newest, "--filter", Cat((Val("ancestor="), Sub(latest_image))))
    return (GROUP, *on_latest, SEMI, *newest, SEMI, END_GROUP, PIPE, "head", "-1")


def app_details(app: App, role: Role) -> Cmd:
    return ("docker", "ps", *role_filters(app, role))


def app_containers(app: App) -> Cmd:
    return ("docker", "container", "ls", "--all", "--filter", Val(f"label=service={app.service}"),
            "--filter", Val(f"label=destination={app.destination or ''}"))  # fmt: skip


def app_images(app: App) -> Cmd:
    return ("docker", "image", "ls", Val(app.repository))


def app_logs(
    app: App, role: Role, lines: int | None = None, grep: str | None = None, *,
    since: str | None = None, grep_options: str | None = None, timestamps: bool = True,
    follow: bool = False, container_id: str | None = None,
) -> Cmd:  # fmt: skip
    """Kamal's ``app logs``: the current container's (or ``container_id``'s) log, the last
    ``lines`` (default 100, or 10 when following, none when --since or --grep chooses), then
    ``--follow`` when following (where Kamal 2.11 drops --since; it is kept here)."""
    tail = logs.tail(lines, since, grep, logs.FOLLOW_LINES if follow else logs.LINES)
    flags = (*logs.timestamps_words(timestamps), *logs.since_words(since), *logs.tail_words(tail),
             *(("--follow",) if follow else ()))  # fmt: skip
    if container_id is not None:
        command: Cmd = ("docker", "logs", *flags, Val(container_id), STDERR_TO_STDOUT)
    else:
        command = pipe(current_container_id(app, role),
                       ("xargs", "docker", "logs", *flags, STDERR_TO_STDOUT))  # fmt: skip
    return logs.filtered(command, grep, grep_options)


def app_stop(app: App, role: Role) -> Cmd:
    stop: Cmd = ("xargs", "docker", "stop")
    if not role.proxy:
        stop += ("-t", str(int(app.drain_timeout)))
    return pipe(current_container_id(app, role), stop)


def app_start_latest(app: App, role: Role) -> Cmd:
    latest = ("docker", "ps", "--all", "--latest", "--quiet", *role_filters(app, role))
    return ("docker", "start", Sub(latest))


def app_remove_containers(app: App, role: Role) -> Cmd:
    return ("docker", "container", "prune", "--force", *role_filters(app, role))


def app_remove_images(app: App) -> Cmd:
    return (
        "docker",
        "image",
        "prune",
        "--all",
        "--force",
        "--filter",
        Val(f"label=service={app.service}"),
    )


def interactive_flags(interactive: bool, tty: bool) -> Cmd:
    """Kamal's ``docker_interactive_args``: ``-it`` when the local stdin is a terminal, else
    ``-i`` (stdin still reaches the command); nothing for a command that is not interactive."""
    if not interactive:
        return ()
    return ("-it",) if tty else ("-i",)


def exec_container_name(role: Role, version: str, suffix: str) -> str:
    """Kamal's ``container_name_for_exec``: ``<prefix>-exec-<version>-<6 hex>``."""
    return f"{role.container_prefix}-exec-{version}-{suffix}"


def app_exec(
    app: App, role: Role, host: str, command: str, *, suffix: str, env: Pairs = (),
    interactive: bool = False, tty: bool = True, detach: bool = False,
) -> Cmd:  # fmt: skip
    """Kamal's ``execute_in_new_container``: a new container of ``app.version`` with the
    role's env, logging, volumes and options, removed when it ends (kept with ``detach``)."""
    role_env = app.env_for(role, host)
    tokens: list[Word] = ["docker", "run", *interactive_flags(interactive, tty)]
    tokens += ["--detach"] if detach else ["--rm"]
    tokens += ["--name", Val(exec_container_name(role, app.version, suffix)), "--network", "kamal"]
    tokens += argumentize("--env", role_env.clear)
    tokens += ["--env-file", Val(role.env_file)]
    tokens += argumentize("--env", env)
    for flag, value in role.logging:
        tokens += [flag, Val(value)]
    for volume in app.volumes:
        tokens += ["--volume", Val(volume)]
    tokens += optionize(role.options)
    return (*tokens, Val(app.image), *_exec_words(command))


def _exec_words(command: str) -> Cmd:
    """The command given to ``exec``, split into words as the host's shell splits Kamal's;
    each word then reaches the container exactly (nothing is expanded on the host)."""
    return command_words(command)


def app_exec_reuse(
    app: App, role: Role, command: str, *, env: Pairs = (), interactive: bool = False,
    tty: bool = True, version: str | None = None,
) -> Cmd:  # fmt: skip
    """Kamal's ``execute_in_existing_container``: ``docker exec`` in the role's current
    container (the one of ``version`` when given)."""
    container: Word = Sub(current_container_id(app, role))
    if version:
        container = Val(role.container_name(version))
    return ("docker", "exec", *interactive_flags(interactive, tty), *argumentize("--env", env),
            container, *_exec_words(command))  # fmt: skip


def proxy_maintenance(
    app: App, role: Role, message: str | None, drain_timeout: int | None = None
) -> Cmd:
    """``app maintenance``: ``drain_timeout`` overrides the config's, as Kamal's option does."""
    drain = app.drain_timeout if drain_timeout is None else drain_timeout
    tokens: Cmd = ("docker", "exec", "kamal-proxy", "kamal-proxy", "stop", Val(role.container_prefix),
                   f"--drain-timeout={int(drain)}s")  # fmt: skip
    return tokens + ((Val(f"--message={message}"),) if message else ())


def proxy_live(role: Role) -> Cmd:
    return ("docker", "exec", "kamal-proxy", "kamal-proxy", "resume", Val(role.container_prefix))


def remove_app_directories(app: App) -> tuple[Cmd, ...]:
    return (("rm", "-rf", Val(app.app_directory)),
            ("rm", "-rf", Val(f".kamal/proxy/apps-config/{app.service_with_destination}")))  # fmt: skip


def accessory_details(accessory: Accessory) -> Cmd:
    return ("docker", "ps", "--filter", Val(f"label=service={accessory.service_name}"))


def accessory_logs(
    accessory: Accessory, lines: int | None = None, grep: str | None = None, *,
    since: str | None = None, grep_options: str | None = None, timestamps: bool = True,
    follow: bool = False,
) -> Cmd:  # fmt: skip
    """Kamal's ``accessory logs`` (see ``logs.container_logs``)."""
    name = Val(accessory.service_name)
    return logs.container_logs(name, lines, since, grep, grep_options, timestamps, follow)


def accessory_exec(
    accessory: Accessory, command: str, *, interactive: bool = False, tty: bool = True
) -> Cmd:
    """Kamal's accessory ``execute_in_existing_container`` (``exec --reuse``)."""
    return ("docker", "exec", *interactive_flags(interactive, tty), Val(accessory.service_name),
            *_exec_words(command))  # fmt: skip


def accessory_exec_new(
    accessory: Accessory, command: str, *, interactive: bool = False, tty: bool = True
) -> Cmd:
    """Kamal's accessory ``execute_in_new_container``: the accessory's image with its network,
    env, volumes and options, removed when the command ends."""
    tokens: list[Word] = ["docker", "run", *interactive_flags(interactive, tty), "--rm",
                          "--network", Val(accessory.network)]  # fmt: skip
    tokens += argumentize("--env", accessory.env.clear)
    tokens += ["--env-file", Val(accessory.env_file)]
    tokens += accessory_cmd.volume_args(accessory)
    tokens += optionize(accessory.options)
    return (*tokens, Val(accessory.image), *_exec_words(command))


def audit_tail(app: App, lines: int = 50) -> Cmd:
    return ("tail", "-n", str(int(lines)), Val(app.audit_log), Raw("2>/dev/null"))


def host_shell(command: str) -> Cmd:
    """``server exec``: the user's command line, run by the host's shell (its whole point),
    handed to ``sh -c`` as one word so nothing else is added to it."""
    return ("sh", "-c", Val(command))
