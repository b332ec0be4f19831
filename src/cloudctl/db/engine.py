"""Opening the database: the engine, connection settings, file permissions and migrating at first use."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlmodel import Session

from cloudctl.db.location import DatabaseLocation
from cloudctl.db.schema_version import HEAD_REVISION
from cloudctl.errors import DatabaseUnavailable

BUSY_TIMEOUT_MS = 30_000
# How long a PostgreSQL connection attempt may take before we say the server cannot be reached.
CONNECT_TIMEOUT_S = 10
# The key of the advisory lock that PostgreSQL writers take, like SQLite's write lock ("cloudctl" in hex).
WRITE_LOCK_KEY = 0x636C6F756463746C
# SQLSTATEs that mean "this transaction lost a race: run it again": serialization failure, deadlock.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})

T = TypeVar("T")


def create_private_file(path: Path) -> None:
    """Create a NEW empty file readable only by its owner: the database and its backups hold children's data.

    Raises FileExistsError if anything is at `path` already: cloudctl never changes the mode of a
    file it did not create.
    """
    from cloudctl.files import open_new_private_file

    os.close(open_new_private_file(path))


def _configure_sqlite(engine: Engine, *, read_only: str | None = None) -> None:
    @event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # pysqlite's own transaction handling would hide BEGIN from us; we issue it below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if read_only is None:  # a read-only file's journal mode is its owner's to choose
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def begin(connection):  # type: ignore[no-untyped-def]
        # Writers take the write lock at BEGIN, so two writers queue on the busy
        # timeout instead of one failing with "database is locked" mid-transaction.
        write = connection.get_execution_options().get("cloudctl_write")
        if write and read_only is not None:
            raise DatabaseUnavailable(f"Nothing was changed. {read_only}")
        connection.exec_driver_sql(f"BEGIN {'IMMEDIATE' if write else 'DEFERRED'}")


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def begin(connection):  # type: ignore[no-untyped-def]
        # Writers queue on one lock per database, as they do on SQLite's write lock, so every write
        # transaction sees the ones before it (a check such as "not already opted in" cannot race)
        # and PostgreSQL never has to abort one with a serialization failure or a deadlock.
        # The lock is released at COMMIT or ROLLBACK; readers never wait for it.
        if connection.get_execution_options().get("cloudctl_write"):
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{BUSY_TIMEOUT_MS}ms'")
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def make_engine(location: DatabaseLocation) -> Engine:
    if location.is_sqlite:
        if location.path is None:
            raise DatabaseUnavailable(
                "cloudctl keeps an SQLite database in a file: give its path, e.g. sqlite:///path/to/cloudctl.db."
            )
        return _sqlite_engine(location, location.path)
    try:
        from sqlalchemy.engine import make_url

        url = make_url(location.url)
        connect_args = {}
        if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except Exception as error:  # a malformed URL, an unknown database or a missing driver
        raise DatabaseUnavailable(describe_url_error(location, error)) from error
    if engine.dialect.name == "postgresql":
        _configure_postgresql(engine)
    return engine


def _sqlite_engine(location: DatabaseLocation, path: Path) -> Engine:
    """An engine for the SQLite file at `path`, checked first: a new file is created (0600), a cloudctl
    database is opened, and one cloudctl may not write is opened read-only. Anything else was refused."""
    from cloudctl.db.location import default_path
    from cloudctl.db.sqlite_file import prepare_sqlite_file, read_only_message

    found = prepare_sqlite_file(path, is_default=path == default_path())
    if found.read_only is None:
        engine = create_engine(location.url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    import sqlite3

    def connect_read_only() -> sqlite3.Connection:
        return sqlite3.connect(
            found.reader_uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )

    message = read_only_message(path, found.read_only)
    engine = create_engine(location.url, creator=connect_read_only)
    engine.update_execution_options(cloudctl_read_only=message, cloudctl_read_only_reason=found.read_only)
    _configure_sqlite(engine, read_only=message)
    return engine


def read_only_reason(engine: Engine) -> str | None:
    """Why cloudctl may only read this database (a message), or None when it may write."""
    return engine.get_execution_options().get("cloudctl_read_only")


def describe_url_error(location: DatabaseLocation, error: Exception) -> str:
    """Why a database URL cannot be used, without echoing it (it may hold a password)."""
    example = "postgresql+psycopg://user:password@host:5432/cloudctl"
    if isinstance(error, ModuleNotFoundError) and "psycopg" in str(error):
        return (
            "cloudctl needs the PostgreSQL driver to use a PostgreSQL database, and it is not installed. "
            "Install it with: pip install 'cloudctl[postgres]'"
        )
    if isinstance(error, ModuleNotFoundError) or type(error).__name__ == "NoSuchModuleError":
        scheme = location.url.partition("://")[0] or location.url
        return (
            f"cloudctl works with SQLite and PostgreSQL databases only, not '{scheme}'. "
            f"Set CLOUDCTL_DATABASE_URL to a PostgreSQL URL such as {example}, or to sqlite:///path/to/file.db."
        )
    return (
        "The database URL given is not a valid URL (check the host, the port and any "
        f"special characters in the password, which must be %-encoded). It should look like {example}."
    )


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

    @property
    def backend(self) -> str:
        """The database's kind: "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work is committed as one transaction, or not at all.

        Writers queue: SQLite's BEGIN IMMEDIATE, a PostgreSQL advisory lock. A writer
        waits up to BUSY_TIMEOUT_MS for the one before it.
        """
        with Session(self._write_engine) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def retrying(self, work: Callable[[Session], T], *, attempts: int = 5) -> T:
        """Run `work(session)` in one write transaction, again if the database asks for it.

        PostgreSQL may abort a transaction that lost a race (a serialization failure
        or a deadlock, which cloudctl's own writers avoid by queueing, but another
        program writing to the same server can cause). `work` must only touch the
        database, so that running it again is safe; its result is returned.
        """
        for attempt in range(1, attempts + 1):
            try:
                with self.write() as session:
                    return work(session)
            except DBAPIError as error:
                if attempt == attempts or not is_retryable(error):
                    raise
            # Back off a little, with jitter, so the racing writers do not collide again.
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
        raise AssertionError("unreachable")

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


def is_retryable(error: BaseException) -> bool:
    """True when the database aborted a transaction only because it raced another: running it again is safe.

    A failed connection is not retryable here: it carries no SQLSTATE.
    """
    return getattr(getattr(error, "orig", None), "sqlstate", None) in RETRYABLE_SQLSTATES


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
    if read_only_reason(engine) is not None and location.path is not None:
        from cloudctl.db.sqlite_file import read_only_upgrade_message

        reason = engine.get_execution_options()["cloudctl_read_only_reason"]
        raise DatabaseUnavailable(read_only_upgrade_message(location.path, reason, revision, HEAD_REVISION))
    if revision is not None and location.path is not None:
        backup_sqlite(engine, backup_path_for(location.path, revision))
    try:
        upgrade_to_head(engine)
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != "42501":
            raise
        # A trust may give staff a role that can read and write rows but not change tables.
        raise DatabaseUnavailable(
            f"The database {location.describe()} needs its tables set up or upgraded to schema revision "
            f"{HEAD_REVISION} for this version of cloudctl, and its user may not change tables. Ask the "
            "database's administrator to run any cloudctl command once as the database's owner "
            "(see docs/postgresql.md)."
        ) from error


def backup_path_for(path: Path, revision: str) -> Path:
    from datetime import datetime

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"{path.name}.before-{HEAD_REVISION}-from-{revision}-{stamp}"
    # A backup is always a new file: never one written over an older backup.
    candidate, number = path.with_name(f"{name}.bak"), 1
    while os.path.lexists(candidate):
        number += 1
        candidate = path.with_name(f"{name}-{number}.bak")
    return candidate


def backup_sqlite(engine: Engine, target: Path) -> Path:
    """Copy a live SQLite database with SQLite's online backup API into a NEW file, private (0600) too."""
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
    return target


def describe_connection_error(location: DatabaseLocation, error: Exception) -> str:
    """One plain sentence for a database that cannot be reached or used, from the driver's message.

    The server's own wording is matched because a failed connection carries no SQLSTATE.
    Specific refusals come first: psycopg words every one of them "connection failed: ...".
    """
    orig = getattr(error, "orig", error)
    lines = str(orig).strip().splitlines()
    detail = lines[0] if lines else ""
    lowered = detail.lower()
    sqlstate = getattr(orig, "sqlstate", None)
    where = location.describe()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        return (
            f"The database server refused the user name or password in {where}. "
            "Check CLOUDCTL_DATABASE_URL (a password with special characters must be %-encoded)."
        )
    if "role" in lowered and "does not exist" in lowered:
        return (
            f"The database server has no user of the name given in {where}. "
            "Check the user name in CLOUDCTL_DATABASE_URL, or ask the server's administrator to create it."
        )
    if "database" in lowered and "does not exist" in lowered:
        return (
            f"The database named in {where} does not exist on the server. "
            "Create it first (see docs/postgresql.md), or check its name in CLOUDCTL_DATABASE_URL."
        )
    if "no pg_hba.conf entry" in lowered or "not permitted to log in" in lowered:
        return (
            f"The database server does not let this user connect from this computer ({where}). "
            "Ask the server's administrator to allow it (pg_hba.conf and the role's LOGIN)."
        )
    if sqlstate == "42501" or "permission denied" in lowered:
        return (
            f"The database user in {where} is not allowed to do that: {detail}. "
            "Ask the server's administrator to grant the privileges in docs/postgresql.md."
        )
    if sqlstate == "55P03" or "lock timeout" in lowered:
        return f"The database {where} is busy with another cloudctl command. Try again in a moment."
    if "failed to resolve host" in lowered or "could not translate host name" in lowered:
        return (
            f"cloudctl cannot find the database server named in {where}. Check the host name in "
            "CLOUDCTL_DATABASE_URL and this computer's network connection."
        )
    if "timeout expired" in lowered or "connection timed out" in lowered:
        return (
            f"The database server for {where} did not answer in time. Check the host and port, "
            "that the server is up, and that no firewall is in the way."
        )
    if (
        "connection refused" in lowered
        or "could not connect" in lowered
        or "connection failed" in lowered
        or "no such file or directory" in lowered
    ):
        return (
            f"cloudctl cannot reach the database server for {where}: it is not running or not listening "
            "there. Check the host and port, and that the server is up."
        )
    if "server closed the connection" in lowered or "terminating connection" in lowered:
        return (
            f"The connection to the database server for {where} was lost, so the command stopped and "
            "nothing more was written. Check that the server is up, then run the command again."
        )
    if "unable to open database file" in lowered:
        return (
            f"cloudctl cannot open the database file {where}. Check that the folder exists and is writable."
        )
    damaged = "disk image is malformed" in lowered or "malformed database schema" in lowered
    # PostgreSQL's data_corrupted and index_corrupted.
    if damaged or sqlstate in ("XX001", "XX002"):
        backup = "cloudctl db backup" if location.path is not None else "your server's backups"
        return (
            f"The database {where} is damaged ({detail}), so cloudctl stopped and wrote nothing more: "
            f"restore the latest backup (made with {backup}) in its place, and keep the damaged copy for "
            "whoever looks after the computer. `cloudctl db verify` says whether a database is whole."
        )
    if "file is not a database" in lowered:
        return (
            f"{where} is not a cloudctl database (it is not an SQLite file). Choose another file with --db."
        )
    if "database is locked" in lowered:
        return f"The database {where} is busy with another cloudctl command. Try again in a moment."
    if "readonly database" in lowered or "read-only" in lowered:
        return f"cloudctl cannot write to the database {where}: it is read-only. Check its permissions."
    return f"cloudctl could not use the database {where}: {detail}"
