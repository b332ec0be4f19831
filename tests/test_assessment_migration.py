"""The migration that makes assessments keep up with their services, on a database with data in it.

Assessments recorded before it must not become outdated by it, must still verify, and must be read as
before (no residual risk, no conditions, no sign-off needed).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import text

from cloudctl.db import migrate
from cloudctl.db.engine import make_engine
from cloudctl.db.location import sqlite_location
from tests.helpers.cli import Cli
from tests.helpers.history import insert_history

PREVIOUS = "0009"
THIS = "0010"


def _assessed() -> str:
    return (date.today() - timedelta(days=60)).isoformat()


NOW = "2025-01-01 09:00:00"


def _database_at_previous(path):
    engine = make_engine(sqlite_location(path))
    migrate.upgrade(engine, PREVIOUS)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO school_settings (id, school_name, register_title, year_groups, review_months, "
                "preamble) VALUES (1, 'Hunwick Primary School', 'Cloud Service Providers', 'R,1,2,3,4,5,6', "
                "12, '')"
            )
        )
        connection.execute(
            text("INSERT INTO provider (id, name, created_at) VALUES (1, 'Capita', :now)"), {"now": NOW}
        )
        connection.execute(
            text(
                "INSERT INTO service (id, name, category, provider_id, purpose, data_shared_text, "
                "data_categories, service_type, year_groups_text, year_scope, year_codes, status, "
                "extra_fields, position, created_at, updated_at) VALUES (1, 'SIMS', 'management', 1, "
                "'the MIS', 'DOB', :categories, 'Purchased', 'Y1 - Y6', 'years', '1,2,3,4,5,6', 'approved', "
                "'{}', 1, :now, :now)"
            ),
            {"categories": json.dumps(["date of birth"]), "now": NOW},
        )
        insert_history(
            connection,
            "risk_assessment",
            {
                "id": 1,
                "service_id": 1,
                "assessed_on": _assessed(),
                "assessed_by": "J Bloggs",
                "outcome": "approved",
                "recorded_at": NOW,
            },
        )
    return engine


def test_the_migration_adds_the_workflow_and_outdates_nothing(tmp_path, monkeypatch):
    path = tmp_path / "cloudctl.db"
    engine = _database_at_previous(path)
    migrate.upgrade(engine, THIS)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM service_change")).scalar() == 0
        assert connection.execute(text("SELECT COUNT(*) FROM assessment_event")).scalar() == 0
        assert connection.execute(
            text("SELECT residual_risk, conditions, conditions_due, assessed_on FROM risk_assessment")
        ).one() == (None, None, None, _assessed())
        assert connection.execute(text("SELECT sign_off_role FROM school_settings")).scalar() == "DPO"
    engine.dispose()

    url = f"sqlite:///{path}"
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", url)
    cli = Cli(url)
    assert json.loads(cli.ok("db", "verify", "--format", "json").stdout)["verified"] is True
    # The assessment made before the migration is current, not outdated and not waiting for a sign-off.
    assert cli.json("report", "overdue-assessments", "--within", "0") == []
    assert cli.json("service", "show", "SIMS")["status"] == "approved"
    (row,) = cli.json("assess", "history", "SIMS")
    assert (row["assessed_on"], row["outcome"], row["residual_risk"], row["changed_since"]) == (
        _assessed(),
        "approved",
        None,
        None,
    )
    # A change made after the migration outdates it.
    cli.ok("service", "edit", "SIMS", "--years", "All")
    (row,) = cli.json("report", "overdue-assessments", "--within", "0")
    assert (row["state"], row["last_assessed"]) == ("changed-since-assessed", _assessed())
    assert json.loads(cli.ok("db", "verify", "--format", "json").stdout)["verified"] is True
