"""The reply codes revision: a database with consent history from the revision before upgrades, its rows
read as before and still verify, and forms can be issued for its pupils afterwards."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from cloudctl.db import migrate
from tests.helpers.cli import Cli
from tests.helpers.history import insert_history
from tests.test_database import _database_at, query, revision_of

PREVIOUS = "0007"
THIS = "0008"


def test_the_reply_codes_revision_keeps_consent_history_and_adds_the_forms_table(tmp_path, monkeypatch):
    path = tmp_path / "cloudctl.db"
    engine = _database_at(PREVIOUS, path)
    events_before = query(path, "SELECT * FROM consent_event ORDER BY id")
    settings_before = query(path, "SELECT school_name, review_months, preamble FROM school_settings")
    assert events_before, "the database before holds consent history"

    migrate.upgrade(engine, THIS)
    engine.dispose()

    assert revision_of(path) == THIS
    columns = [row[1] for row in query(path, "PRAGMA table_info(consent_event)")]
    events_after = query(path, "SELECT * FROM consent_event ORDER BY id")
    # Old rows read as before, with no form (NULL), so their sealed digests still hold.
    assert [row[: len(events_before[0])] for row in events_after] == events_before
    assert [row[columns.index("reply_code_id")] for row in events_after] == [None] * len(events_after)
    assert query(path, "SELECT school_name, review_months, preamble FROM school_settings") == settings_before
    assert query(path, "SELECT reply_code_days, consent_months FROM school_settings") == [(90, None)]
    assert query(path, "SELECT COUNT(*) FROM reply_code") == [(0,)]
    # A form issued to the pupil already there is history from the start.
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        insert_history(connection, "reply_code", {
            "code": "K7QM4XPB", "pupil_id": 1, "issued_on": "2026-09-01", "expires_on": "2026-11-30",
            "service_versions": "[1]", "form": "{}", "issued_by": "office",
            "recorded_at": "2026-09-01 09:00:00",
        })  # fmt: skip
    engine.dispose()
    with (
        pytest.raises(DBAPIError, match="Issued consent forms are history"),
        create_engine(f"sqlite:///{path}").begin() as connection,
    ):
        connection.execute(text("DELETE FROM reply_code"))

    url = f"sqlite:///{path}"
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", url)
    monkeypatch.delenv("CLOUDCTL_DB", raising=False)
    cli = Cli(url)
    record = json.loads(cli.ok("db", "verify", "--format", "json").stdout)
    chains = {chain["table"]: chain["rows"] for chain in record["chains"]}
    assert chains["consent_event"] == len(events_before) and chains["reply_code"] == 1
    # The history the old revision wrote still shows, and forms can be issued after it.
    assert [row["decision"] for row in cli.json("consent", "history", "H801200001001")] == ["opt-in"]
    assert cli.json("consent", "history", "H801200001001")[0]["form"] is None
