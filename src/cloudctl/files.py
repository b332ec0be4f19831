"""Files in and out: reading what a user hands cloudctl, and writing files that hold children's data
(readable and writable by their owner only).

cloudctl sets permissions only on files it creates. A file that already exists keeps its mode: an output
file is replaced (only with --force) by a new private file renamed over it, never chmod-ed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cloudctl.errors import Conflict, InvalidInput

PRIVATE_FILE_MODE = 0o600
PRIVATE_FOLDER_MODE = 0o700


def open_new_private_file(path: Path) -> int:
    """Create a NEW file readable and writable by its owner alone and return its descriptor.

    Raises FileExistsError if anything (even a dangling link) is already at `path`: an existing
    file is never opened, truncated or re-permissioned here. The mode is set on the descriptor as
    well, because the umask may have taken bits away at creation.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        if hasattr(os, "fchmod"):  # not on Windows, where a new file is private to its user anyway
            os.fchmod(descriptor, PRIVATE_FILE_MODE)
    except BaseException:
        os.close(descriptor)
        path.unlink(missing_ok=True)
        raise
    return descriptor


def check_output_path(path: Path, *, force: bool, what: str = "output") -> None:
    """Refuse an output path cloudctl must not write: a folder, something other than a file, a file
    in a folder that does not exist, or an existing file without --force."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        found = None
    except NotADirectoryError:
        raise InvalidInput(
            f"{path} cannot be written: part of its folder path is a file, not a folder."
        ) from None
    if found is not None and stat.S_ISLNK(found.st_mode):
        # A link is judged by what it leads to: --force replaces a link to a file, never one to a folder.
        try:
            found = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            pass  # a dangling link: replacing it loses nothing
        except OSError:
            raise InvalidInput(
                f"{path} is a link cloudctl cannot follow: give the {what} the name of a file to write."
            ) from None
    if found is not None:
        if stat.S_ISDIR(found.st_mode):
            raise InvalidInput(
                f"{path} is a folder: give the {what} a file name, e.g. {path / example_name(what)}."
            )
        if not (stat.S_ISREG(found.st_mode) or stat.S_ISLNK(found.st_mode)):
            raise InvalidInput(
                f"{path} is not a regular file (it is {special_kind(found.st_mode)}): give the {what} "
                "the name of a file to write."
            )
        if not force:
            raise Conflict(f"{path} already exists. Choose another file name, or add --force to replace it.")
        return
    folder = path.parent
    if not folder.is_dir():
        raise InvalidInput(f"The folder {folder} does not exist: create it first, or choose another path.")


def example_name(what: str) -> str:
    return {"backup": "cloudctl-backup.db", "database": "cloudctl.db"}.get(what, "export.csv")


def special_kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe, or FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a plain file"


def write_private_text(path: Path, text: str, *, force: bool = False, what: str = "output") -> None:
    """Write `text` to a NEW file at `path`, mode 0600.

    An existing file is refused unless `force`; with `force` the text goes to a new private file in the
    same folder, which then takes the old one's place (os.replace), so the old file's mode is never
    changed and a failed write never leaves half a file where a good one was.
    """
    write_private_bytes(path, text.encode("utf-8"), force=force, what=what)


def write_private_bytes(path: Path, data: bytes, *, force: bool = False, what: str = "output") -> None:
    """As write_private_text, for a file that is not text (a spreadsheet)."""
    check_output_path(path, force=force, what=what)
    refuse_a_database(path)
    try:
        if os.path.lexists(path):
            write_by_replacing(path, data)
        else:
            write_new_file(path, data)
    except FileExistsError:
        raise Conflict(
            f"{path} appeared while cloudctl was writing it. Choose another file name, or add --force "
            "to replace it."
        ) from None
    except PermissionError:
        raise InvalidInput(
            f"cloudctl may not write {path}: check the permissions of the folder {path.parent}, or "
            "choose another folder."
        ) from None


SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_WORKING_FILES = ("-wal", "-shm", "-journal")
NEVER_OVER_A_DATABASE = "cloudctl never writes an export over a database; choose another --out."


def refuse_a_database(path: Path) -> None:
    """Refuse, even with --force, to write an export over an SQLite database (through a link too) or
    over one of the working files SQLite keeps beside one (-wal, -shm, -journal): replacing either
    destroys the school's records."""
    if is_sqlite_database(path):
        raise InvalidInput(f"{path} is a database: {NEVER_OVER_A_DATABASE}")
    for suffix in SQLITE_WORKING_FILES:
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            database = path.with_name(path.name.removesuffix(suffix))
            if is_sqlite_database(database):
                raise InvalidInput(f"{path} is part of the database {database}: {NEVER_OVER_A_DATABASE}")


def is_sqlite_database(path: Path) -> bool:
    """True if `path` is (or links to) a file starting with SQLite's header; False if it cannot be read."""
    try:
        with open(path, "rb") as stream:
            return stream.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def write_new_file(path: Path, data: bytes) -> None:
    descriptor = open_new_private_file(path)
    try:
        with open(descriptor, "wb") as stream:
            stream.write(data)
    except BaseException:
        path.unlink(missing_ok=True)  # ours: created above
        raise


def write_by_replacing(path: Path, data: bytes) -> None:
    partial = new_partial_path(path)
    descriptor = open_new_private_file(partial)
    try:
        with open(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def new_partial_path(path: Path) -> Path:
    """A name beside `path` for a file being written, unused at the time of asking."""
    import secrets

    while True:
        candidate = path.with_name(f".{path.name}.partial-{secrets.token_hex(4)}")
        if not os.path.lexists(candidate):
            return candidate


def make_private_folder(folder: Path) -> None:
    """Create `folder` (and any missing parents) if it is missing; only a folder created here is made 0700."""
    if folder.is_dir():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=PRIVATE_FOLDER_MODE)
    except FileExistsError:
        return  # made meanwhile by someone else: not ours to change
    os.chmod(folder, PRIVATE_FOLDER_MODE)  # the umask may have taken bits away


def read_input_bytes(path: Path, what: str) -> bytes:
    """The bytes of a file the user named, or a plain message saying why it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"There is no file {path}. Check the name and the folder.") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder: give the {what} file itself.") from None
    except PermissionError:
        raise InvalidInput(f"cloudctl may not read {path}: check the file's permissions.") from None


def read_text_file(path: Path, what: str) -> str:
    """A text file as Word or Notepad saves it: UTF-8 (with or without a byte-order mark) or Windows-1252."""
    raw = read_input_bytes(path, what)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(f"{path} is not a text file: save the {what} as plain text (.txt) and try again.")
