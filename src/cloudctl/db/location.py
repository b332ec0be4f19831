"""Where the database lives: `--db PATH`, CLOUDCTL_DATABASE_URL, CLOUDCTL_DB, or the user data directory.

Kept free of SQLAlchemy so that the CLI can work it out without heavy imports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cloudctl.errors import InvalidInput


@dataclass(frozen=True)
class DatabaseLocation:
    url: str
    # The SQLite file, or None for a server database.
    path: Path | None

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def describe(self) -> str:
        if self.path is not None:
            return str(self.path)
        return redact_url(self.url)


def default_path() -> Path:
    from platformdirs import user_data_path

    return user_data_path("cloudctl", appauthor=False) / "cloudctl.db"


def sqlite_location(path: Path) -> DatabaseLocation:
    path = path.expanduser().absolute()
    return DatabaseLocation(url=f"sqlite:///{path}", path=path)


def resolve_location(db_option: str | None = None) -> DatabaseLocation:
    """`--db` wins, then CLOUDCTL_DATABASE_URL, then CLOUDCTL_DB, then the default file.

    A choice that is given but empty (`--db ''`, `CLOUDCTL_DB=`) is refused rather than taken to mean
    the default: the user meant some database, and it may not be the default one.
    """
    if db_option is not None:
        if not db_option.strip():
            raise InvalidInput(
                "--db was given an empty path. Give the database file's path (e.g. --db school.db), or "
                f"leave --db out to use the default database, {default_path()}."
            )
        return sqlite_location(file_path(db_option, "--db"))
    url = os.environ.get("CLOUDCTL_DATABASE_URL")
    if url is not None:
        if not url.strip():
            raise InvalidInput(empty_variable("CLOUDCTL_DATABASE_URL", "a database URL"))
        return location_from_url(url.strip())
    env_path = os.environ.get("CLOUDCTL_DB")
    if env_path is not None:
        if not env_path.strip():
            raise InvalidInput(empty_variable("CLOUDCTL_DB", "the database file's path"))
        return sqlite_location(file_path(env_path.strip(), "CLOUDCTL_DB"))
    return sqlite_location(default_path())


def file_path(text: str, given_as: str) -> Path:
    """The database file's path, refusing one written as a folder (ending in a slash): Path() would
    quietly drop the slash and create a file where the user named a folder."""
    separators = (os.sep, os.altsep) if os.altsep else (os.sep,)
    if text.endswith(separators):
        raise InvalidInput(
            f"{given_as} was given {text}, which ends in '{text[-1]}' like a folder. Give the database "
            f"file's path without it (e.g. {text.rstrip(''.join(separators)) or 'cloudctl.db'}), or a "
            "file name inside the folder."
        )
    return Path(text)


def empty_variable(name: str, what: str) -> str:
    return (
        f"{name} is set but empty. Set it to {what}, or remove it (unset {name}) to use the default "
        f"database, {default_path()}."
    )


def location_from_url(url: str) -> DatabaseLocation:
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        path, question, query = path.partition("?")
        if question:
            raise InvalidInput(
                f"cloudctl opens SQLite files itself: drop '?{query}' from the database URL; a database "
                "file without write permission is opened read-only."
            )
        if not path.strip():
            raise InvalidInput(
                "The SQLite URL names no file: write it as sqlite:///path/to/cloudctl.db "
                "(four slashes before an absolute path: sqlite:////home/office/cloudctl.db)."
            )
        return sqlite_location(file_path(path, "The database URL"))
    return DatabaseLocation(url=with_postgres_driver(url), path=None)


def location_from_url_or_path(text: str) -> DatabaseLocation:
    """A database URL, or a plain path to an SQLite file (as `db copy --to` takes)."""
    text = text.strip()
    return location_from_url(text) if "://" in text else sqlite_location(file_path(text, "The path"))


def with_postgres_driver(url: str) -> str:
    """postgres:// and postgresql:// (as psql and libpq write them) use psycopg 3, cloudctl's driver."""
    scheme, sep, rest = url.partition("://")
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg{sep}{rest}"
    return url


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
