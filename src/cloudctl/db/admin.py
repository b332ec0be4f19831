"""Looking after the database as a whole: its status, backups, and copying it into another database.

`copy_database` is how a school joins its trust's shared register: everything in the
school's SQLite file (or any cloudctl database) goes into an empty PostgreSQL database
(or SQLite file) in one transaction, ids and history intact, and the row counts are
checked before it commits.

Backups and copies carry the history on, so both verify it first (cloudctl.db.verify) and
refuse a history that does not verify unless told to keep it anyway.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, DateTime, Integer, MetaData, Table, func, inspect, select, text
from sqlalchemy.exc import DBAPIError

from cloudctl.db.engine import Database, backup_sqlite, describe_connection_error, open_database
from cloudctl.db.location import DatabaseLocation
from cloudctl.db.schema_version import HEAD_REVISION
from cloudctl.db.verify import HistoryBroken, Verification, check_integrity, verify_history
from cloudctl.errors import Conflict, DatabaseUnavailable, InvalidInput, RuleRefused
from cloudctl.files import check_output_path, new_partial_path

VERSION_TABLE = "alembic_version"
COPY_CHUNK_ROWS = 1000


# --- status ---------------------------------------------------------------------------------------


def read_revision(connection: Connection) -> str | None:
    """The schema revision the database is at, or None for a database cloudctl has not set up."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def data_tables(connection: Connection) -> list[Table]:
    """cloudctl's tables as they are in the database, parents before children (foreign-key order)."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    return [table for table in metadata.sorted_tables if table.name != VERSION_TABLE]


def count_rows(connection: Connection, table: Table) -> int:
    return connection.execute(select(func.count()).select_from(table)).scalar_one()


def server_version(connection: Connection) -> str:
    if connection.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    if connection.dialect.name == "postgresql":
        return f"PostgreSQL {connection.execute(text('SHOW server_version')).scalar()}"
    return connection.dialect.name


def schema_state(revision: str | None) -> str:
    from cloudctl.db.migrate import known_revisions

    if revision == HEAD_REVISION:
        return "up to date"
    if revision is None:
        return "not set up yet: cloudctl sets it up when a command first uses it"
    if revision in known_revisions():
        return f"older: cloudctl upgrades it to {HEAD_REVISION} when a command next uses it"
    return "newer than this cloudctl: upgrade cloudctl to use it"


def database_status(db: Database) -> dict:
    """Which database this is, its schema revision, whether its history verifies (with the engine's
    quick integrity check), and how many rows each table holds."""
    with _reading_snapshot(db) as connection:
        revision = read_revision(connection)
        if revision == HEAD_REVISION:
            verification = verify_history(connection, integrity="quick")
            history = verification.summary()
        else:
            verification = None
            history = (
                "not checked: the schema is not the newest (cloudctl seals the history when it upgrades it)"
                if revision is not None
                else "not checked: the database is not set up yet"
            )
        if verification is None:
            verification = check_integrity(connection, quick=True)
        integrity = verification.integrity
        counts = [
            {"table": table.name, "rows": count_rows(connection, table)} for table in data_tables(connection)
        ]
        server = server_version(connection)
    counts.sort(key=lambda row: row["table"])
    return {
        "backend": db.backend,
        "location": db.location.describe(),
        "server": server,
        "schema_revision": revision,
        "newest_revision": HEAD_REVISION,
        "schema": schema_state(revision),
        "history": history,
        "integrity": integrity,
        "total_rows": sum(row["rows"] for row in counts),
        # Everything wrong (the integrity check's finding first): empty for a sound database.
        "problems": verification.problems,
        "damaged": verification.integrity_problem is not None,
        "tables": counts,
    }


def status_problem(status: dict) -> str | None:
    """Why `db status` exits 1 (after showing the status): a damaged file or a history that does not
    verify. None when neither."""
    if not status["problems"]:
        return None
    if status["damaged"]:
        return (
            f"The database file is damaged (integrity: {status['integrity']}). Restore the latest backup "
            "that verifies (cloudctl --db BACKUP db verify); to keep this file as evidence first, copy it "
            "as it is with a plain file copy (cp). See docs/history.md."
        )
    return (
        f"The history does not verify: {status['problems'][0]} Run cloudctl db verify for every problem "
        "and what to do (docs/history.md)."
    )


def damaged_refusal(verification: Verification, location: DatabaseLocation, what: str) -> str:
    """Why no backup or copy is made of a damaged database, and what to do instead."""
    if location.path is not None:
        keep = (
            "To keep it as evidence, copy the file as it is with a plain file copy, e.g. "
            f"cp {location.path} {location.path.name}.damaged (while nobody is using cloudctl)."
        )
    else:
        keep = "Ask the server's administrator to keep the damaged database as evidence."
    return (
        f"{verification.integrity_problem}\nSo no {what} of {location.describe()} was made: a {what} of a "
        f"damaged database may silently lose records, and --accept-broken-history does not help. Restore "
        f"the latest backup that verifies (cloudctl --db BACKUP db verify). {keep}"
    )


def history_before_keeping(
    connection: Connection, location: DatabaseLocation, what: str, *, accept_broken: bool
) -> Verification:
    """Verify the history before a backup or copy (`what`) carries it on: refuse it broken unless accepted."""
    verification = verify_history(connection, integrity="quick")
    if verification.integrity_problem is not None:
        # Damage is not a question of trust that --accept-broken-history can answer: restore instead.
        raise HistoryBroken(damaged_refusal(verification, location, what))
    if not verification.ok and not accept_broken:
        raise HistoryBroken(
            f"{verification.failure()}\nSo no {what} of {location.describe()} was made: it would carry the "
            "broken history on as if it were sound. To make one anyway (to keep as evidence, apart from "
            "your good backups), add --accept-broken-history."
        )
    return verification


# --- verify ---------------------------------------------------------------------------------------


def verify_database(db: Database, *, heads: dict[str, list[str]] | None = None) -> Verification:
    """Recompute every history chain, check the guards and run the engine's full integrity check,
    all on one snapshot of the database. `heads` are heads recorded earlier, per table."""
    with _reading_snapshot(db) as connection:
        return verify_history(connection, integrity="full", heads=heads)


# --- backup ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    # The verification of the history backed up: "verified", or what was broken and accepted.
    history: str = "verified"


def pg_dump_example(location: DatabaseLocation) -> str:
    """A pg_dump command for this database, without its password (pg_dump asks, or reads ~/.pgpass)."""
    from sqlalchemy.engine import make_url

    url = make_url(location.url)
    parts = ["pg_dump", "--format=custom", "--file=cloudctl-$(date +%F).dump"]
    if url.host:
        parts.append(f"--host={url.host}")
    if url.port:
        parts.append(f"--port={url.port}")
    if url.username:
        parts.append(f"--username={url.username}")
    parts.append(url.database or "cloudctl")
    return " ".join(parts)


def backup_database(
    db: Database, target: Path, *, force: bool = False, accept_broken_history: bool = False
) -> Backup:
    """Copy the live SQLite database to `target` with SQLite's online backup API (mode 0600).

    The history is verified first: a broken one is refused unless `accept_broken_history`.
    """
    if db.location.path is None:
        raise RuleRefused(
            "cloudctl db backup copies an SQLite database file, and this database is on a PostgreSQL "
            "server. Back it up with PostgreSQL's own pg_dump, for example:\n"
            f"  {pg_dump_example(db.location)}\n"
            "and restore it with pg_restore (see docs/postgresql.md)."
        )
    target = target.expanduser().absolute()
    source = db.location.path
    if target.resolve() in {
        source.resolve(),
        *(source.with_name(source.name + s).resolve() for s in ("-wal", "-shm")),
    }:
        raise InvalidInput(f"{target} is the database itself: give the backup another file name.")
    # A folder, a device or a pipe is refused even with --force; an existing file needs --force and is
    # then replaced by the new backup file, never written into or re-permissioned.
    check_output_path(target, force=force, what="backup")
    with _reading_snapshot(db) as connection:
        verification = history_before_keeping(
            connection, db.location, "backup", accept_broken=accept_broken_history
        )
    # Written beside the target and renamed into place, so a failed backup never leaves half a file
    # where a good one was.
    partial = new_partial_path(target)
    try:
        backup_sqlite(db.engine, partial)
        check_backup(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(path=target, size=target.stat().st_size, history=verification.summary())


def check_backup(path: Path) -> None:
    connection = sqlite3.connect(path)
    try:
        verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        connection.close()
    if verdict != "ok":
        raise DatabaseUnavailable(
            f"The backup did not check out ({verdict}), so it was not kept. Run the backup again; "
            "if it fails again, the database file itself may be damaged."
        )


# --- copy -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CopiedTable:
    table: str
    rows: int

    def record(self) -> dict:
        return {"table": self.table, "rows": self.rows}


def same_database(one: DatabaseLocation, other: DatabaseLocation) -> bool:
    if one.path is not None and other.path is not None:
        return one.path.resolve() == other.path.resolve()
    return one.url == other.url


@dataclass(frozen=True)
class Copied:
    tables: list[CopiedTable]
    # The verification of the history copied: "verified", or what was broken and accepted.
    history: str


def copy_database(
    source: Database, target_location: DatabaseLocation, *, accept_broken_history: bool = False
) -> Copied:
    """Copy every row of `source` into the empty database at `target_location`, in one transaction.

    The source's history is verified first (a broken one is refused unless `accept_broken_history`).
    The target is brought to the newest schema first and must hold no rows. Tables go over
    parent before child, ids kept, so every consent event still points at its pupil and
    service. PostgreSQL's id sequences are then moved past the copied ids. The row counts,
    and the history's chain heads, are compared before committing: on any difference, or any
    error, nothing is kept.
    """
    if same_database(source.location, target_location):
        raise InvalidInput(
            "That is the database cloudctl is using now: give --to a different, empty database."
        )
    new_file = target_location.path is not None and not target_location.path.exists()
    try:
        target = open_database(target_location)
        try:
            return _copy_rows(source, target, accept_broken_history=accept_broken_history)
        finally:
            target.dispose()
    except BaseException:
        if new_file:
            assert target_location.path is not None
            for suffix in ("", "-wal", "-shm", "-journal"):
                target_location.path.with_name(target_location.path.name + suffix).unlink(missing_ok=True)
        raise


def _copy_rows(source: Database, target: Database, *, accept_broken_history: bool) -> Copied:
    with _reading_snapshot(source) as reader:
        source_revision = read_revision(reader)
        history = history_before_keeping(reader, source.location, "copy", accept_broken=accept_broken_history)
        source_tables = {table.name: table for table in data_tables(reader)}
        source_counts = {name: count_rows(reader, table) for name, table in source_tables.items()}
        if not any(source_counts.values()):
            raise InvalidInput(
                f"The database {source.location.describe()} holds no records, so there is nothing to copy. "
                "Choose the school's database with --db PATH (or CLOUDCTL_DATABASE_URL)."
            )
        where = target.location.describe()
        with _blamed_on(target.location, "Nothing was copied"), target.write() as session:
            writer = session.connection()
            if read_revision(writer) != source_revision:
                raise DatabaseUnavailable(
                    f"{where} is at schema revision {read_revision(writer)} and this database at "
                    f"{source_revision}: use the same version of cloudctl for both."
                )
            tables = data_tables(writer)
            _refuse_if_not_empty(writer, tables, where)
            if sorted(source_tables) != sorted(table.name for table in tables):
                raise DatabaseUnavailable(
                    f"The tables of {where} differ from this database's, although both are at schema "
                    f"revision {source_revision}: was one of them changed by hand? Nothing was copied."
                )
            for table in tables:
                _copy_table(
                    reader, source_tables[table.name], writer, table, source.location, target.location
                )
            if writer.dialect.name == "postgresql":
                _move_sequences_past_copied_ids(writer, tables)
            copied = [CopiedTable(table.name, count_rows(writer, table)) for table in tables]
            wrong = [entry for entry in copied if entry.rows != source_counts[entry.table]]
            if wrong:
                detail = ", ".join(f"{e.table}: {e.rows} of {source_counts[e.table]}" for e in wrong)
                raise DatabaseUnavailable(
                    f"The copy in {where} did not hold every row ({detail}), so it was undone and nothing "
                    "was copied. Check that nothing else writes to that database, and run db copy again."
                )
            _check_copied_history(writer, history, where)
    return Copied(copied, history.summary())


def _check_copied_history(writer: Connection, source: Verification, where: str) -> None:
    """The copy's history must verify on its own engine, with the same chain heads as the source's."""
    copy = verify_history(writer, integrity=None)
    if copy.heads() != source.heads() or (source.ok and not copy.ok):
        different = [table for table, head in copy.heads().items() if source.heads().get(table) != head]
        detail = copy.problems[0] if copy.problems else f"the chains of {', '.join(different)} differ"
        raise DatabaseUnavailable(
            f"The history copied into {where} did not verify there ({detail}), so the copy was undone and "
            "nothing was copied. Report this: it is a fault in cloudctl."
        )


@contextmanager
def _reading_snapshot(db: Database) -> Iterator[Connection]:
    """One read transaction that sees the database as it stood at its start, whatever others write."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # READ COMMITTED would let a table copied late see rows added after an early one was copied.
            connection = connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        transaction = connection.begin()
        try:
            yield connection
        finally:
            # A read ends in a rollback: there is nothing to commit, and on a damaged file a
            # commit can fail after every check has been made and reported.
            transaction.rollback()


@contextmanager
def _blamed_on(location: DatabaseLocation, what: str) -> Iterator[None]:
    """Errors from the target database are explained as the target's, not as the source's."""
    try:
        yield
    except DBAPIError as error:
        raise DatabaseUnavailable(f"{what}: {describe_connection_error(location, error)}") from error


def _refuse_if_not_empty(connection: Connection, tables: list[Table], where: str) -> None:
    occupied = [(table.name, rows) for table in tables if (rows := count_rows(connection, table))]
    if occupied:
        listed = ", ".join(f"{name} ({rows})" for name, rows in occupied)
        raise Conflict(
            f"{where} already holds records ({listed}). db copy only copies into an empty database, so "
            "that nothing there is overwritten or mixed up: create a new, empty database and copy into that."
        )


def _copy_table(
    reader: Connection,
    source: Table,
    writer: Connection,
    target: Table,
    source_location: DatabaseLocation,
    target_location: DatabaseLocation,
) -> None:
    columns = [column.name for column in target.columns]
    missing = [name for name in columns if name not in source.columns]
    if missing:
        raise DatabaseUnavailable(f"The {source.name} table here has no column {', '.join(missing)}.")
    order = list(source.primary_key.columns) or [source.columns[columns[0]]]
    query = select(*(source.columns[name] for name in columns)).order_by(*order)
    times = [column.name for column in target.columns if isinstance(column.type, DateTime)]
    keep_zone = writer.dialect.name != "sqlite"
    failed = f"Copying the {target.name} table failed, so nothing was copied"
    with _blamed_on(source_location, failed):
        chunks = reader.execution_options(yield_per=COPY_CHUNK_ROWS).execute(query).mappings().partitions()
    while True:
        with _blamed_on(source_location, failed):
            chunk = next(chunks, None)
        if chunk is None:
            return
        rows = [dict(row) for row in chunk]
        for row in rows:
            for name in times:
                row[name] = _as_utc(row[name], keep_zone=keep_zone)
        with _blamed_on(target_location, failed):
            writer.execute(target.insert(), rows)


def _as_utc(value: object, *, keep_zone: bool) -> object:
    """Times are stored in UTC: SQLite keeps them without a zone, PostgreSQL with one.

    A time without a zone from SQLite is UTC; a time from PostgreSQL comes in the server's zone.
    """
    if not isinstance(value, datetime):
        return value
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value if keep_zone else value.replace(tzinfo=None)


def _move_sequences_past_copied_ids(connection: Connection, tables: list[Table]) -> None:
    """Rows were inserted with their ids, so each id sequence must start after the highest one."""
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        key = keys[0].name
        sequence = connection.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"), {"table": table.name, "column": key}
        ).scalar()
        if sequence is None:
            continue
        connection.execute(
            text(f'SELECT setval(:sequence, COALESCE(MAX("{key}"), 0) + 1, false) FROM "{table.name}"'),
            {"sequence": sequence},
        )
