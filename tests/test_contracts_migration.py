"""The migration that adds agreements (service_contract) and the Art. 9 condition: existing databases keep
their data, and a register migrated with data in it reads correctly in the new reports."""

from __future__ import annotations

from sqlalchemy import inspect, text

from cloudctl.db import migrate
from tests.test_database import _database_at, query, revision_of

# The lead renumbers revisions at merge: this branch's refers to them only here.
PREVIOUS = "0010"
THIS = "0011"


def test_the_migration_adds_agreements_and_the_condition_and_keeps_the_register(tmp_path):
    path = tmp_path / "cloudctl.db"
    engine = _database_at(PREVIOUS, path)
    before = query(path, "SELECT id, name, category, provider_id, lawful_basis, status FROM service")
    migrate.upgrade(engine, THIS)
    assert revision_of(path) == THIS
    assert query(path, "SELECT id, name, category, provider_id, lawful_basis, status FROM service") == before
    # Nothing is assumed for the services already there.
    assert query(path, "SELECT special_category_condition FROM service") == [(None,)]
    assert query(path, "SELECT COUNT(*) FROM service_contract") == [(0,)]
    assert "ix_service_contract_service_id" in {
        index["name"] for index in inspect(engine).get_indexes("service_contract")
    }
    engine.dispose()


def test_a_register_from_before_reads_in_the_new_reports(tmp_path, monkeypatch):
    from tests.helpers.cli import Cli

    path = tmp_path / "cloudctl.db"
    _database_at(PREVIOUS, path).dispose()
    url = f"sqlite:///{path}"
    monkeypatch.delenv("CLOUDCTL_DB", raising=False)
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", url)
    cli = Cli(url)  # the first command migrates the database
    (row,) = cli.json("report", "ropa", "--as-of", "2026-06-01")
    assert row["service"] == "SIMS" and row["data_categories"] == ["date of birth", "medical"]
    assert row["special_category_condition"] is None and row["agreement"] is None
    assert row["dpia_state"] == "overdue"  # assessed December 2016
    assert revision_of(path) == migrate.head_revision()
    contracts = cli.json("report", "contracts", "--as-of", "2026-06-01")
    assert [(item["service"], item["state"]) for item in contracts] == [("SIMS", "missing-agreement")]


def test_the_migration_can_be_undone(tmp_path):
    path = tmp_path / "cloudctl.db"
    engine = _database_at(PREVIOUS, path)
    migrate.upgrade(engine, THIS)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO service_contract (service_id, dpa_signed_on, recorded_at, updated_at) "
                "VALUES (1, '2024-01-01', '2025-01-01 09:00:00', '2025-01-01 09:00:00')"
            )
        )
    from alembic import command

    with engine.connect() as connection:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # as upgrade does
        with connection.begin():
            config = migrate.alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, PREVIOUS)
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").first() is None
    assert query(path, "SELECT id, name FROM service") == [(1, "SIMS")]
    assert "service_contract" not in inspect(engine).get_table_names()
    assert "special_category_condition" not in {c["name"] for c in inspect(engine).get_columns("service")}
    engine.dispose()
