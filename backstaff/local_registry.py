"""The registry on this machine, as Kamal's ``registry`` commands run it locally: log in
(the password on stdin, never on the command line) or out, and the local registry container
of a ``localhost:PORT`` registry."""

from __future__ import annotations

from backstaff.context import AppContext
from backstaff.errors import BackstaffError
from backstaff.executors.local import LocalCommandFailed, available, run_local
from backstaff.planner.commands.base import Cmd
from backstaff.planner.commands.host import login, login_stdin_secrets, logout
from backstaff.planner.model import Registry
from backstaff.runtime import config_value


def _run(ctx: AppContext, command: Cmd, stdin: str | None = None, tolerate: bool = False) -> None:
    if not available(("docker", "--version")):
        raise BackstaffError("Docker is not installed locally")
    try:
        run_local(command, cwd=str(ctx.cwd), stdin=stdin, echo=ctx.options.verbose)
    except LocalCommandFailed as exc:
        if not tolerate:
            raise BackstaffError(f"locally: {exc}") from None


def login_locally(ctx: AppContext, registry: Registry) -> None:
    """``docker login`` here: the username (when a secret) and the password on stdin."""

    def secret(name: str) -> str:
        if name.startswith("<") and name.endswith("/password>"):  # a literal in deploy.yml
            return config_value(ctx.config.data, name[1:-1])
        return ctx.secrets[name]

    _run(ctx, login(registry), "".join(secret(n) + "\n" for n in login_stdin_secrets(registry)))


def logout_locally(ctx: AppContext, registry: Registry) -> None:
    _run(ctx, logout(registry))


def run_container_command(ctx: AppContext, command: Cmd, tolerate: bool = False) -> None:
    """A command of the local registry container (``registry setup|remove``)."""
    _run(ctx, command, tolerate=tolerate)
