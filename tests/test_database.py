"""The database: where it is, how it is opened, its migrations, and the rules it keeps itself."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from cloudctl.db import migrate
from cloudctl.db.engine import make_engine, open_database
from cloudctl.db.location import DatabaseLocation, sqlite_location
from cloudctl.db.schema_version import HEAD_REVISION
from tests.conftest import HUNWICK
from tests.helpers.cli import Cli
from tests.helpers.history import insert_history


@pytest.fixture
def file_cli(tmp_path, monkeypatch) -> Cli:
    """For tests that choose the database with --db: no database in the environment."""
    for name in ("CLOUDCTL_DATABASE_URL", "CLOUDCTL_DB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    return Cli(f"sqlite:///{tmp_path / 'unused.db'}")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def query(path: Path, sql: str) -> list[tuple]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def revision_of(path: Path) -> str:
    return query(path, "SELECT version_num FROM alembic_version")[0][0]


# ---- where the database is, and its file ----------------------------------------------------------------


def test_a_new_database_file_is_readable_only_by_its_owner(file_cli, tmp_path):
    path = tmp_path / "school" / "cloudctl.db"
    path.parent.mkdir()  # only the default data folder is made by cloudctl (tests/test_database_paths.py)
    file_cli.ok("--db", str(path), "init", "--school", "Hunwick Primary School")
    assert mode(path) == 0o600
    for sidecar in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if sidecar.exists():
            assert mode(sidecar) & 0o077 == 0, sidecar


def test_db_option_selects_the_file(file_cli, tmp_path):
    chosen = tmp_path / "chosen.db"
    file_cli.ok("--db", str(chosen), "init", "--school", "Chosen")
    assert query(chosen, "SELECT school_name FROM school_settings") == [("Chosen",)]


def test_cloudctl_db_selects_the_file(file_cli, tmp_path, monkeypatch):
    chosen = tmp_path / "from-env.db"
    monkeypatch.setenv("CLOUDCTL_DB", str(chosen))
    file_cli.ok("init", "--school", "From CLOUDCTL_DB")
    assert query(chosen, "SELECT school_name FROM school_settings") == [("From CLOUDCTL_DB",)]


def test_cloudctl_database_url_selects_the_database(file_cli, tmp_path, monkeypatch):
    chosen = tmp_path / "from-url.db"
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", f"sqlite:///{chosen}")
    file_cli.ok("init", "--school", "From the URL")
    assert query(chosen, "SELECT school_name FROM school_settings") == [("From the URL",)]


def test_db_beats_the_url_which_beats_cloudctl_db(file_cli, tmp_path, monkeypatch):
    by_option, by_url, by_env = (tmp_path / name for name in ("option.db", "url.db", "env.db"))
    monkeypatch.setenv("CLOUDCTL_DB", str(by_env))
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", f"sqlite:///{by_url}")
    file_cli.ok("--db", str(by_option), "init", "--school", "Option")
    file_cli.ok("init", "--school", "URL")
    assert query(by_option, "SELECT school_name FROM school_settings") == [("Option",)]
    assert query(by_url, "SELECT school_name FROM school_settings") == [("URL",)]
    assert not by_env.exists()


def test_without_a_choice_the_database_is_in_the_user_data_folder(file_cli, tmp_path):
    result = file_cli.ok("init", "--school", "Default")
    default = tmp_path / "xdg" / "cloudctl" / "cloudctl.db"
    assert str(default) in result.stderr
    assert query(default, "SELECT school_name FROM school_settings") == [("Default",)]
    assert mode(default) == 0o600


def test_a_database_in_a_folder_that_cannot_be_made_is_refused_plainly(file_cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = file_cli.run("--db", str(blocker / "cloudctl.db"), "service", "list")
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert str(blocker) in result.stderr


# ---- connections ------------------------------------------------------------------------------------------


def test_foreign_keys_wal_and_busy_timeout_are_set_on_every_connection(tmp_path):
    db = open_database(sqlite_location(tmp_path / "cloudctl.db"))
    try:
        # Two connections open at once are two different connections from the pool.
        with db.engine.connect() as first, db.engine.connect() as second:
            assert first.connection.dbapi_connection is not second.connection.dbapi_connection
            for connection in (first, second):
                assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        db.engine.dispose()  # and a connection made afresh
        with db.engine.connect() as third:
            assert third.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert third.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        db.dispose()


def test_foreign_keys_are_enforced(db_url):
    db = open_database(_location(db_url))
    try:
        with pytest.raises(DBAPIError), db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO service (name, category, provider_id, purpose, data_shared_text, "
                    "data_categories, service_type, year_groups_text, year_scope, year_codes, status, "
                    "extra_fields, position, created_at, updated_at) VALUES ('Orphan', 'pupil', 999, '', '', "
                    "'[]', '', '', 'none', '', 'awaiting-assessment', '{}', 1, '2025-01-01', '2025-01-01')"
                )
            )
    finally:
        db.dispose()


def _sqlite(url: str) -> DatabaseLocation:
    return sqlite_location(Path(url.removeprefix("sqlite:///")))


def _location(url: str) -> DatabaseLocation:
    return _sqlite(url) if url.startswith("sqlite") else DatabaseLocation(url=url, path=None)


# ---- risk assessments are history -------------------------------------------------------------------------


def test_risk_assessments_refuse_raw_update_and_delete(hunwick_cli):
    engine = create_engine(hunwick_cli.url)
    try:
        with engine.connect() as connection:
            count = connection.execute(text("SELECT count(*) FROM risk_assessment")).scalar()
        assert count == 18
        for statement in (
            "UPDATE risk_assessment SET outcome = 'rejected'",
            "UPDATE risk_assessment SET assessed_on = '2026-01-01' WHERE id = 1",
            "DELETE FROM risk_assessment",
            "DELETE FROM risk_assessment WHERE id = 1",
        ):
            with pytest.raises(DBAPIError, match="are history"), engine.begin() as connection:
                connection.execute(text(statement))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM risk_assessment")).scalar() == 18
            assert (
                connection.execute(
                    text("SELECT count(*) FROM risk_assessment WHERE outcome = 'approved'")
                ).scalar()
                == 18
            )
    finally:
        engine.dispose()


def test_the_history_refusal_reads_plainly(capsys):
    from cloudctl.cli.errors import message_for

    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
        connection.exec_driver_sql(
            "CREATE TRIGGER t_no_delete BEFORE DELETE ON t BEGIN SELECT RAISE(ABORT, 'x are history'); END"
        )
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
    with pytest.raises(DBAPIError) as caught, engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM t")
    message, code = message_for(caught.value)
    assert code == 1
    assert "never changed or deleted" in message


# ---- migrations -------------------------------------------------------------------------------------------


def test_head_revision_matches_the_newest_migration():
    assert migrate.head_revision() == HEAD_REVISION
    assert HEAD_REVISION in migrate.known_revisions()


def _compare_server_default(
    context, inspected_column, metadata_column, inspected, metadata_default, rendered
):
    """Compare the text of the defaults, not how the database quotes them: SQLite reflects '' as "('')",
    PostgreSQL as "''::text"."""
    if inspected is None and metadata_default is None:
        return False

    def bare(value):
        text_value = getattr(getattr(value, "arg", value), "text", getattr(value, "arg", value))
        if text_value is None:
            return None
        return re.sub(r"::[a-z ]+$", "", str(text_value).strip()).strip("()").strip("'\"")

    return bare(inspected) != bare(metadata_default)


def test_migrating_an_empty_database_to_head_matches_the_models(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import cloudctl.db.models  # noqa: F401  (registers the tables)

    db = open_database(_location(db_url))
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": True, "compare_server_default": _compare_server_default},
            )
            assert compare_metadata(context, SQLModel.metadata) == []
            assert (
                connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
            )
    finally:
        db.dispose()


def test_the_comparison_would_notice_a_table_the_migrations_lack(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    import cloudctl.db.models  # noqa: F401

    engine = make_engine(sqlite_location(tmp_path / "old.db"))
    migrate.upgrade(engine, "0001")
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        added = {
            diff[1].name for diff in compare_metadata(context, SQLModel.metadata) if diff[0] == "add_table"
        }
    engine.dispose()
    assert {"pupil", "consent_event"} <= added


def _revisions() -> list[str]:
    """Every revision, oldest first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


NOW = "2025-01-01 09:00:00"


def _add_register_rows(connection) -> None:
    connection.execute(
        text(
            "INSERT INTO school_settings (id, school_name, register_title, year_groups, review_months, "
            "preamble) VALUES (1, 'Hunwick Primary School', 'Cloud Service Providers', 'R,1,2,3,4,5,6', 12, "
            "'Intro')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO provider (id, name, website, notes, created_at) "
            "VALUES (1, 'Capita', NULL, NULL, :now)"
        ),
        {"now": NOW},
    )
    connection.execute(
        text(
            "INSERT INTO service (id, name, category, provider_id, purpose, data_shared_text, "
            "data_categories, service_type, year_groups_text, year_scope, year_codes, status, extra_fields, "
            "position, created_at, updated_at) VALUES (1, 'SIMS', 'management', 1, "
            "'registration on mobile devices', 'DOB, medical', :categories, 'Purchased', 'All', 'years', "
            "'R,1,2,3,4,5,6', 'approved', '{}', 1, :now, :now)"
        ),
        {"categories": json.dumps(["date of birth", "medical"]), "now": NOW},
    )
    insert_history(
        connection,
        "risk_assessment",
        {
            "id": 1,
            "service_id": 1,
            "assessed_on": "2016-12-01",
            "assessed_by": "J Bloggs",
            "outcome": "approved",
            "recorded_at": NOW,
        },
    )


def _add_pupil_rows(connection) -> None:
    connection.execute(
        text(
            "INSERT INTO pupil (id, upn, upn_temporary, forename, surname, dob, year_group, on_roll, "
            "created_at, updated_at) VALUES (1, 'H801200001001', :false, 'Zoë', 'Smith', '2016-04-03', '3', "
            ":true, :now, :now)"
        ),
        {"now": NOW, "true": True, "false": False},
    )


def _add_consent_rows(connection) -> None:
    insert_history(
        connection,
        "service_version",
        {
            "id": 1,
            "service_id": 1,
            "purpose": "registration",
            "data_shared_text": "DOB, medical",
            "data_categories": "[]",
            "recorded_at": NOW,
        },
    )
    insert_history(
        connection,
        "consent_event",
        {
            "id": 1,
            "pupil_id": 1,
            "service_id": 1,
            "service_version_id": 1,
            "decision": "opt-in",
            "effective_on": "2025-01-02",
            "method": "form",
            "recorded_by": "Office",
            "selected": False,
            "recorded_at": NOW,
        },
    )


def _database_at(revision: str, path: Path):
    """An SQLite database migrated to `revision`, with rows in every table that revision has."""
    engine = make_engine(sqlite_location(path))
    migrate.upgrade(engine, revision)
    with engine.begin() as connection:
        _add_register_rows(connection)
        tables = inspect(connection).get_table_names()
        if "pupil" in tables:
            _add_pupil_rows(connection)
        if "consent_event" in tables:
            _add_consent_rows(connection)
    return engine


def _register_rows(path: Path) -> list:
    return [
        query(path, "SELECT school_name, review_months, preamble FROM school_settings"),
        query(path, "SELECT id, name FROM provider"),
        query(path, "SELECT id, name, category, provider_id, data_categories, status FROM service"),
        query(path, "SELECT id, service_id, assessed_on, outcome FROM risk_assessment"),
    ]


@pytest.mark.parametrize("target", _revisions()[1:])
def test_each_migration_keeps_the_data_of_the_revision_before(tmp_path, target):
    revisions = _revisions()
    previous = revisions[revisions.index(target) - 1]
    path = tmp_path / "cloudctl.db"
    engine = _database_at(previous, path)
    had_pupils = "pupil" in inspect(engine).get_table_names()
    before = _register_rows(path)
    pupils_before = query(path, "SELECT upn, forename, surname, dob FROM pupil") if had_pupils else None

    migrate.upgrade(engine, target)
    engine.dispose()

    assert revision_of(path) == target
    assert _register_rows(path) == before
    if had_pupils:
        assert query(path, "SELECT upn, forename, surname, dob FROM pupil") == pupils_before
    # The database still keeps its rules after the step.
    assert query(path, "PRAGMA foreign_key_check") == []
    with (
        pytest.raises(DBAPIError, match="are history"),
        create_engine(f"sqlite:///{path}").begin() as connection,
    ):
        connection.execute(text("DELETE FROM risk_assessment"))


def test_the_pupils_migration_adds_pupils_beside_the_register(tmp_path):
    path = tmp_path / "cloudctl.db"
    engine = _database_at("0001", path)
    migrate.upgrade(engine, "0002")
    with engine.begin() as connection:
        _add_pupil_rows(connection)
    engine.dispose()
    assert query(path, "SELECT upn, forename FROM pupil") == [("H801200001001", "Zoë")]


def test_the_consent_migration_keeps_pupils_and_guards_consent_history(tmp_path):
    path = tmp_path / "cloudctl.db"
    engine = _database_at("0002", path)
    migrate.upgrade(engine, "0003")
    with engine.begin() as connection:
        _add_consent_rows(connection)
    for statement in ("UPDATE consent_event SET decision = 'opt-out'", "DELETE FROM consent_event"):
        with pytest.raises(DBAPIError, match="are history"), engine.begin() as connection:
            connection.execute(text(statement))
    with pytest.raises(DBAPIError), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO consent_event (pupil_id, service_id, service_version_id, decision, "
                "effective_on, method, recorded_by, selected, recorded_at) "
                "VALUES (1, 1, 1, 'maybe', '2025-01-02', 'paper', 'Office', 0, :now)"
            ),
            {"now": NOW},
        )
    engine.dispose()
    assert query(path, "SELECT upn FROM pupil") == [("H801200001001",)]


@pytest.mark.parametrize(
    "command",
    [("service", "list", "--format", "json"), ("provider", "list"), ("report", "data-map"), ("init",)],
    ids=" ".join,
)
def test_any_command_upgrades_an_old_database_after_backing_it_up(file_cli, tmp_path, command):
    path = tmp_path / "cloudctl.db"
    _database_at("0001", path).dispose()
    before = _register_rows(path)

    file_cli.ok("--db", str(path), *command)

    assert revision_of(path) == HEAD_REVISION
    assert _register_rows(path) == before
    (backup,) = tmp_path.glob(f"cloudctl.db.before-{HEAD_REVISION}-from-0001-*.bak")
    assert mode(backup) == 0o600
    # The backup is the database as it was, before the upgrade.
    assert revision_of(backup) == "0001"
    assert _register_rows(backup) == before
    assert "pupil" not in [
        row[0] for row in query(backup, "SELECT name FROM sqlite_master WHERE type = 'table'")
    ]


def test_the_upgraded_database_works_as_a_new_one(file_cli, tmp_path):
    path = tmp_path / "cloudctl.db"
    _database_at("0001", path).dispose()
    (sims,) = file_cli.json("--db", str(path), "service", "list")
    assert (sims["name"], sims["data_shared"], sims["last_assessed"]) == (
        "SIMS",
        ["date of birth", "medical"],
        "2016-12-01",
    )
    file_cli.ok("--db", str(path), "register", "import", str(HUNWICK))
    assert len(file_cli.json("--db", str(path), "service", "list")) == 19


def test_a_current_database_is_not_backed_up_again(file_cli, tmp_path):
    path = tmp_path / "cloudctl.db"
    file_cli.ok("--db", str(path), "init")
    file_cli.ok("--db", str(path), "service", "list")
    assert list(tmp_path.glob("*.bak")) == []


def test_a_database_from_a_newer_cloudctl_is_refused(file_cli, tmp_path):
    path = tmp_path / "cloudctl.db"
    file_cli.ok("--db", str(path), "init", "--school", "Hunwick Primary School")
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    before = path.read_bytes()

    result = file_cli.run("--db", str(path), "service", "list")

    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert "9999" in result.stderr
    assert "newer cloudctl" in result.stderr
    assert "Upgrade cloudctl" in result.stderr
    assert revision_of(path) == "9999"
    assert list(tmp_path.glob("*.bak")) == []
    assert path.read_bytes() == before


def test_the_replace_guard_migration_keeps_consent_and_refuses_insert_or_replace(tmp_path):
    path = tmp_path / "cloudctl.db"
    engine = _database_at("0003", path)  # with a consent event in it
    migrate.upgrade(engine, "0004")
    assert query(path, "SELECT id, decision FROM consent_event") == [(1, "opt-in")]
    with pytest.raises(DBAPIError, match="are history"), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT OR REPLACE INTO consent_event (id, pupil_id, service_id, service_version_id, "
                "decision, effective_on, method, recorded_by, selected, recorded_at) "
                "VALUES (1, 1, 1, 1, 'opt-out', '2025-01-02', 'form', 'Office', 0, :now)"
            ),
            {"now": NOW},
        )
    engine.dispose()
    assert query(path, "SELECT id, decision FROM consent_event") == [(1, "opt-in")]


def test_the_section_order_migration_keeps_the_order_registers_were_published_in(tmp_path):
    path = tmp_path / "cloudctl.db"
    engine = _database_at("0006", path)
    with engine.begin() as connection:
        for category, heading in (("statutory", "Legal Requirements"), ("pupil", "Services for Pupils")):
            connection.execute(
                text(
                    "INSERT INTO register_section (category, heading, intro) VALUES (:category, :heading, '')"
                ),
                {"category": category, "heading": heading},
            )
    migrate.upgrade(engine, "0007")
    engine.dispose()
    # Before 0007 the sections were published pupil, management, other, statutory: that order is kept.
    assert query(path, "SELECT category, position FROM register_section ORDER BY position") == [
        ("pupil", 0),
        ("statutory", 3),
    ]
