"""History is append-only in the database itself, on SQLite and PostgreSQL alike.

Consent events, what parents were told (service versions), risk assessments and UPN
changes may be added to, never changed or removed, whatever program touches the database:
the migrations install triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.helpers.pupils import add_pupils

GUARDED = ["consent_event", "service_version", "risk_assessment", "upn_change"]
CHANGES = {
    "consent_event": "UPDATE consent_event SET decision = 'opt-out'",
    "service_version": "UPDATE service_version SET purpose = 'something else'",
    "risk_assessment": "UPDATE risk_assessment SET assessed_by = 'someone else'",
    # Pointing a pupil's old UPN elsewhere would split them from their history.
    "upn_change": "UPDATE upn_change SET old_upn = 'H801200001001'",
}


@pytest.fixture
def with_history(hunwick_cli):
    """The Hunwick register (with its risk assessments), one parent's opt-in and a UPN change."""
    upn, other = add_pupils(hunwick_cli.url, [{"year_group": "3", "class_name": "3B"}, {"year_group": "3"}])
    hunwick_cli.ok("consent", "optin", upn, "My Maths", "--by", "Jane Smith")
    hunwick_cli.ok("pupil", "change-upn", other, "B801200005001")
    hunwick_cli.upn = upn
    return hunwick_cli


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() for table in GUARDED
            }
    finally:
        engine.dispose()


@pytest.mark.parametrize("table", GUARDED)
@pytest.mark.parametrize("action", ["update", "delete"])
def test_raw_sql_cannot_rewrite_history(with_history, table, action):
    url = with_history.url
    before = with_history.snapshot()
    assert all(counts(url).values()), "every guarded table needs a row for its triggers to fire"
    statements = [CHANGES[table]] if action == "update" else [f"DELETE FROM {table}"]
    if action == "delete" and url.startswith("postgresql"):
        statements.append(f"TRUNCATE {table} CASCADE")  # PostgreSQL's other way to empty a table
    engine = create_engine(url)
    try:
        for statement in statements:
            with (
                pytest.raises(Exception, match="are history: they cannot be changed or deleted"),
                engine.begin() as connection,
            ):
                connection.execute(text(statement))
    finally:
        engine.dispose()
    assert with_history.snapshot() == before


def test_a_new_event_is_still_added_after_a_refused_rewrite(with_history):
    """The guard refuses rewriting, never recording: an opt-out is a new event after the opt-in."""
    engine = create_engine(with_history.url)
    try:
        with pytest.raises(Exception, match="are history"), engine.begin() as connection:
            connection.execute(text(CHANGES["consent_event"]))
    finally:
        engine.dispose()
    with_history.ok("consent", "optout", with_history.upn, "My Maths", "--by", "Jane Smith")
    assert counts(with_history.url)["consent_event"] == 2


@pytest.mark.parametrize("table", GUARDED)
def test_an_insert_over_an_existing_row_cannot_rewrite_history(with_history, table):
    """SQLite's INSERT OR REPLACE deletes the old row without firing DELETE triggers, so a trigger of
    its own refuses it; PostgreSQL's ON CONFLICT DO UPDATE meets the UPDATE guard."""
    from sqlalchemy import inspect

    url = with_history.url
    before = with_history.snapshot()
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            listed = ", ".join(column["name"] for column in inspect(connection).get_columns(table))
        if url.startswith("sqlite"):
            statement = f"INSERT OR REPLACE INTO {table} ({listed}) SELECT {listed} FROM {table}"
        else:
            statement = (
                f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {table} "
                "ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id"
            )
        with pytest.raises(Exception, match="are history"), engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()
    assert with_history.snapshot() == before
