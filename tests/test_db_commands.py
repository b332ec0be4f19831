"""`cloudctl db status`, `db backup` and `db copy`: seeing, keeping and moving the whole database."""

from __future__ import annotations

import os
import stat
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url

from cloudctl.db.schema_version import HEAD_REVISION
from tests.conftest import HUNWICK, POSTGRES_ENV
from tests.helpers.cli import Cli, snapshot
from tests.helpers.history import insert_history
from tests.helpers.pupils import add_pupils


def fill(cli: Cli) -> list[str]:
    """Something in every table: the register, pupils, a UPN change, opt-ins and an opt-out."""
    upns = add_pupils(
        cli.url, [{"year_group": "3", "class_name": "3B"}, {"year_group": "4", "class_name": "4A"}]
    )
    for upn in upns:
        cli.ok("consent", "optin", upn, "My Maths", "--by", "Jane Smith", "--date", "2026-09-01")
    cli.ok("consent", "optout", upns[1], "My Maths", "--by", "Jane Smith", "--date", "2026-10-01")
    engine = create_engine(cli.url)
    try:
        with engine.begin() as connection:
            pupil_id = connection.execute(
                text("SELECT id FROM pupil WHERE upn = :u"), {"u": upns[0]}
            ).scalar()
            insert_history(
                connection,
                "upn_change",
                {
                    "pupil_id": pupil_id,
                    "old_upn": "G80120000101A",
                    "new_upn": upns[0],
                    "changed_at": datetime(2026, 9, 2, 8, 30, tzinfo=UTC),
                },
            )
    finally:
        engine.dispose()
    return upns


def contents(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, with times in UTC, so SQLite and PostgreSQL copies compare equal."""

    def plain(value):
        if isinstance(value, datetime):
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
            return value.isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return value

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            metadata = MetaData()
            metadata.reflect(bind=connection)
            return {
                name: sorted(
                    tuple(plain(value) for value in row)
                    for row in connection.execute(select(table).order_by(*table.primary_key.columns))
                )
                for name, table in sorted(metadata.tables.items())
                if name != "alembic_version"
            }
    finally:
        engine.dispose()


def counts(url: str) -> dict[str, int]:
    return {table: len(rows) for table, rows in contents(url).items()}


def sqlite_url(path) -> str:
    return f"sqlite:///{path}"


# --- status ---------------------------------------------------------------------------------------


def test_status_shows_the_backend_the_revision_and_the_rows(hunwick_cli):
    fill(hunwick_cli)
    status = hunwick_cli.json("db", "status")
    assert status["backend"] == make_url(hunwick_cli.url).get_backend_name()
    assert status["schema_revision"] == HEAD_REVISION
    assert status["schema"] == "up to date"
    assert status["history"] == "verified"
    assert status["integrity"].startswith(("ok", "not available"))
    assert {row["table"]: row["rows"] for row in status["tables"]} == counts(hunwick_cli.url)
    assert status["total_rows"] == sum(counts(hunwick_cli.url).values())

    table = hunwick_cli.ok("db", "status").stdout
    assert "schema revision" in table and "consent_event" in table and "history" in table

    csv_lines = hunwick_cli.ok("db", "status", "--format", "csv").stdout.splitlines()
    assert csv_lines[0] == "backend,location,schema_revision,table,rows"
    # A line for every table the database holds.
    assert len(csv_lines) == 1 + len(counts(hunwick_cli.url))


def test_status_never_shows_the_password(cli, monkeypatch):
    cli.ok("init", "--school", "Hunwick Primary School")
    url = make_url(cli.url)
    if url.get_backend_name() == "postgresql" and not url.password:
        # A throwaway test server trusts loopback, so any password gets in: use one to hide.
        url = url.set(password="Sup3r-secret")
        monkeypatch.setenv("CLOUDCTL_DATABASE_URL", url.render_as_string(hide_password=False))
    result = cli.ok("db", "status", "--format", "json")
    if url.password:
        assert url.password not in result.stdout + result.stderr
        assert ":***@" in result.stdout


def test_status_of_a_missing_file_says_so_and_creates_nothing(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere.db"
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", sqlite_url(missing))
    result = Cli(sqlite_url(missing)).run("db", "status")
    assert result.exit_code == 1
    assert "There is no database" in result.stderr and "cloudctl init" in result.stderr
    assert not missing.exists()


def test_status_shows_an_older_schema_without_upgrading_it(tmp_path, monkeypatch):
    from cloudctl.db.engine import make_engine
    from cloudctl.db.location import sqlite_location
    from cloudctl.db.migrate import upgrade

    path = tmp_path / "old.db"
    engine = make_engine(sqlite_location(path))
    upgrade(engine, "0002")
    engine.dispose()
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", sqlite_url(path))
    cli = Cli(sqlite_url(path))
    status = cli.json("db", "status")
    assert status["schema_revision"] == "0002"
    assert status["schema"].startswith("older")
    assert status["history"].startswith("not checked") and status["integrity"] == "ok"
    assert "consent_event" not in {row["table"] for row in status["tables"]}
    assert cli.json("db", "status")["schema_revision"] == "0002"


def damage(url: str) -> None:
    """What a failing disk does: 80 bytes of a page overwritten (an index page's cells, past its header)."""
    import sqlite3

    path = make_url(url).database
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = connection.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'ix_consent_event_pupil_service'"
    ).fetchone()[0]
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    connection.close()
    with open(path, "r+b") as file:
        file.seek((page - 1) * page_size + 8)
        file.write(b"\xa5" * 80)


def test_status_of_a_damaged_file_shows_it_then_exits_1(hunwick_cli):
    if not hunwick_cli.url.startswith("sqlite"):
        pytest.skip("a file to damage")
    fill(hunwick_cli)
    damage(hunwick_cli.url)
    result = hunwick_cli.run("db", "status")
    assert result.exit_code == 1, result.stderr
    assert "integrity" in result.stdout and "consent_event" in result.stdout, "the status is still shown"
    assert "The database file is damaged" in result.stderr and "Restore the latest backup" in result.stderr
    assert "cp" in result.stderr and "Traceback" not in result.stderr


def test_status_of_a_history_that_does_not_verify_exits_1(hunwick_cli):
    from cloudctl.db.append_only import drop_all_guard_statements

    fill(hunwick_cli)

    engine = create_engine(hunwick_cli.url)
    dialect = make_url(hunwick_cli.url).get_backend_name()
    try:
        with engine.begin() as connection:
            for statement in drop_all_guard_statements(dialect, "upn_change"):
                connection.execute(text(statement))
    finally:
        engine.dispose()
    result = hunwick_cli.run("db", "status", "--format", "json")
    assert result.exit_code == 1
    assert "The history does not verify: The guard upn_change_no_" in result.stderr
    assert "cloudctl db verify" in result.stderr and "Traceback" not in result.stderr


# --- backup ---------------------------------------------------------------------------------------


def test_backup_copies_the_live_database_for_its_owner_alone(hunwick_cli, tmp_path):
    """On SQLite: an exact, private copy. On PostgreSQL: refused, with the pg_dump to use."""
    fill(hunwick_cli)
    target = tmp_path / "backup.db"
    if make_url(hunwick_cli.url).get_backend_name() == "postgresql":
        message = hunwick_cli.fails("db", "backup", str(target)).stderr
        assert "pg_dump --format=custom" in message and make_url(hunwick_cli.url).database in message
        assert not target.exists()
        return
    hunwick_cli.ok("db", "backup", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert snapshot(sqlite_url(target)) == hunwick_cli.snapshot()


def test_backup_of_a_damaged_file_says_restore_and_cp_not_accept_broken_history(hunwick_cli, tmp_path):
    if not hunwick_cli.url.startswith("sqlite"):
        pytest.skip("a file to damage")
    fill(hunwick_cli)
    damage(hunwick_cli.url)
    backup = tmp_path / "backup.db"
    for extra in ([], ["--accept-broken-history"]):
        message = hunwick_cli.fails("db", "backup", str(backup), *extra).stderr
        assert "The database file is damaged" in message and "no backup" in message
        assert "Restore the latest backup" in message and "plain file copy" in message and "cp " in message
        assert "add --accept-broken-history" not in message
        assert not backup.exists()


def test_backup_refuses_to_overwrite_unless_forced(sqlite_cli, tmp_path):
    sqlite_cli.ok("init", "--school", "Hunwick Primary School")
    target = tmp_path / "backup.db"
    target.write_text("last week's backup")
    message = sqlite_cli.fails("db", "backup", str(target)).stderr
    assert "already exists" in message and "--force" in message
    assert target.read_text() == "last week's backup"
    sqlite_cli.ok("db", "backup", str(target), "--force")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert snapshot(sqlite_url(target)) == sqlite_cli.snapshot()
    assert [path.name for path in tmp_path.iterdir() if "partial" in path.name] == []


def test_backup_refuses_the_database_itself_and_missing_folders(sqlite_cli, tmp_path):
    sqlite_cli.ok("init", "--school", "Hunwick Primary School")
    database_file = make_url(sqlite_cli.url).database
    assert "is the database itself" in sqlite_cli.fails("db", "backup", database_file, "--force").stderr
    assert "does not exist" in sqlite_cli.fails("db", "backup", str(tmp_path / "no" / "b.db")).stderr
    assert "is a folder" in sqlite_cli.fails("db", "backup", str(tmp_path)).stderr


# --- copy -----------------------------------------------------------------------------------------


def test_copy_into_a_new_sqlite_file_keeps_every_row_and_id(hunwick_cli, tmp_path, monkeypatch):
    monkeypatch.setattr("cloudctl.db.admin.COPY_CHUNK_ROWS", 3)  # several chunks even for small tables
    upns = fill(hunwick_cli)
    before = hunwick_cli.snapshot()
    target = tmp_path / "copy" / "school.db"
    target.parent.mkdir()
    copied = hunwick_cli.json("db", "copy", "--to", str(target))  # a plain path is an SQLite file
    assert {row["table"]: row["rows"] for row in copied} == counts(hunwick_cli.url)
    assert contents(sqlite_url(target)) == contents(hunwick_cli.url)
    assert "chain heads match" in hunwick_cli.ok("db", "copy", "--to", str(tmp_path / "again.db")).stderr
    assert hunwick_cli.snapshot() == before, "the source must be left as it was"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    # The copy is a working database: new records carry on from the copied ids.
    copy = Cli(sqlite_url(target))
    copy.ok("--db", str(target), "consent", "optout", upns[0], "My Maths", "--by", "Jane Smith")
    ids = [row[0] for row in contents(sqlite_url(target))["consent_event"]]
    assert len(ids) == len(set(ids)) == 4
    copy.ok("--db", str(target), "db", "verify")


@pytest.fixture
def blank_postgres_database():
    """A new PostgreSQL database with nothing in it (not even cloudctl's tables)."""
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(f"needs a PostgreSQL server: set {POSTGRES_ENV}")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"cloudctl_copy_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A server whose clock is far from UTC: a time copied without its zone would come out wrong.
        connection.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'America/New_York'"))
    yield make_url(admin_url).set(database=name)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_school_joins_the_trust_server(sqlite_cli, blank_postgres_database, monkeypatch):
    """SQLite file -> a blank PostgreSQL database, given as psql writes a URL (postgresql://)."""
    sqlite_cli.ok("init", "--school", "Hunwick Primary School", "--years", "R,1-6")
    sqlite_cli.ok("register", "import", str(HUNWICK))
    upns = fill(sqlite_cli)
    target = blank_postgres_database.set(drivername="postgresql")
    sqlite_cli.ok("db", "copy", "--to", target.render_as_string(hide_password=False))
    server_url = blank_postgres_database.render_as_string(hide_password=False)
    assert contents(server_url) == contents(sqlite_cli.url)

    # The trust's server carries on: fresh ids after the copied ones, and history still guarded.
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", server_url)
    trust = Cli(server_url)
    trust.ok("provider", "add", "A New Provider")
    trust.ok("consent", "optout", upns[0], "My Maths", "--by", "Jane Smith")
    after = contents(server_url)
    assert max(row[0] for row in after["provider"]) == len(after["provider"])
    assert sorted(row[0] for row in after["consent_event"]) == [1, 2, 3, 4]
    trust.ok("db", "verify")  # the digests SQLite sealed, recomputed from PostgreSQL's values
    engine = create_engine(server_url)
    try:
        with pytest.raises(Exception, match="are history"), engine.begin() as connection:
            connection.execute(text("UPDATE consent_event SET decision = 'opt-in'"))
    finally:
        engine.dispose()


def test_a_copy_that_fails_part_way_keeps_nothing(sqlite_cli, blank_postgres_database):
    """One transaction: a row the server refuses (SQLite does not check lengths) undoes it all."""
    sqlite_cli.ok("init", "--school", "Hunwick Primary School")
    add_pupils(sqlite_cli.url, [{"year_group": "3"}, {"year_group": "TOO LONG"}])
    server_url = blank_postgres_database.render_as_string(hide_password=False)
    message = sqlite_cli.fails("db", "copy", "--to", server_url).stderr
    assert "Copying the pupil table failed, so nothing was copied" in message
    assert sum(counts(server_url).values()) == 0


def test_copy_refuses_a_database_that_holds_records(hunwick_cli, tmp_path):
    target = tmp_path / "other-school.db"
    Cli(sqlite_url(target)).ok("--db", str(target), "init", "--school", "Another School")
    before = snapshot(sqlite_url(target))
    message = hunwick_cli.fails("db", "copy", "--to", str(target)).stderr
    assert "already holds records (school_settings (1))" in message and "empty database" in message
    assert snapshot(sqlite_url(target)) == before


def test_copy_refuses_the_database_itself_and_an_empty_source(cli, tmp_path):
    cli.ok("provider", "list")  # sets the database up, empty
    assert "holds no records" in cli.fails("db", "copy", "--to", str(tmp_path / "x.db")).stderr
    assert not (tmp_path / "x.db").exists(), "a file made for a copy that did not happen is removed"
    cli.ok("init", "--school", "Hunwick Primary School")
    assert "database cloudctl is using now" in cli.fails("db", "copy", "--to", cli.url).stderr


def test_copy_explains_a_target_it_cannot_reach(cli):
    import socket

    cli.ok("init", "--school", "Hunwick Primary School")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    target = f"postgresql://clerk:Sup3r-secret@127.0.0.1:{port}/trust"
    message = cli.fails("db", "copy", "--to", target).stderr
    assert f"clerk:***@127.0.0.1:{port}/trust" in message and "cannot reach" in message
    assert "Sup3r-secret" not in message
    assert "not a valid URL" in cli.fails("db", "copy", "--to", "postgresql://x@host:port/db").stderr
