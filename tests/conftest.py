"""Shared fixtures: one test suite, two databases.

Every test that takes `cli` (or `db_url`) runs on a fresh SQLite file and, when
CLOUDCTL_TEST_POSTGRES_URL names a PostgreSQL server (an admin URL, e.g.
postgresql+psycopg://postgres@127.0.0.1:54329/postgres), on a fresh PostgreSQL
database too. With CI=true the PostgreSQL half is required, never skipped.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from tests.helpers.cli import Cli

DATA = Path(__file__).parent / "data"
HUNWICK = DATA / "hunwick-cloud-service-providers.txt"
POSTGRES_ENV = "CLOUDCTL_TEST_POSTGRES_URL"


def _backends() -> list[str]:
    if os.environ.get(POSTGRES_ENV):
        return ["sqlite", "postgresql"]
    if os.environ.get("CI") == "true":
        raise pytest.UsageError(
            f"CI=true but {POSTGRES_ENV} is not set: the PostgreSQL half of the suite must run in CI."
        )
    return ["sqlite"]


@pytest.fixture(scope="session")
def postgres_template():
    """A database migrated to head once, copied for each test (CREATE DATABASE ... TEMPLATE)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from cloudctl.db.engine import open_database
    from cloudctl.db.location import DatabaseLocation

    admin_url = make_url(os.environ[POSTGRES_ENV])
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    template = f"cloudctl_template_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{template}"'))
    template_url = admin_url.set(database=template).render_as_string(hide_password=False)
    open_database(DatabaseLocation(url=template_url, path=None)).dispose()
    yield admin, admin_url, template
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=_backends())
def db_url(request, tmp_path):
    """The URL of a fresh, empty (migrated) database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cloudctl.db'}"
        return
    from sqlalchemy import text

    admin, admin_url, template = request.getfixturevalue("postgres_template")
    name = f"cloudctl_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def cli(db_url, monkeypatch, tmp_path) -> Cli:
    """Run cloudctl commands against a fresh database on each backend."""
    monkeypatch.delenv("CLOUDCTL_DB", raising=False)
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    return Cli(db_url)


@pytest.fixture
def sqlite_cli(tmp_path, monkeypatch) -> Cli:
    """For what only SQLite has: the file itself (permissions, backups, crash safety)."""
    url = f"sqlite:///{tmp_path / 'cloudctl.db'}"
    monkeypatch.delenv("CLOUDCTL_DB", raising=False)
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    return Cli(url)


@pytest.fixture
def hunwick_cli(cli) -> Cli:
    """A database holding the Hunwick register, for a school teaching R and 1-6."""
    cli.ok("init", "--school", "Hunwick Primary School", "--years", "R,1-6")
    cli.ok("register", "import", str(HUNWICK))
    return cli
