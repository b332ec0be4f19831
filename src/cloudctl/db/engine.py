"""Opening the database: the engine, connection settings, file permissions and migrating at first use."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlmodel import Session

from cloudctl.db.location import DatabaseLocation
from cloudctl.db.schema_version import HEAD_REVISION
from cloudctl.errors import DatabaseUnavailable

BUSY_TIMEOUT_MS = 30_000


def create_private_file(path: Path) -> None:
    """Create an empty file readable only by its owner: the database holds children's data."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # pysqlite's own transaction handling would hide BEGIN from us; we issue it below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection):  # type: ignore[no-untyped-def]
        # Writers take the write lock at BEGIN, so two writers queue on the busy
        # timeout instead of one failing with "database is locked" mid-transaction.
        mode = "IMMEDIATE" if connection.get_execution_options().get("cloudctl_write") else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(location: DatabaseLocation) -> Engine:
    if location.is_sqlite:
        assert location.path is not None
        create_private_file(location.path)
        engine = create_engine(location.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    try:
        return create_engine(location.url, pool_pre_ping=True)
    except Exception as error:  # a malformed URL or a missing driver
        raise DatabaseUnavailable(
            f"cloudctl cannot use the database URL '{location.describe()}': {error}. "
            "Check CLOUDCTL_DATABASE_URL, e.g. postgresql+psycopg://user:password@host:5432/cloudctl "
            "(PostgreSQL needs: pip install 'cloudctl[postgres]')."
        ) from error


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError) as error:
        if "alembic_version" in str(error):
            return None
        raise


class Database:
    """An open database, brought to the newest schema, that hands out sessions."""

    def __init__(self, location: DatabaseLocation, engine: Engine) -> None:
        self.location = location
        self.engine = engine
        self._write_engine = engine.execution_options(cloudctl_write=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work is committed as one transaction, or not at all."""
        with Session(self._write_engine) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(location: DatabaseLocation, *, migrate: bool = True) -> Database:
    try:
        engine = make_engine(location)
        if migrate:
            bring_up_to_date(location, engine)
        return Database(location, engine)
    except DBAPIError as error:
        raise DatabaseUnavailable(describe_connection_error(location, error)) from error


def bring_up_to_date(location: DatabaseLocation, engine: Engine) -> None:
    revision = current_revision(engine)
    if revision == HEAD_REVISION:
        return
    from cloudctl.db.migrate import known_revisions, upgrade_to_head

    if revision is not None and revision not in known_revisions():
        raise DatabaseUnavailable(
            f"The database {location.describe()} has schema revision {revision}, which this version of "
            "cloudctl does not know: it was written by a newer cloudctl. Upgrade cloudctl to use it."
        )
    if revision is not None and location.path is not None:
        backup_sqlite(engine, backup_path_for(location.path, revision))
    upgrade_to_head(engine)


def backup_path_for(path: Path, revision: str) -> Path:
    from datetime import datetime

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return path.with_name(f"{path.name}.before-{HEAD_REVISION}-from-{revision}-{stamp}.bak")


def backup_sqlite(engine: Engine, target: Path) -> Path:
    """Copy a live SQLite database with SQLite's online backup API; the copy is private too."""
    import sqlite3

    create_private_file(target)
    raw = engine.raw_connection()
    try:
        destination = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(destination)
        finally:
            destination.close()
    finally:
        raw.close()
    os.chmod(target, 0o600)
    return target


def describe_connection_error(location: DatabaseLocation, error: Exception) -> str:
    detail = str(getattr(error, "orig", error)).strip().splitlines()[0] if str(error).strip() else ""
    lowered = detail.lower()
    where = location.describe()
    if "password authentication failed" in lowered:
        return (
            f"The database server refused the user name or password in {where}. Check CLOUDCTL_DATABASE_URL."
        )
    if "connection refused" in lowered or "could not connect" in lowered or "connection failed" in lowered:
        return (
            f"cloudctl cannot reach the database server for {where}: it is not running or not listening "
            "there. Check the host and port, and that the server is up."
        )
    if "does not exist" in lowered and "database" in lowered:
        return f"The database named in {where} does not exist on the server. Create it first (createdb)."
    if "unable to open database file" in lowered:
        return (
            f"cloudctl cannot open the database file {where}. Check that the folder exists and is writable."
        )
    if "file is not a database" in lowered:
        return (
            f"{where} is not a cloudctl database (it is not an SQLite file). Choose another file with --db."
        )
    if "database is locked" in lowered:
        return f"The database {where} is busy with another cloudctl command. Try again in a moment."
    return f"cloudctl could not use the database {where}: {detail}"
