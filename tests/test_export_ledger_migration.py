"""The export ledger's migration, on a database made at the revision before it with data in it."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from cloudctl.db import migrate
from tests.helpers.cli import Cli
from tests.helpers.history import insert_history
from tests.test_database import NOW, _database_at, query

PREVIOUS = "0011"
THIS = "0012"

LEDGER_ROW = {
    "id": 1, "service_id": 1, "provider_id": 1, "service_name": "SIMS", "provider_name": "Capita",
    "kind": "full", "file_format": "csv", "target": "sims.csv", "fields": '["upn"]', "pupil_count": 1,
    "sha256": "0" * 64, "recorded_by": "Office", "exported_at": NOW,
}  # fmt: skip


def _downgrade(engine, revision: str) -> None:
    config = migrate.alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_the_ledger_starts_empty_and_guarded_beside_what_was_there(tmp_path, monkeypatch):
    path = tmp_path / "cloudctl.db"
    engine = _database_at(PREVIOUS, path)
    events = query(path, "SELECT * FROM consent_event")
    pupils = query(path, "SELECT * FROM pupil")
    migrate.upgrade(engine, THIS)
    assert {"export_record", "export_pupil"} <= set(inspect(engine).get_table_names())
    assert query(path, "SELECT COUNT(*) FROM export_record") == [(0,)]
    assert (
        query(path, "SELECT * FROM consent_event") == events and query(path, "SELECT * FROM pupil") == pupils
    )
    with engine.begin() as connection:
        insert_history(connection, "export_record", LEDGER_ROW)
        insert_history(connection, "export_pupil", {"export_id": 1, "pupil_id": 1, "upn": "H801200001001",
                                                    "action": "full", "sent_values": "{}"})  # fmt: skip
    for statement in ("UPDATE export_record SET sha256 = 'x'", "DELETE FROM export_pupil"):
        with pytest.raises(DBAPIError, match="are history"), engine.begin() as connection:
            connection.execute(text(statement))
    engine.dispose()

    # At the newest schema the rows made before are read as they were, with the ledger row beside them.
    url = f"sqlite:///{path}"
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", url)
    cli = Cli(url)
    cli.ok("db", "verify")
    shown = cli.json("pupil", "show", "H801200001001")
    assert shown["forename"] == "Zoë" and shown["consent_history"]
    assert [(row["service"], row["upn_sent"]) for row in shown["exports"]] == [("SIMS", "H801200001001")]


def test_going_back_refuses_to_drop_a_ledger_with_rows(tmp_path):
    path = tmp_path / "cloudctl.db"
    engine = _database_at(PREVIOUS, path)
    migrate.upgrade(engine, THIS)
    _downgrade(engine, PREVIOUS)  # an empty ledger goes
    assert "export_record" not in inspect(create_engine(f"sqlite:///{path}")).get_table_names()
    migrate.upgrade(engine, THIS)
    with engine.begin() as connection:
        insert_history(connection, "export_record", LEDGER_ROW)
    with pytest.raises(RuntimeError, match="Restore the backup"):
        _downgrade(engine, PREVIOUS)
    assert query(path, "SELECT COUNT(*) FROM export_record") == [(1,)]
    engine.dispose()
