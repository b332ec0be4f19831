"""The `cloudctl` command: global options and the nouns.

Each noun's module is imported, and its Typer commands built, only when that noun is used, so
`cloudctl --help` and `cloudctl service list` pay for one noun rather than all of them and start
about as fast as Typer itself (see benchmarks/startup_and_list.py).
"""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from cloudctl import __version__
from cloudctl.cli import setup
from cloudctl.cli.errors import CloudctlGroup, exit_status_help

# Each noun's sub-app is `app` in `cloudctl.cli.<noun>`; the text is its line in `cloudctl --help`.
NOUNS: dict[str, str] = {
    "provider": "The companies and bodies that provide services.",
    "service": "The register's entries: the services the school uses.",
    "assess": "Risk assessments (DPIAs) and their reviews.",
    "register": "The register document: import it, publish it.",
    "pupil": "Pupils imported from the school's MIS.",
    "consent": "Parents' opt-ins and opt-outs, and their history.",
    "report": "Reports: overdue assessments, the data map, consent.",
    "export": "Minimised exports for providers.",
    "deletion": "Deletions providers must make: requests sent and confirmations.",
    "db": "The database: status, backups, copying to a shared server.",
}


def load_noun(name: str):  # type: ignore[no-untyped-def]
    """One noun's Click group, built exactly as `app.add_typer(sub_app, name=..., help=...)` builds it."""
    module = importlib.import_module(f"cloudctl.cli.{name}")
    wrapper = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False)
    wrapper.add_typer(module.app, name=name, help=NOUNS[name])
    return typer.main.get_group(wrapper).commands[name]


class CloudctlApp(CloudctlGroup):
    """The top-level group: init and demo, then the nouns, each loaded when first asked for."""

    def list_commands(self, ctx):  # type: ignore[no-untyped-def]
        return [*self.commands, *(name for name in NOUNS if name not in self.commands)]

    def get_command(self, ctx, cmd_name):  # type: ignore[no-untyped-def]
        if cmd_name not in self.commands and cmd_name in NOUNS:
            self.commands[cmd_name] = load_noun(cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx, args):  # type: ignore[no-untyped-def]
        if args and args[0] not in self.commands and args[0] not in NOUNS:
            # A misspelt command: load the nouns so that "Did you mean ...?" can suggest them too.
            for name in NOUNS:
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx, formatter):  # type: ignore[no-untyped-def]
        # The nouns' one-line help is known without loading them.
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (name, NOUNS[name] if name in NOUNS else self.commands[name].get_short_help_str(limit))
            for name in names
            if name in NOUNS or not self.commands[name].hidden
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(
    cls=CloudctlApp,
    name="cloudctl",
    help="A school's register of online services, their risk assessments, pupils and parents' consent.",
    epilog=exit_status_help(),
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


def main() -> None:
    app(prog_name="cloudctl")
