"""The backstaff command line: global options as Kamal has them, subcommands, one error funnel."""

from __future__ import annotations

import logging
import sys

import click

from backstaff import __version__
from backstaff.aliases import expand as expand_aliases
from backstaff.context import AppContext, Options
from backstaff.errors import EXPECTED, BackstaffError, ExitStatus, report
from backstaff.global_options import GlobalOptionsGroup, root_options, thor_flag
from backstaff.help_commands import tree
from backstaff.init_files import init_project
from backstaff.planner.config_view import config_view, render_config_view
from backstaff.planner.desired import build_desired
from backstaff.schemas import docs as schema_docs

pass_app = click.make_pass_decorator(AppContext)


@click.group(cls=GlobalOptionsGroup, context_settings={"help_option_names": ["--help"]})
@root_options
@click.pass_context
def cli(ctx: click.Context, **options: object) -> None:  # noqa: D103
    """backstaff: plan and apply Kamal 2 deployments."""
    ctx.obj = AppContext(Options(**options))  # type: ignore[arg-type]


# A prefix is read among Kamal's commands first (``ap`` is app, ``v`` version): Kamal's habits.
cli.backstaff_only = frozenset({"apply", "drift", "plan", "refresh", "show", "validate"})


@cli.command()
@click.option("--show-secrets", is_flag=True, help="Print secret values instead of masking them.")
@pass_app
def config(app: AppContext, show_secrets: bool) -> None:
    """Show the resolved configuration (secrets masked)."""
    reveal = (lambda name: app.secrets[name]) if show_secrets else None
    view = config_view(app.app, app.config.data, reveal)
    click.echo(render_config_view(view), nl=False)


@cli.command()
@pass_app
def validate(app: AppContext) -> None:
    """Check the config; exit 0 when valid, 1 with every error listed."""
    loaded = app.config
    desired = build_desired(loaded, "validate")  # the version plays no part in validity
    if not app.options.quiet:
        where = f" (destination {loaded.destination})" if loaded.destination else ""
        click.echo(
            f"Configuration is valid{where}: {len(desired.roles)} role(s), "
            f"{len(desired.accessories)} accessory(ies), {len(desired.all_hosts)} host(s)."
        )


BUNDLE_REFUSED = (
    "init --bundle is not supported: Kamal's --bundle runs `bundle add kamal` and `bundle"
    " binstubs kamal` to put the Kamal Ruby gem in the Gemfile and make bin/kamal; backstaff is"
    " a Python package (pin it in your requirements instead). Nothing was created."
)


@cli.command()
@click.option(
    *thor_flag("--bundle"),
    default=False,
    help="Kamal's Gemfile binstub: refused (see the message).",
)
@pass_app
def init(app: AppContext, bundle: bool) -> None:
    """Create config/deploy.yml, .kamal/secrets and sample hooks (never overwrites)."""
    if bundle:
        raise BackstaffError(BUNDLE_REFUSED)
    for path, created in init_project(app.cwd):
        if created:
            click.echo(f"Created {path}")
        else:
            click.echo(f"{path} already exists, left unchanged")


@cli.command()
@click.argument("section", required=False)
def docs(section: str | None) -> None:
    """Show the configuration reference, or one SECTION of it."""
    if section is None:
        click.echo("Sections: " + ", ".join(schema_docs.section_names()))
        click.echo("Run `backstaff docs SECTION` for one of them.")
        return
    text = schema_docs.render_section(section)
    if text is None:
        raise click.ClickException(
            f"No documentation found for {section} (one of: {', '.join(schema_docs.section_names())})"
        )
    click.echo(text, nl=False)


from backstaff.commands_accessory import accessory  # noqa: E402
from backstaff.commands_app import app  # noqa: E402
from backstaff.commands_apply import apply, deploy, lock, redeploy, rollback, setup  # noqa: E402
from backstaff.commands_build import build  # noqa: E402
from backstaff.commands_ops import audit, prune, registry, remove, server  # noqa: E402
from backstaff.commands_plan import details, drift, plan, refresh, show  # noqa: E402
from backstaff.commands_proxy import proxy  # noqa: E402
from backstaff.commands_secrets import secrets  # noqa: E402
from backstaff.commands_upgrade import upgrade  # noqa: E402

for command in (apply, deploy, redeploy, setup, rollback, lock, app, accessory, proxy, registry,
                prune, server, audit, remove, secrets, build):  # fmt: skip
    cli.add_command(command)
cli.add_command(plan)
cli.add_command(tree)
cli.add_command(drift)
cli.add_command(details)
cli.add_command(upgrade)
cli.add_command(show)
cli.add_command(refresh)


@cli.command("version")
def version_command() -> None:
    """Show the backstaff version."""
    click.echo(__version__)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: expected errors become messages and exit codes."""
    args = list(sys.argv[1:] if argv is None else argv)
    if _verbose(args):  # library log lines (paramiko's) only with -v
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    try:
        args = expand_aliases(args, set(cli.commands))
        code = cli.main(args=args, prog_name="backstaff", standalone_mode=False)
        if isinstance(code, int) and code:
            return code  # ctx.exit(code): --detailed-exitcode, drift
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return ExitStatus.INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        # A usage error is an error (1), as in Kamal and Terraform: click's 2 would read as
        # "changes" to `plan --detailed-exitcode` and as "drift" to `drift` in CI.
        return ExitStatus.ERROR if exc.exit_code == 2 else exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return ExitStatus.INTERRUPTED
    except EXPECTED as exc:
        return report(exc, _verbose(argv))
    except Exception as exc:  # noqa: BLE001 - last resort: a message, not a traceback
        return report(exc, _verbose(argv))
    return ExitStatus.OK


def _verbose(argv: list[str] | None) -> bool:
    args = sys.argv[1:] if argv is None else argv
    return "-v" in args or "--verbose" in args
