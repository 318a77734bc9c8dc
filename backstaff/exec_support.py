"""What ``app exec``, ``accessory exec`` and ``server exec`` share: the command line from its
words, ``-e`` pairs, the registry login Kamal does before a new container, the audit line it
appends before a non-interactive command, and an interactive command (``-i``) joined to the
local terminal with its exit status as backstaff's."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import click

from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.gather import ConnectionPool
from backstaff.executors.interactive import run_interactive
from backstaff.executors.ssh import SshError
from backstaff.planner import operations
from backstaff.planner.commands.base import Cmd, join
from backstaff.planner.commands.host import audit_append
from backstaff.planner.commands.words import AND
from backstaff.planner.model import App, Pairs
from backstaff.planner.render import mask
from backstaff.planner.steps import Upload
from backstaff.planning import connection_pool
from backstaff.runtime import audit_lines, make_runtime
from backstaff.schemas.shell_words import shell_words

NO_COMMAND = "No command provided. You must specify a command to execute."


def command_line(words: Iterable[str], *, split: bool = True) -> str:
    """Kamal's ``join_commands``: the words, each stripped, joined by spaces. With ``split``,
    the line must split into words as a shell would (the builders hand each word on as data)."""
    line = " ".join(word.strip() for word in words)
    if not line.strip():
        raise BackstaffError(NO_COMMAND)
    if split:
        try:
            shell_words(line)
        except ValueError as exc:
            raise BackstaffError(f"cannot split the command into words: {exc}") from None
    return line


def env_pairs(values: Iterable[str]) -> Pairs:
    """``-e KEY=VALUE`` (or Kamal's ``KEY:VALUE``), split at the first ``=`` or ``:``."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        cut = min((i for i in (value.find("="), value.find(":")) if i > 0), default=-1)
        if cut < 0:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="'-e' / '--env'")
        pairs.append((value[:cut], value[cut + 1 :]))
    return tuple(pairs)


def local_terminal() -> bool:
    """Whether stdin is a terminal: ``-it`` and a pty then, ``-i`` without (Kamal's choice)."""
    return sys.stdin.isatty()


def registry_login(ctx: AppContext, app: App, pool: ConnectionPool, hosts: Iterable[str]) -> None:
    """Kamal logs the hosts in to the registry before a new container runs (its image may
    need a pull), all hosts at once; the secrets go on stdin."""
    if app.registry.local:
        return
    secret = make_runtime(ctx, app, pool, "exec").secret
    logins = {host: operations.registry_login(app, host) for host in hosts}
    stdins = {host: "".join(secret(name) + "\n" for name in step.stdin_secrets)
              for host, step in logins.items()}  # fmt: skip

    def login(host: str) -> str | None:
        """Why the host could not log in, if it could not."""
        for command in logins[host].commands:
            if isinstance(command, Upload):
                continue
            try:
                result = pool.get(host).run(join(command), timeout=300, stdin=stdins[host])
            except SshError as exc:
                return str(exc)
            if not result.ok:
                reason = mask(result.stderr.strip() or result.stdout.strip(),
                              ctx.resolved_secret_values())  # fmt: skip
                return f"{host}: registry login failed: {reason}"
        return None

    for _, error in pool.each_host(logins, login):
        if error is not None:
            raise BackstaffError(error)


def auditor(ctx: AppContext, app: App) -> Callable[..., Cmd]:
    """Kamal's ``auditor.record`` before a non-interactive exec, in the same SSH command: the
    line appended to the host's audit log, then the command, which does not run when the line
    cannot be written (Kamal's ``execute`` raises, and its exec does not run either)."""
    line = audit_lines(ctx, app)

    def audited(message: str, command: Cmd, role: str | None = None) -> Cmd:
        return (*audit_append(app, line(message, role)), AND, *command)

    return audited


@contextmanager
def host_connections(ctx: AppContext, app: App) -> Iterator[ConnectionPool]:
    """One connection per host for a whole exec: its registry login, its question and its
    command go through the same connection, as Kamal's SSHKit pool reuses it."""
    pool = connection_pool(ctx, app)
    try:
        yield pool
    finally:
        pool.close()


def answer_on(pool: ConnectionPool, host: str, command: Cmd) -> str:
    """What ``command`` prints on ``host`` (stripped; nothing when it fails)."""
    try:
        result = pool.get(host).run(join(command), timeout=300)
    except SshError as exc:
        raise BackstaffError(str(exc)) from None
    return result.stdout.strip() if result.ok else ""


def run_interactive_on(
    ctx: AppContext, app: App, host: str, command: Cmd, *, message: str, login: bool = False,
    require: tuple[Cmd, str] | None = None,
) -> None:  # fmt: skip
    """Run ``command`` on ``host`` joined to the local terminal (Kamal's ``ssh -t``), then exit
    with its status. ``login``: log the host in to the registry first; ``require``: a command
    whose output must not be empty first, and the error when it is."""
    if not ctx.options.quiet:
        click.echo(message)
    pool = connection_pool(ctx, app)
    try:
        if login:
            registry_login(ctx, app, pool, [host])
        connection = pool.get(host)
        if require is not None:
            check, error = require
            if not connection.run(join(check), timeout=300).stdout.strip():
                raise BackstaffError(error)
        status = run_interactive(connection, join(command))
    except SshError as exc:
        raise BackstaffError(str(exc)) from None
    finally:
        pool.close()
    if status:
        click.get_current_context().exit(status)
