"""The migration that gives consent events their time of day: a database at the revision before, with
consent history in it, upgraded to this one."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from cloudctl.db import migrate
from cloudctl.db.admin import verify_database
from cloudctl.db.engine import open_database
from cloudctl.db.location import sqlite_location
from cloudctl.db.migrate import alembic_config
from tests.helpers.history import insert_history
from tests.test_database import _database_at, query

# The lead renumbers revisions at merge: refer to them only here.
PREVIOUS = "0013"
THIS = "0014"

_COLUMNS = "id, decision, effective_on, content_digest, chain_hash"


def _timed_event(connection) -> None:
    row = connection.execute(
        text("SELECT pupil_id, service_id, service_version_id FROM consent_event ORDER BY id LIMIT 1")
    ).one()
    insert_history(connection, "consent_event", {
        "pupil_id": row[0], "service_id": row[1], "service_version_id": row[2], "decision": "opt-in",
        "effective_on": date(2026, 9, 12), "effective_time": "10:31:22", "given_by": "Jane Smith",
        "method": "online-form", "recorded_by": "office", "selected": False, "bulk": False,
        "recorded_at": datetime(2026, 9, 12, 11, tzinfo=UTC),
    })  # fmt: skip


def test_the_time_of_day_migration_keeps_the_sealed_history_and_new_rows_carry_their_time(tmp_path):
    path = tmp_path / "cloudctl.db"
    engine = _database_at(PREVIOUS, path)
    before = query(path, f"SELECT {_COLUMNS} FROM consent_event ORDER BY id")
    assert before, "the database at the revision before has consent history"

    migrate.upgrade(engine, THIS)
    engine.dispose()

    assert query(path, f"SELECT {_COLUMNS} FROM consent_event ORDER BY id") == before
    # The rows from before are known by their date alone.
    assert query(path, "SELECT DISTINCT effective_time FROM consent_event") == [(None,)]
    writer = create_engine(f"sqlite:///{path}")
    try:
        with writer.begin() as connection:
            _timed_event(connection)
        with pytest.raises(DBAPIError, match="are history"), writer.begin() as connection:
            connection.execute(text("UPDATE consent_event SET effective_time = '23:59:59'"))
    finally:
        writer.dispose()
    assert query(path, "SELECT effective_time FROM consent_event WHERE effective_time IS NOT NULL") == [
        ("10:31:22",)
    ]
    db = open_database(sqlite_location(path))
    try:
        result = verify_database(db)
    finally:
        db.dispose()
    assert result.ok, result.problems


def _downgrade(engine) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # as upgrade does
        with connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, PREVIOUS)


def test_the_time_of_day_migration_goes_back_only_while_no_time_was_recorded(tmp_path):
    path = tmp_path / "cloudctl.db"
    engine = _database_at(PREVIOUS, path)
    migrate.upgrade(engine, THIS)
    _downgrade(engine)
    engine.dispose()
    assert "effective_time" not in {row[1] for row in query(path, "PRAGMA table_info(consent_event)")}

    timed = tmp_path / "timed.db"
    engine = _database_at(PREVIOUS, timed)
    migrate.upgrade(engine, THIS)
    with engine.begin() as connection:
        _timed_event(connection)
    with pytest.raises(RuntimeError, match="sealed with their time of day"):
        _downgrade(engine)
    engine.dispose()
