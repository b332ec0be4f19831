"""`cloudctl db ...`: the database as a whole: its status, backups, and copying it to a shared server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cloudctl.cli.context import FormatOption, database, say
from cloudctl.cli.render import OutputFormat, render, render_record

app = typer.Typer(no_args_is_help=True)


@app.command("status")
def db_status(ctx: typer.Context, fmt: FormatOption = OutputFormat.table):
    """Show which database cloudctl uses, its schema revision and how many rows each table holds."""
    from cloudctl.db.admin import database_status
    from cloudctl.db.location import resolve_location
    from cloudctl.errors import NotFound

    location = resolve_location(ctx.find_root().params.get("db"))
    if location.path is not None and not location.path.exists():
        raise NotFound(
            f"There is no database at {location.describe()} yet. Set one up with: cloudctl init --school NAME"
        )
    # Not migrated: status shows the database as it is, even one a newer cloudctl wrote.
    status = database_status(database(ctx, migrate=False))
    tables = status["tables"]
    if fmt == OutputFormat.csv:
        rows = [
            {
                "backend": status["backend"],
                "location": status["location"],
                "schema_revision": status["schema_revision"],
                **row,
            }
            for row in tables
        ]
        render(rows, fmt, all_keys=["backend", "location", "schema_revision", "table", "rows"])
        return
    if fmt == OutputFormat.json:
        render_record(status, fmt)
        return
    render_record({key: value for key, value in status.items() if key != "tables"}, fmt, title="Database")
    render(
        tables,
        fmt,
        columns=[("table", "Table"), ("rows", "Rows")],
        title="Rows",
        empty="The database has no tables yet: cloudctl creates them when a command first uses it.",
    )


@app.command("backup")
def db_backup(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="The file to write the backup to, e.g. cloudctl-2026-11-29.db.")
    ],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it already exists.")] = False,
):
    """Back up the SQLite database to FILE while it is in use (readable by you alone).

    On PostgreSQL, back up with pg_dump instead: this command shows how.
    """
    from cloudctl.db.admin import backup_database

    db = database(ctx)
    backup = backup_database(db, file, force=force)
    say(
        f"Backed up {db.location.describe()} to {backup.path} ({backup.size:,} bytes, readable by you "
        "alone). Keep it somewhere as safe as the database: it holds pupils' data."
    )


@app.command("copy")
def db_copy(
    ctx: typer.Context,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The empty database to copy into: a URL (postgresql+psycopg://user@host/db) or a file.",
            metavar="URL",
        ),
    ],
    fmt: FormatOption = OutputFormat.table,
):
    """Copy the whole register, pupils and consent history into an EMPTY database, e.g. a trust's server.

    Everything goes in one transaction, and the row counts are checked before it is kept.
    This database is left as it was.
    """
    from cloudctl.db.admin import copy_database
    from cloudctl.db.location import location_from_url_or_path
    from cloudctl.errors import InvalidInput

    if not to.strip():
        raise InvalidInput(
            "Give the database to copy into with --to, e.g. --to postgresql+psycopg://user@host/db"
        )
    target = location_from_url_or_path(to)
    source = database(ctx)
    copied = copy_database(source, target)
    total = sum(entry.rows for entry in copied)
    render(
        [entry.record() for entry in copied],
        fmt,
        columns=[("table", "Table"), ("rows", "Rows copied")],
        title="Copied",
    )
    use = f"--db {target.path}" if target.path is not None else "CLOUDCTL_DATABASE_URL"
    say(
        f"Copied {total:,} rows from {source.location.describe()} into {target.describe()}; every table's "
        f"row count matches. This database is unchanged. To use the copy from now on, point cloudctl at it "
        f"({use})."
    )
