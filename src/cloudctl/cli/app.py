"""The `cloudctl` command: global options and the nouns."""

from __future__ import annotations

from typing import Annotated

import typer

from cloudctl import __version__
from cloudctl.cli import assess, consent, db, export, provider, pupil, register, report, service, setup
from cloudctl.cli.errors import CloudctlGroup

app = typer.Typer(
    cls=CloudctlGroup,
    name="cloudctl",
    help="A school's register of online services, their risk assessments, pupils and parents' consent.",
    no_args_is_help=True,
    # Locals can hold pupils' data: never print them.
    pretty_exceptions_show_locals=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"cloudctl {__version__}")
        raise typer.Exit()


@app.callback()
def cloudctl_main(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="The SQLite database file to use (else CLOUDCTL_DATABASE_URL, CLOUDCTL_DB, or the default).",
            metavar="PATH",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show cloudctl's version and stop."
        ),
    ] = False,
) -> None:
    """A school's register of online services, their risk assessments, pupils and parents' consent."""


setup.register_commands(app)
app.add_typer(provider.app, name="provider", help="The companies and bodies that provide services.")
app.add_typer(service.app, name="service", help="The register's entries: the services the school uses.")
app.add_typer(assess.app, name="assess", help="Risk assessments (DPIAs) and their reviews.")
app.add_typer(register.app, name="register", help="The register document: import it, publish it.")
app.add_typer(pupil.app, name="pupil", help="Pupils imported from the school's MIS.")
app.add_typer(consent.app, name="consent", help="Parents' opt-ins and opt-outs, and their history.")
app.add_typer(report.app, name="report", help="Reports: overdue assessments, the data map, consent.")
app.add_typer(export.app, name="export", help="Minimised exports for providers.")
app.add_typer(db.app, name="db", help="The database: status, backups, copying to a shared server.")


def main() -> None:
    app(prog_name="cloudctl")
