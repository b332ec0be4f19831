"""Where the database lives: `--db PATH`, CLOUDCTL_DATABASE_URL, CLOUDCTL_DB, or the user data directory.

Kept free of SQLAlchemy so that the CLI can work it out without heavy imports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


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
    """`--db` wins, then CLOUDCTL_DATABASE_URL, then CLOUDCTL_DB, then the default file."""
    if db_option:
        return sqlite_location(Path(db_option))
    url = os.environ.get("CLOUDCTL_DATABASE_URL", "").strip()
    if url:
        return location_from_url(url)
    env_path = os.environ.get("CLOUDCTL_DB", "").strip()
    if env_path:
        return sqlite_location(Path(env_path))
    return sqlite_location(default_path())


def location_from_url(url: str) -> DatabaseLocation:
    if url.startswith("sqlite:///"):
        return sqlite_location(Path(url.removeprefix("sqlite:///")))
    return DatabaseLocation(url=with_postgres_driver(url), path=None)


def location_from_url_or_path(text: str) -> DatabaseLocation:
    """A database URL, or a plain path to an SQLite file (as `db copy --to` takes)."""
    text = text.strip()
    return location_from_url(text) if "://" in text else sqlite_location(Path(text))


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
