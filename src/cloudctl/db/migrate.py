"""Running the Alembic migrations programmatically, on the connection cloudctl already has.

The scripts live in `migrations/` at the top of the repository; the wheel carries
them as `cloudctl/migrations` (hatchling force-include), so both places are tried.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import cloudctl


def migrations_dir() -> Path:
    package_dir = Path(cloudctl.__file__).parent
    for candidate in (package_dir / "migrations", package_dir.parent.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("cloudctl's migrations folder is missing from this installation")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


@cache
def known_revisions() -> frozenset[str]:
    scripts = ScriptDirectory.from_config(alembic_config())
    return frozenset(revision.revision for revision in scripts.walk_revisions())


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade_to_head(engine: Engine, revision: str = "head") -> None:
    upgrade(engine, revision)


def upgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite changes a column by copying its table, and dropping a table that others point at
            # (service_version, under consent events) would break their foreign keys mid-way. SQLite's
            # documented procedure: keys off for the migration (only outside a transaction), all of
            # them checked before it commits.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        try:
            # A write transaction takes the write lock first (BEGIN IMMEDIATE, or PostgreSQL's advisory
            # lock), so when several people start an upgraded cloudctl at once one migrates and the
            # others wait, then find the schema already current and do nothing.
            with connection.execution_options(cloudctl_write=True).begin():
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise RuntimeError("a migration left rows pointing at rows that do not exist")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")
