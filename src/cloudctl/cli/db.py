"""`cloudctl db ...`: the database as a whole: its status, verifying its history, backups, and copying it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cloudctl.cli.context import FormatOption, database, say
from cloudctl.cli.render import OutputFormat, render, render_record

app = typer.Typer(no_args_is_help=True)

AcceptBrokenOption = Annotated[
    bool,
    typer.Option(
        "--accept-broken-history",
        help="Go ahead even though the history does not verify (db verify says why): to keep the evidence.",
    ),
]


@app.command("status")
def db_status(ctx: typer.Context, fmt: FormatOption = OutputFormat.table):
    """Show which database cloudctl uses, its schema revision, whether its history verifies, and its rows.

    Also runs the database's quick integrity check. `db verify` checks everything, in full.
    Exits 1, after showing the status, if the integrity check fails or the history does not verify.
    """
    from cloudctl.db.admin import database_status, status_problem
    from cloudctl.db.location import resolve_location
    from cloudctl.db.verify import HistoryBroken
    from cloudctl.errors import NotFound

    location = resolve_location(ctx.find_root().params.get("db"))
    if location.path is not None and not location.path.exists():
        raise NotFound(
            f"There is no database at {location.describe()} yet. Set one up with: cloudctl init --school NAME"
        )
    # Not migrated: status shows the database as it is, even one a newer cloudctl wrote.
    status = database_status(database(ctx, migrate=False))
    _show_status(status, fmt)
    problem = status_problem(status)
    if problem is not None:
        raise HistoryBroken(problem)


def _show_status(status: dict, fmt: OutputFormat) -> None:
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
    shown = {key: value for key, value in status.items() if key not in ("tables", "problems", "damaged")}
    render_record(shown, fmt, title="Database")
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
    accept_broken_history: AcceptBrokenOption = False,
):
    """Back up the SQLite database to FILE while it is in use (readable by you alone).

    The history is verified first: a backup of a history that does not verify is refused
    unless --accept-broken-history. On PostgreSQL, back up with pg_dump instead: this command
    shows how.
    """
    from cloudctl.db.admin import backup_database

    db = database(ctx)
    backup = backup_database(db, file, force=force, accept_broken_history=accept_broken_history)
    if backup.history != "verified":
        say(f"Warning: the history backed up is {backup.history}")
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
    accept_broken_history: AcceptBrokenOption = False,
):
    """Copy the whole register, pupils and consent history into an EMPTY database, e.g. a trust's server.

    The history is verified first (a broken one is refused unless --accept-broken-history).
    Everything goes in one transaction, and the row counts and the history's chain heads are
    checked before it is kept. This database is left as it was.
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
    copied = copy_database(source, target, accept_broken_history=accept_broken_history)
    total = sum(entry.rows for entry in copied.tables)
    render(
        [entry.record() for entry in copied.tables],
        fmt,
        columns=[("table", "Table"), ("rows", "Rows copied")],
        title="Copied",
    )
    use = f"--db {target.path}" if target.path is not None else "CLOUDCTL_DATABASE_URL"
    if copied.history != "verified":
        say(f"Warning: the history copied is {copied.history}")
    say(
        f"Copied {total:,} rows from {source.location.describe()} into {target.describe()}; every table's "
        "row count and the history's chain heads match. This database is unchanged. To use the copy from "
        f"now on, point cloudctl at it ({use})."
    )


@app.command("verify")
def db_verify(
    ctx: typer.Context,
    head: Annotated[
        list[str] | None,
        typer.Option(
            "--head",
            metavar="TABLE=HASH",
            help="A head recorded earlier (e.g. in the governors' minutes), as db verify printed it: it "
            "must still be in its chain, which proves nothing before it changed. Repeat for each table.",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
):
    """Prove the history is as it was recorded, and print each chain's head for the governors' minutes.

    Recomputes the hash chain of every history table (consent decisions, what parents were told,
    risk assessments, UPN changes), checks that the triggers keeping history append-only are in
    place and enabled, and runs the database's own integrity check. Exits 1, naming the first
    broken row of each table, if anything does not verify.
    """
    from cloudctl.db.admin import verify_database
    from cloudctl.db.verify import HistoryBroken, parse_heads

    heads = parse_heads(head or [])
    db = database(ctx)
    result = verify_database(db, heads=heads)
    if fmt == OutputFormat.json:
        render_record(result.record(), fmt)
    else:
        rows = [chain.record() for chain in result.chains]
        render(
            rows,
            fmt,
            columns=[("table", "History"), ("rows", "Rows"), ("state", "State")],
            title="History chains",
            all_keys=["table", "rows", "head", "state"],
        )
        if fmt == OutputFormat.table:
            # One line per chain, as --head takes it back: to copy into the minutes exactly.
            lines = [f"  {chain.table}={chain.head}" for chain in result.chains]
            typer.echo("Heads (record them in the governors' minutes; check later with --head):")
            typer.echo("\n".join(lines))
    for chain in result.chains:
        for recorded, row in chain.recorded.items():
            if row is None:
                continue
            since = chain.rows_after.get(recorded, 0)
            if row == 0:  # the head of the table when it was empty
                say(
                    f"{chain.table}: the recorded head is the start of the chain (0 rows then); "
                    f"{since:,} row(s) recorded since."
                )
            else:
                say(
                    f"{chain.table}: the recorded head is in the chain, at row {row}; "
                    f"{since:,} row(s) recorded since."
                )
    guards = "all present, as written, and enabled" if not result.guard_problems else "NOT all in place"
    say(f"Guards against changing history: {result.guards_checked} checked, {guards}.")
    say(f"Integrity check ({result.integrity_check}): {result.integrity}.")
    if not result.ok:
        raise HistoryBroken(result.failure())
    say(f"History verified: {sum(chain.rows for chain in result.chains):,} rows, every chain intact.")
