"""What is at an SQLite database path, found out before SQLite opens it for cloudctl.

cloudctl opens only what the user meant: a new file (which it creates, mode 0600), an empty file, or a
cloudctl database. A folder, a device, a pipe, a file in a folder that does not exist, or an SQLite file
that some other program keeps is refused, and left exactly as it was: its header is read with a plain
read-only open and its schema through a read-only SQLite connection, before any journal-mode pragma could
change it.

A database cloudctl may not write (a file without any write permission, another user's file, or a file in
a folder where SQLite may not create its -wal and -shm files) is opened read-only: every command that
only reads works, and one that writes is refused with the reason. The "no write permission" test is a
rule of cloudctl's, not only the operating system's: root may write any file, but a school that took
the write bits off its database meant it to be kept as it is.

Standard library only: no SQLAlchemy here.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from cloudctl.errors import DatabaseUnavailable, InvalidInput
from cloudctl.files import make_private_folder, open_new_private_file, special_kind

SQLITE_HEADER = b"SQLite format 3\x00"
HEADER_SIZE = 100
# The tables every cloudctl database has had since its first schema revision.
CLOUDCTL_TABLES = frozenset(
    {"alembic_version", "school_settings", "register_section", "provider", "service", "risk_assessment"}
)
ANY_WRITE_BIT = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
CHOOSE_ANOTHER = "Give --db the path of your cloudctl database, or a new file name to start one."


@dataclass(frozen=True)
class SqliteFile:
    """A database file cloudctl may open: where it is, and if cloudctl may only read it, why."""

    path: Path
    # Why cloudctl may not write the database (a sentence for messages), or None.
    read_only: str | None = None
    # How to open it for reading without creating or changing any file (an SQLite URI).
    reader_uri: str = ""


def prepare_sqlite_file(path: Path, *, is_default: bool) -> SqliteFile:
    """Check what is at `path` and, when nothing is, create a new private database file there.

    Only the default database's folder is created (mode 0700): any other folder must exist.
    Raises InvalidInput or DatabaseUnavailable, with nothing created or changed, for anything else.
    """
    for _attempt in range(2):
        found = examine_sqlite_path(path, is_default=is_default)
        if found is not None:
            return found
        if is_default:
            make_private_folder(path.parent)
        try:
            os.close(open_new_private_file(path))
        except FileExistsError:
            continue  # another cloudctl created it a moment ago: look again at what is there now
        except PermissionError:
            raise DatabaseUnavailable(cannot_create(path)) from None
        return SqliteFile(path=path)
    raise DatabaseUnavailable(f"The database {path} keeps changing while cloudctl opens it: try again.")


def examine_sqlite_path(path: Path, *, is_default: bool = False) -> SqliteFile | None:
    """What is at `path`: None when nothing is (and a database may be created there), else the file.

    Refuses, without changing anything, whatever cloudctl must not open as its database.
    """
    try:
        found = os.stat(path)
    except FileNotFoundError:
        if os.path.lexists(path):
            raise InvalidInput(
                f"{path} is a link to {os.readlink(path)}, which does not exist. {CHOOSE_ANOTHER}"
            ) from None
        check_folder_for_new_file(path, is_default=is_default)
        return None
    except NotADirectoryError:
        raise InvalidInput(
            f"{path} cannot be a database: {first_file_in(path)} is a file, not a folder. {CHOOSE_ANOTHER}"
        ) from None
    except PermissionError:
        raise DatabaseUnavailable(
            f"cloudctl may not look in the folder {path.parent}: check its permissions, or ask who owns it."
        ) from None
    if stat.S_ISDIR(found.st_mode):
        raise InvalidInput(
            f"{path} is a folder: give the database file's path, e.g. {path / 'cloudctl.db'} "
            "(a new file name starts a new database)."
        )
    if not stat.S_ISREG(found.st_mode):
        raise InvalidInput(
            f"{path} is not a database file (it is {special_kind(found.st_mode)}). {CHOOSE_ANOTHER}"
        )
    return examine_existing_file(path)


def check_folder_for_new_file(path: Path, *, is_default: bool) -> None:
    folder = path.parent
    if folder.is_dir():
        if not folder_writable(folder):
            raise DatabaseUnavailable(cannot_create(path))
        return
    if folder.exists() or os.path.lexists(folder):
        raise InvalidInput(f"{path} cannot be a database: {folder} is not a folder. {CHOOSE_ANOTHER}")
    if is_default:
        return  # cloudctl makes its own data folder
    raise InvalidInput(
        f"The folder {folder} does not exist: create it first, or choose another path for the database."
    )


def cannot_create(path: Path) -> str:
    return (
        f"cloudctl cannot create the database {path}: the folder {path.parent} is read-only. Choose a "
        "folder you can write to, or ask whoever owns that folder, or check its permissions."
    )


def first_file_in(path: Path) -> Path:
    """The first part of `path` that is a file where a folder should be."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return path.parent


def examine_existing_file(path: Path) -> SqliteFile:
    """An existing regular file: an empty one, or a cloudctl database. Anything else is refused."""
    header, mode = read_header(path)
    read_only = read_only_reason(path, mode)
    if not header:
        # A 0-byte file holds nothing that could be lost, so it is taken as a new database: `touch`,
        # mktemp and a cloudctl run stopped before it set the file up all leave one. But cloudctl does
        # not change the permissions of a file it did not create, and will not put pupils' data into a
        # file that others can read.
        if read_only is None:
            refuse_if_others_can_read(path, mode)
        return SqliteFile(path=path, read_only=read_only, reader_uri=reader_uri(path, header))
    if len(header) < HEADER_SIZE or not header.startswith(SQLITE_HEADER):
        raise InvalidInput(
            f"{path} is not a cloudctl database: it is not an SQLite database file at all. cloudctl left it "
            f"as it was. {CHOOSE_ANOTHER}"
        )
    uri = reader_uri(path, header)
    tables, objects = read_schema(path, uri)
    if tables >= CLOUDCTL_TABLES:
        return SqliteFile(path=path, read_only=read_only, reader_uri=uri)
    if not objects and header_numbers_blank(header):
        # An SQLite file with nothing in it (as an interrupted first run of cloudctl leaves).
        if read_only is None:
            refuse_if_others_can_read(path, mode)
        return SqliteFile(path=path, read_only=read_only, reader_uri=uri)
    held = sorted(tables - {"alembic_version"}) or sorted(objects)
    shown = ", ".join(held[:3]) + (", ..." if len(held) > 3 else "")
    raise InvalidInput(
        f"{path} is an SQLite database, but not a cloudctl one (it holds {shown or 'no tables'}, not "
        f"cloudctl's). cloudctl left it as it was: it was not changed or set up. {CHOOSE_ANOTHER}"
    )


def read_header(path: Path) -> tuple[bytes, int]:
    """The first 100 bytes of the file, and its mode; opened read-only, without waiting on a pipe."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except PermissionError:
        raise DatabaseUnavailable(
            f"cloudctl may not read the database {path}{owned_by(path)}. Ask whoever owns it, or check "
            "its permissions."
        ) from None
    try:
        found = os.fstat(descriptor)
        if not stat.S_ISREG(found.st_mode):  # replaced since it was looked at
            raise InvalidInput(f"{path} is not a database file. {CHOOSE_ANOTHER}")
        return os.read(descriptor, HEADER_SIZE), found.st_mode
    finally:
        os.close(descriptor)


def header_numbers_blank(header: bytes) -> bool:
    """No other program has stamped the file: user_version (offset 60) and application_id (68) are 0."""
    return header[60:64] == bytes(4) and header[68:72] == bytes(4)


def reader_uri(path: Path, header: bytes) -> str:
    """An SQLite URI that reads the file without creating, locking out or changing anything.

    A WAL-mode file (header byte 18 is 2) without a -wal file holding pages is complete in itself, and
    is read as immutable: a plain read-only connection would create -wal and -shm files beside it (owned
    by whoever ran cloudctl, which can stop the owner's cloudctl writing). With a -wal file in use, or in
    the rollback-journal mode, a read-only connection reads it as SQLite always does, creating nothing.
    """
    uri = f"{path.absolute().as_uri()}?mode=ro"
    wal_mode = len(header) > 18 and header[18] == 2
    if not header or (wal_mode and not wal_in_use(path)):
        uri += "&immutable=1"
    return uri


def wal_in_use(path: Path) -> bool:
    try:
        return os.stat(path.with_name(path.name + "-wal")).st_size > 0
    except OSError:
        return False


def read_schema(path: Path, uri: str) -> tuple[set[str], set[str]]:
    """The names of the file's tables, and of all its schema objects, read through a read-only connection."""
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=5)
        try:
            rows = connection.execute("SELECT type, name FROM sqlite_master").fetchall()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        detail = str(error)
        if "locked" in detail or "busy" in detail:
            raise DatabaseUnavailable(
                f"The database {path} is busy with another program. Try again in a moment."
            ) from None
        if "malformed" in detail or "not a database" in detail:
            raise DatabaseUnavailable(
                f"The database {path} is damaged ({detail}): cloudctl left it as it was. Restore the latest "
                "backup (cloudctl db backup makes them)."
            ) from None
        raise DatabaseUnavailable(
            f"cloudctl could not read {path} as an SQLite database ({detail}), so it left it as it was. "
            "Check its permissions and those of its folder."
        ) from None
    names = {name for _kind, name in rows if not name.startswith("sqlite_")}
    tables = {name for kind, name in rows if kind == "table" and not name.startswith("sqlite_")}
    return tables, names


def read_only_reason(path: Path, mode: int) -> str | None:
    """Why cloudctl may not write the database at `path`, as the end of a sentence; None if it may."""
    if not mode & ANY_WRITE_BIT:
        return f"the file has no write permission: its mode is {stat.S_IMODE(mode):04o}"
    if not os.access(path, os.W_OK):
        return f"you may not write to the file{owned_by(path)}"
    folder = path.parent
    if not folder_writable(folder):
        name = path.name
        return (
            f"its folder {folder} is read-only, and SQLite must create its working files {name}-wal and "
            f"{name}-shm there to write"
        )
    return None


def folder_writable(folder: Path) -> bool:
    """May cloudctl create files in `folder`? A folder without any write bit is read-only even for root."""
    try:
        mode = os.stat(folder).st_mode
    except OSError:
        return False
    return bool(mode & ANY_WRITE_BIT) and os.access(folder, os.W_OK | os.X_OK)


def owned_by(path: Path) -> str:
    try:
        owner = path.owner()
    except (KeyError, NotImplementedError, OSError):
        return ""
    try:
        import getpass

        if owner == getpass.getuser():
            return ""
    except (KeyError, OSError):
        pass
    return f", which belongs to {owner}"


def refuse_if_others_can_read(path: Path, mode: int) -> None:
    if stat.S_IMODE(mode) & 0o077:
        raise InvalidInput(
            f"{path} is an empty file that others may read or write (mode {stat.S_IMODE(mode):04o}). "
            "cloudctl keeps pupils' data only in files readable by their owner alone, and does not change "
            "the permissions of a file it did not create: remove it (cloudctl then creates it, mode 0600), "
            f"or make it private first (chmod 600 {path})."
        )


def read_only_upgrade_message(path: Path, reason: str, revision: str | None, head: str) -> str:
    """For a read-only database this cloudctl cannot use until it sets it up or upgrades it."""
    if revision is None:
        needs = f"is empty: this version of cloudctl would have to set it up (schema revision {head})"
    else:
        needs = (
            f"was written by an older cloudctl: this version would have to upgrade it from schema "
            f"revision {revision} to {head}"
        )
    return (
        f"The database {path} is read-only ({reason}) and {needs}, which changes it, so nothing was done. "
        "Ask whoever owns it to run cloudctl on it once, or check its permissions."
    )


def read_only_message(path: Path, reason: str) -> str:
    return (
        f"The database {path} is read-only: {reason}. cloudctl can show what it holds but not change it. "
        "To record changes, ask whoever owns it, or check its permissions."
    )
