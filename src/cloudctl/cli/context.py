"""What every command shares: the database it opens, and common options."""

from __future__ import annotations

import sys
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from cloudctl.cli.render import OutputFormat

if TYPE_CHECKING:
    from cloudctl.db.engine import Database

FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format", "-f", help="table for people; csv or json for other programs.", case_sensitive=False
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force", help="Replace the --out file if it exists (with a new file readable by you alone)."
    ),
]
FailIfAnyOption = Annotated[
    bool,
    typer.Option("--fail-if-any", help="Exit with status 1 when anything is listed (for scheduled jobs)."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="The date to judge by (default today; from 2000 to ten years ahead)."),
]


def check_recorded_by(value: str | None) -> str | None:
    """--recorded-by as given: left out, the login name is recorded; given empty or blank, it is refused
    (a script's unset variable, `--recorded-by "$WHO"`, must not put the login name on the record unseen)."""
    if value is None:
        return None
    from cloudctl.errors import InvalidInput
    from cloudctl.vocab.text import gate_name

    what, hint = "name given with --recorded-by", 'For example --recorded-by "Jane Smith"; or leave '
    hint += "--recorded-by out to record your login name."
    try:
        kept = gate_name(value, what, required=False)
    except InvalidInput:
        # Bad text (a control character, too long): the command's own gate refuses it, and says what the
        # refusal means there (an opt-out's message says how to record the withdrawal all the same).
        return value
    if kept is None:
        gate_name(value, what, required=True, hint=hint)  # raises: empty, or blank once tidied
    return value


RecordedByOption = Annotated[
    str | None,
    typer.Option(
        "--recorded-by", callback=check_recorded_by, help="Who records it (default your login name)."
    ),
]
CategoryOption = Annotated[
    str | None,
    typer.Option(
        "--category", "-c", help="pupil, management, other or statutory: needed when a name is in two."
    ),
]


def database(ctx: typer.Context, *, migrate: bool = True) -> Database:
    """Open the database chosen by --db / CLOUDCTL_DATABASE_URL / CLOUDCTL_DB, at the newest schema."""
    root = ctx.find_root()
    if "database" not in root.meta:
        from cloudctl.db.engine import open_database
        from cloudctl.db.location import resolve_location

        db = open_database(resolve_location(root.params.get("db")), migrate=migrate)
        root.meta["database"] = db
        root.call_on_close(db.dispose)
    return root.meta["database"]


def say(message: str) -> None:
    """A message for the person at the keyboard: stderr, so stdout stays clean data. Any control
    character it quotes (from a name or a file) is shown as a visible escape, never replayed."""
    from cloudctl.vocab.text import for_terminal

    sys.stderr.write(for_terminal(message) + "\n")


def parse_date_option(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    from cloudctl.vocab.dates import parse_date

    return parse_date(value, what=what)


def parse_as_of(value: str | None) -> date:
    """An `--as-of` date: today when not given, else a date from 2000 to ten years ahead.

    Every `--as-of` goes through here, so a typo such as 9999-12-31 is refused with a message
    instead of overflowing the date arithmetic behind the command.
    """
    today = date.today()
    if value is None:
        return today
    from cloudctl.vocab.dates import check_as_of, parse_date

    return check_as_of(parse_date(value, what="as-of date"), today)
