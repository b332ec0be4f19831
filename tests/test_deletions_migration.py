"""The deletions migration: a database at the revision before, with data in it, upgraded to this one."""

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
PREVIOUS = "0012"
THIS = "0013"


def test_the_deletions_migration_keeps_the_settings_and_adds_a_guarded_sealed_history(tmp_path):
    path = tmp_path / "cloudctl.db"
    engine = _database_at(PREVIOUS, path)
    settings_before = query(path, "SELECT school_name, review_months, year_groups FROM school_settings")
    consent_before = query(path, "SELECT id, decision, content_digest, chain_hash FROM consent_event")
    assert consent_before, "the database at the revision before has consent history"

    migrate.upgrade(engine, THIS)
    engine.dispose()

    assert (
        query(path, "SELECT school_name, review_months, year_groups FROM school_settings") == settings_before
    )
    # The row made before the migration reads the default deadline.
    assert query(path, "SELECT deletion_deadline_days FROM school_settings") == [(30,)]
    assert query(path, "SELECT id, decision, content_digest, chain_hash FROM consent_event") == consent_before

    # New deletion events are sealed into their own chain and guarded as history.
    writer = create_engine(f"sqlite:///{path}")
    try:
        with writer.begin() as connection:
            pupil_id = connection.execute(text("SELECT id FROM pupil")).scalar()
            service_id = connection.execute(text("SELECT id FROM service")).scalar()
            insert_history(connection, "deletion_event", {
                "pupil_id": pupil_id, "service_id": service_id, "provider_id": None, "provider_name": "P",
                "kind": "requested", "on_date": date(2026, 11, 2), "reason": "opted out on 2026-11-01",
                "due_since": date(2026, 11, 1), "recorded_by": "office",
                "recorded_at": datetime(2026, 11, 2, 9, tzinfo=UTC), "request_sha256": "a" * 64,
            })  # fmt: skip
        with pytest.raises(DBAPIError, match="are history"), writer.begin() as connection:
            connection.execute(text("UPDATE deletion_event SET kind = 'confirmed'"))
    finally:
        writer.dispose()
    db = open_database(sqlite_location(path))
    try:
        result = verify_database(db)
    finally:
        db.dispose()
    assert result.ok, result.problems


def test_the_deletions_migration_goes_back_only_while_nothing_was_recorded(tmp_path):
    path = tmp_path / "cloudctl.db"
    engine = _database_at(PREVIOUS, path)
    migrate.upgrade(engine, THIS)
    config = alembic_config()
    with engine.connect() as connection:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # as upgrade does
        with connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, PREVIOUS)
    engine.dispose()
    assert "deletion_deadline_days" not in {
        row[1] for row in query(path, "PRAGMA table_info(school_settings)")
    }
