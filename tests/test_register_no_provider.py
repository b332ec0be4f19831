"""A register that never names providers: services without one are listed, never dropped, never exported to.

Revision constants (the lead renumbers migrations at merge): PREVIOUS is the revision before the provider
became optional, THIS the one that made it so.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect, text

from cloudctl.db import migrate
from cloudctl.db.engine import make_engine
from cloudctl.db.location import sqlite_location

PREVIOUS = "0008"
THIS = "0009"

NO_PROVIDERS = """Apps we use in class

Google Classroom
Purpose of data: Setting and handing in work
Information shared: child name, email address
Year groups: Y3 - Y6

Times Tables Rock Stars
Purpose of data: Times tables practice
Information shared: child name, class
Year groups: Y2 - Y6
"""


def _import(cli, tmp_path: Path, text: str, *args: str):
    path = tmp_path / "register.txt"
    path.write_text(text, encoding="utf-8")
    return cli.ok("register", "import", str(path), *args)


def test_a_register_without_providers_imports_and_says_so_once(cli, tmp_path):
    cli.ok("init", "--school", "Low Fell Primary")
    result = _import(cli, tmp_path, NO_PROVIDERS, "--category", "pupil")
    assert result.stderr.count("Service Provider") == 1  # one warning for the section, not one per entry
    services = cli.json("service", "list", "--all")
    assert sorted(service["name"] for service in services) == ["Google Classroom", "Times Tables Rock Stars"]
    assert all(service["provider"] is None for service in services)
    shown = cli.json("service", "show", "Google Classroom")
    assert shown["purpose"] == "Setting and handing in work"
    assert shown["data_shared"] == ["full name", "email addresses"]


def test_services_without_a_provider_are_in_every_report(cli, tmp_path):
    cli.ok("init", "--school", "Low Fell Primary")
    _import(cli, tmp_path, NO_PROVIDERS, "--category", "pupil")
    data_map = cli.json("report", "data-map")
    names = {service for row in data_map for service in row["services"]}
    assert "Google Classroom (pupil)" in names
    published = cli.ok("register", "publish", "--format", "text").stdout
    assert "Google Classroom" in published and "Times Tables Rock Stars" in published


def test_a_service_without_a_provider_is_never_exported_to(cli, tmp_path):
    cli.ok("init", "--school", "Low Fell Primary")
    _import(cli, tmp_path, NO_PROVIDERS, "--category", "pupil")
    cli.ok(
        "assess", "record", "Google Classroom", "--date", "2024-03-01", "--by", "DPO", "--outcome", "approved"
    )
    result = cli.fails("export", "enrolment", "Google Classroom")
    assert "no one to send" in result.stderr
    assert "--provider" in result.stderr


def test_the_migration_keeps_providers_and_lets_a_service_have_none(tmp_path):
    path = tmp_path / "cloudctl.db"
    engine = make_engine(sqlite_location(path))
    migrate.upgrade(engine, PREVIOUS)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO provider (id, name, created_at) VALUES (1, 'Acme', '2024-01-01')")
        )
        connection.execute(
            text(
                "INSERT INTO service (id, name, category, provider_id, purpose, data_shared_text, "
                "data_categories, service_type, year_groups_text, year_scope, year_codes, status, "
                "position, created_at, updated_at, extra_fields) VALUES (1, 'Padlet', 'pupil', 1, '', '', "
                "'[]', '', '', 'none', '', 'approved', 1, '2024-01-01', '2024-01-01', '{}')"
            )
        )
    migrate.upgrade(engine, THIS)
    engine.dispose()
    plain = create_engine(f"sqlite:///{path}")
    with plain.begin() as connection:
        assert connection.execute(text("SELECT name, provider_id FROM service")).all() == [("Padlet", 1)]
        columns = {column["name"]: column for column in inspect(connection).get_columns("service")}
        assert columns["provider_id"]["nullable"]
        connection.execute(text("UPDATE service SET provider_id = NULL"))
    plain.dispose()


def test_a_service_without_a_provider_is_on_the_consent_form_and_in_the_pupils_record(cli, tmp_path):
    from tests.helpers.pupils import add_pupils

    cli.ok("init", "--school", "Low Fell Primary")
    _import(cli, tmp_path, NO_PROVIDERS, "--category", "pupil")
    cli.ok(
        "assess", "record", "Google Classroom", "--date", "2024-03-01", "--by", "DPO", "--outcome", "approved"
    )
    (upn,) = add_pupils(cli.url, [{"year_group": "4", "class_name": "4B"}])
    forms = tmp_path / "forms.html"
    cli.ok("consent", "form", "--upn", upn, "--out", str(forms))
    page = forms.read_text(encoding="utf-8")
    assert "Google Classroom" in page and "not yet recorded by the school" in page
    cli.ok("consent", "optin", upn, "Google Classroom", "--by", "Jane Ashworth", "--relationship", "mother")
    held = cli.json("pupil", "show", upn)["services_holding_data"]
    assert [(row["service"], row["provider"]) for row in held] == [("Google Classroom", None)]
