"""Tamper evidence: every history row sealed into a hash chain, and `cloudctl db verify`.

A row changed after it was written, a row removed or forged, a chain recomputed by a forger,
a guard trigger dropped, replaced or disabled: each is found and named. Backups and copies
refuse a history that does not verify. The canonical encoding gives the same digest on SQLite
and PostgreSQL, so a copy from one to the other verifies there.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, Table, create_engine, text
from sqlalchemy.engine import make_url

from cloudctl.db.append_only import GUARDED, all_guard_statements, drop_all_guard_statements
from cloudctl.db.history_chain import (
    HISTORY_TABLES,
    Sealer,
    content_columns,
    content_digest,
    genesis,
    link,
)
from tests.conftest import HUNWICK, POSTGRES_ENV
from tests.helpers.cli import Cli
from tests.helpers.history import insert_history
from tests.helpers.pupils import add_pupils

# --- the canonical encoding -------------------------------------------------------------------------

CONSENT_COLUMNS = [
    ("decision", "text"),
    ("effective_on", "date"),
    ("given_by", "text"),
    ("pupil_id", "integer"),
    ("recorded_at", "datetime"),
    ("selected", "boolean"),
]


def test_sqlite_and_postgresql_values_give_the_same_digest():
    """SQLite hands back text and 0/1; psycopg hands back objects, times in the server's zone."""
    as_sqlite = {
        "decision": "opt-in",
        "effective_on": "2026-09-01",
        "given_by": "Zoë O'Brien",
        "pupil_id": 7,
        "recorded_at": "2026-09-02 08:30:00.123456",
        "selected": 0,
    }
    new_york = timezone(timedelta(hours=-4))
    as_postgresql = {
        "decision": "opt-in",
        "effective_on": date(2026, 9, 1),
        "given_by": "Zoë O'Brien",
        "pupil_id": 7,
        "recorded_at": datetime(2026, 9, 2, 4, 30, 0, 123456, tzinfo=new_york),
        "selected": False,
    }
    assert content_digest(CONSENT_COLUMNS, as_sqlite) == content_digest(CONSENT_COLUMNS, as_postgresql)
    # A time another program wrote into SQLite, without microseconds or with its zone, reads the same.
    for written in ("2026-09-02 08:30:00.123456+00:00", "2026-09-02T08:30:00.123456"):
        assert content_digest(CONSENT_COLUMNS, {**as_sqlite, "recorded_at": written}) == content_digest(
            CONSENT_COLUMNS, as_sqlite
        )
    assert content_digest(CONSENT_COLUMNS, {**as_sqlite, "selected": 1}) != content_digest(
        CONSENT_COLUMNS, as_sqlite
    )


def test_the_encoding_is_fixed():
    """Digests are kept in the database for ever: the encoding they are made from may never drift."""
    row = {
        "decision": "opt-out",
        "effective_on": "2026-11-03",
        "given_by": None,
        "pupil_id": 12,
        "recorded_at": "2026-11-03 09:15:00.000000",
        "selected": True,
    }
    import hashlib

    encoded = (
        '{"decision":"opt-out","effective_on":"2026-11-03","pupil_id":12,'
        '"recorded_at":"2026-11-03 09:15:00.000000","selected":true}'
    )
    assert content_digest(CONSENT_COLUMNS, row) == hashlib.sha256(encoded.encode()).hexdigest()
    assert genesis("consent_event") == hashlib.sha256(b"cloudctl history chain: consent_event").hexdigest()
    assert link("a" * 64, 5, "b" * 64) == hashlib.sha256(f"{'a' * 64}:5:{'b' * 64}".encode()).hexdigest()


def test_a_column_added_later_leaves_old_digests_alone():
    """Only non-null columns are encoded: a new nullable column, empty in old rows, changes nothing."""
    row = {"decision": "opt-in", "effective_on": "2026-09-01", "pupil_id": 1}
    later = [*CONSENT_COLUMNS, ("withdrawn_via", "text")]
    assert content_digest(sorted(later), row) == content_digest(CONSENT_COLUMNS, row)


_ANY_VALUE = st.one_of(
    st.none(),
    st.text(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.dates(),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.binary(max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(
    kinds=st.lists(
        st.sampled_from(["text", "integer", "boolean", "date", "datetime"]), min_size=1, max_size=6
    ),
    data=st.data(),
)
def test_the_fast_digest_is_the_canonical_encoding(kinds, data):
    """The digester writes JSON text itself for speed: it must equal the encoding by its definition,
    whatever a hand-made row holds."""
    import hashlib

    from cloudctl.db.history_chain import canonical_json, make_digester

    columns = [(f"c{index}", kind) for index, kind in enumerate(kinds)]
    values = [data.draw(_ANY_VALUE) for _ in columns]
    expected = hashlib.sha256(canonical_json(columns, values).encode()).hexdigest()
    assert make_digester(columns)(values) == expected


# --- helpers ----------------------------------------------------------------------------------------


@pytest.fixture
def school(hunwick_cli):
    """Something in every history table: versions, assessments, opt-ins, an opt-out, a UPN change."""
    cli = hunwick_cli
    upns = add_pupils(cli.url, [{"year_group": "3", "class_name": "3B"} for _ in range(3)])
    cli.ok("consent", "optin", "--class", "3B", "My Maths", "--by", "Returned forms", "--date", "2026-09-01")
    cli.ok("consent", "optout", upns[0], "My Maths", "--by", "Jane Smith", "--date", "2026-10-01")
    cli.ok("assess", "record", "My Maths", "--date", "2026-10-05", "--by", "DPO", "--outcome", "approved")
    cli.ok("service", "edit", "My Maths", "--purpose", "Maths homework and practice")
    cli.ok("pupil", "change-upn", upns[2], "H801200001001")
    cli.upns = upns
    return cli


def verify(cli: Cli, *options: str):
    return cli.run("db", "verify", *options)


def verified(cli: Cli, *options: str) -> dict:
    result = cli.ok("db", "verify", *options, "--format", "json")
    import json

    record = json.loads(result.stdout)
    assert record["verified"] is True, record["problems"]
    return record


def broken_status(cli: Cli) -> dict:
    """`db status` of a database that does not verify: shown in full, then exit 1, saying why."""
    import json

    result = cli.run("db", "status", "--format", "json")
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.strip()
    return json.loads(result.stdout)


def heads(record: dict) -> dict[str, str]:
    return {chain["table"]: chain["head"] for chain in record["chains"]}


@contextmanager
def raw(url: str):
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


@contextmanager
def guards_off(connection, table: str):
    """What someone with the file, or the tables' owner, can do: take the guard off, and put it back."""
    if connection.dialect.name == "sqlite":
        for statement in drop_all_guard_statements("sqlite", table):
            connection.execute(text(statement))
        yield
        for statement in all_guard_statements("sqlite", table):
            connection.execute(text(statement))
    else:
        connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        yield
        connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def reseal_everything(connection, table: str) -> None:
    """A careful forger: recompute every digest and chain hash of the table, so it verifies again."""
    reflected = Table(table, MetaData(), autoload_with=connection)
    sealer = Sealer(table, content_columns(reflected), None, None)
    for row in connection.execute(text(f"SELECT * FROM {table} ORDER BY id")).mappings().all():
        row_id, digest, chained = sealer.seal(row, row["id"])
        connection.execute(
            text(f"UPDATE {table} SET content_digest = :d, chain_hash = :c WHERE id = :id"),
            {"d": digest, "c": chained, "id": row_id},
        )


def last_id(url: str, table: str) -> int:
    with raw(url) as connection:
        return connection.execute(text(f"SELECT MAX(id) FROM {table}")).scalar()


# --- what cloudctl writes verifies --------------------------------------------------------------------


def test_every_history_row_cloudctl_writes_verifies(school):
    record = verified(school)
    rows = {chain["table"]: chain["rows"] for chain in record["chains"]}
    assert set(rows) == set(HISTORY_TABLES)
    assert rows["consent_event"] == 4 and rows["upn_change"] == 1 and rows["risk_assessment"] == 19
    assert rows["service_version"] >= 20  # the register's versions, and My Maths' new purpose
    assert record["integrity"].startswith(("ok", "not available"))
    # UPDATE, DELETE and REPLACE triggers on SQLite; UPDATE-or-DELETE and TRUNCATE on PostgreSQL.
    assert record["guards_checked"] == len(GUARDED) * (3 if school.url.startswith("sqlite") else 2)

    table = school.ok("db", "verify")
    assert "History verified" in table.stderr and "Guards against changing history: " in table.stderr
    for name, head in heads(record).items():
        assert f"  {name}={head}" in table.stdout, "each head printed as --head takes it back"
    assert school.json("db", "status")["history"] == "verified"


def test_rows_written_in_one_flush_chain_one_after_another(cli):
    """The ORM inserts a batch at once: each row must chain to the one before it, in id order."""
    from cloudctl.db.engine import open_database
    from cloudctl.db.location import location_from_url
    from cloudctl.db.models import UpnChange

    cli.ok("init", "--school", "Hunwick Primary School")
    (upn,) = add_pupils(cli.url, [{"year_group": "3"}])
    db = open_database(location_from_url(cli.url))
    try:
        with db.write() as session:
            pupil_id = session.connection().execute(text("SELECT id FROM pupil")).scalar()
            session.add_all([UpnChange(pupil_id=pupil_id, old_upn=upn, new_upn=f"X{n}") for n in range(3)])
            session.flush()
            # A savepoint rolled back takes its rows with it: the next row chains to what is left.
            savepoint = session.begin_nested()
            session.add(UpnChange(pupil_id=pupil_id, old_upn=upn, new_upn="lost"))
            session.flush()
            savepoint.rollback()
            session.add(UpnChange(pupil_id=pupil_id, old_upn=upn, new_upn="kept"))
    finally:
        db.dispose()
    record = verified(cli)
    assert {chain["table"]: chain["rows"] for chain in record["chains"]}["upn_change"] == 4


def test_concurrent_writers_never_fork_a_chain(hunwick_cli):
    """Writers queue on the write lock, so two of them can never chain to the same row."""
    from tests.test_concurrent_writers import run_workers

    upns = add_pupils(hunwick_cli.url, [{"year_group": "3", "class_name": "3B"} for _ in range(12)])
    workers, outputs = run_workers([upns[i::3] for i in range(3)], timeout=600)
    assert all(worker.returncode == 0 for worker in workers), outputs
    record = verified(hunwick_cli)
    assert {chain["table"]: chain["rows"] for chain in record["chains"]}["consent_event"] == 12 * 4


# --- tampering is found ---------------------------------------------------------------------------------


def test_the_issue_repro_a_dropped_guard_and_an_update(school, tmp_path):
    """In sqlite3: DROP TRIGGER consent_event_no_update, then UPDATE a row. Nothing may carry it on."""
    if not school.url.startswith("sqlite"):
        pytest.skip("the sqlite3 shell's way in; PostgreSQL's is DISABLE TRIGGER, below")
    path = make_url(school.url).database
    connection = sqlite3.connect(path)
    connection.execute("DROP TRIGGER consent_event_no_update")
    connection.execute("UPDATE consent_event SET decision = 'opt-in' WHERE id = 4")
    connection.commit()
    connection.close()

    result = verify(school)
    assert result.exit_code == 1
    assert "consent_event row 4: its contents were changed after it was recorded" in result.stderr
    assert "The guard consent_event_no_update is missing" in result.stderr
    assert "BROKEN" in result.stdout and "Traceback" not in result.stderr

    status = broken_status(school)
    assert status["history"].startswith("NOT verified: consent_event row 4")

    backup = tmp_path / "backup.db"
    message = school.fails("db", "backup", str(backup)).stderr
    assert "consent_event row 4" in message and "--accept-broken-history" in message
    assert not backup.exists()
    target = tmp_path / "copy.db"
    message = school.fails("db", "copy", "--to", str(target)).stderr
    assert "consent_event row 4" in message and "--accept-broken-history" in message
    assert not target.exists()

    # Kept anyway, as evidence: said plainly, and the copy carries exactly what was there.
    kept = school.ok("db", "backup", str(backup), "--accept-broken-history")
    assert "Warning: the history backed up is NOT verified: consent_event row 4" in kept.stderr
    copied = school.ok("db", "copy", "--to", str(target), "--accept-broken-history")
    assert "Warning: the history copied is NOT verified" in copied.stderr
    copy = Cli(f"sqlite:///{target}").run("--db", str(target), "db", "verify")
    assert copy.exit_code == 1 and "consent_event row 4" in copy.stderr


def test_a_changed_row_is_named_on_either_engine(school):
    event = last_id(school.url, "consent_event") - 1
    with raw(school.url) as connection, guards_off(connection, "consent_event"):
        connection.execute(
            text("UPDATE consent_event SET given_by = 'Someone else' WHERE id = :id"), {"id": event}
        )
    result = verify(school)
    assert result.exit_code == 1
    assert f"consent_event row {event}: its contents were changed" in result.stderr
    assert "does not follow" not in result.stderr, "in its place in the chain: only its contents changed"
    assert "The guard" not in result.stderr, "the guard was put back: only the row is wrong"


def test_a_removed_row_breaks_the_chain_after_it(school):
    with raw(school.url) as connection, guards_off(connection, "risk_assessment"):
        connection.execute(text("DELETE FROM risk_assessment WHERE id = 3"))
    result = verify(school)
    assert result.exit_code == 1
    assert "risk_assessment row 4: it does not follow the row before it" in result.stderr


# A consent event as a forger would write it straight into the database.
FORGED_EVENT = {
    "pupil_id": 1,
    "service_id": 1,
    "service_version_id": 1,
    "decision": "opt-in",
    "effective_on": "2026-11-20",
    "method": "form",
    "recorded_by": "office",
    "selected": False,
    "recorded_at": datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
}


def test_a_forged_row_at_the_end_is_caught(school):
    """INSERT is allowed (history grows), so a forger can add a row: its seal gives it away."""
    forged = dict(FORGED_EVENT)
    with raw(school.url) as connection:
        sealed = Sealer.after_head(connection, "consent_event").sealed(forged)
        sealed["chain_hash"] = "0" * 64  # a made-up seal: the forger does not know how it is made
        values = ", ".join(f":{name}" for name in sealed)
        connection.execute(text(f"INSERT INTO consent_event ({', '.join(sealed)}) VALUES ({values})"), sealed)
    result = verify(school)
    assert result.exit_code == 1
    assert f"consent_event row {sealed['id']}: it does not follow the row before it" in result.stderr


def test_a_row_inserted_with_made_up_seals_is_called_inserted_not_changed(school):
    """A forged row whose digest and link are both made up was put in the chain, not changed in it."""
    forged = {
        **FORGED_EVENT,
        "content_digest": "1" * 64,
        "chain_hash": "0" * 64,
    }
    forged["id"] = last_id(school.url, "consent_event") + 1
    with raw(school.url) as connection:
        values = ", ".join(f":{name}" for name in forged)
        connection.execute(text(f"INSERT INTO consent_event ({', '.join(forged)}) VALUES ({values})"), forged)
    result = verify(school)
    assert result.exit_code == 1
    named = f"consent_event row {forged['id']}: it does not follow the row before it in the chain"
    assert named in result.stderr and "inserted, removed or renumbered" in result.stderr
    assert "do not match the digest stored with it either" in result.stderr
    assert "contents were changed after it was recorded" not in result.stderr


def test_a_renumbered_row_is_called_out_of_place(school):
    event = last_id(school.url, "consent_event")
    with raw(school.url) as connection, guards_off(connection, "consent_event"):
        connection.execute(text("UPDATE consent_event SET id = id + 100 WHERE id = :id"), {"id": event})
    result = verify(school)
    assert result.exit_code == 1
    assert f"consent_event row {event + 100}: it does not follow the row before it" in result.stderr
    assert "contents were changed" not in result.stderr


def test_the_head_of_an_empty_table_is_the_start_of_its_chain(cli):
    """A head minuted while a table had no rows (its genesis value) is position 0, not a tamper alarm."""
    cli.ok("init", "--school", "Hunwick Primary School")
    minuted = heads(verified(cli))
    assert minuted["upn_change"] == genesis("upn_change")
    given = f"upn_change={minuted['upn_change']}"
    record = verified(cli, "--head", given)
    (found,) = next(c for c in record["chains"] if c["table"] == "upn_change")["recorded_heads"]
    assert found == {"head": minuted["upn_change"], "found_at_row": 0, "rows_since": 0}

    (upn,) = add_pupils(cli.url, [{"year_group": "3"}])
    cli.ok("pupil", "change-upn", upn, "H801200001001")
    cli.ok("pupil", "change-upn", "H801200001001", upn)
    result = cli.ok("db", "verify", "--head", given)
    assert (
        "upn_change: the recorded head is the start of the chain (0 rows then); 2 row(s) recorded since"
        in (result.stderr)
    )
    assert "BROKEN" not in result.stdout


def test_a_recomputed_chain_is_caught_only_by_the_recorded_head(school):
    """A forger who re-seals the whole table passes the chain check; the head in the minutes does not."""
    minuted = heads(verified(school))
    with raw(school.url) as connection, guards_off(connection, "consent_event"):
        connection.execute(text("UPDATE consent_event SET decision = 'opt-in' WHERE decision = 'opt-out'"))
        reseal_everything(connection, "consent_event")
    verified(school)  # every chain consistent again
    result = verify(school, "--head", f"consent_event={minuted['consent_event']}")
    assert result.exit_code == 1
    assert f"the recorded head {minuted['consent_event']} is not in the chain" in result.stderr
    # Another table's head still stands.
    verified(school, "--head", f"risk_assessment={minuted['risk_assessment']}")


def test_a_recorded_head_still_verifies_after_rows_are_added(school):
    minuted = heads(verified(school))
    school.ok("consent", "optout", school.upns[1], "My Maths", "--by", "Jane Smith")
    record = verified(school, "--head", f"consent_event={minuted['consent_event']}")
    (found,) = next(c for c in record["chains"] if c["table"] == "consent_event")["recorded_heads"]
    assert found["found_at_row"] == last_id(school.url, "consent_event") - 1 and found["rows_since"] == 1
    result = school.ok("db", "verify", "--head", f"consent_event={minuted['consent_event'].upper()}")
    assert "1 row(s) recorded since" in result.stderr


def test_removing_the_newest_rows_is_caught_by_the_recorded_head(school):
    minuted = heads(verified(school))
    newest = last_id(school.url, "consent_event")
    with raw(school.url) as connection, guards_off(connection, "consent_event"):
        connection.execute(text("DELETE FROM consent_event WHERE id = :id"), {"id": newest})
    verified(school)  # what is left is a consistent chain
    assert verify(school, "--head", f"consent_event={minuted['consent_event']}").exit_code == 1


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("consent=" + "a" * 64, "TABLE is one of"),
        ("consent_event", "this one has 0"),
        ("consent_event=abc", "this one has 3"),
        ("consent_event=" + "g" * 64, "0-9 and a-f"),
    ],
)
def test_a_recorded_head_that_cannot_be_one_is_refused(school, given, said):
    assert said in school.fails("db", "verify", "--head", given).stderr


def test_a_disabled_guard_is_caught_on_postgresql(school):
    """The tables' owner can switch a trigger off: the chain shows any change, and verify the switch."""
    if school.url.startswith("sqlite"):
        pytest.skip("SQLite triggers cannot be disabled, only dropped (above)")
    with raw(school.url) as connection:
        connection.execute(text("ALTER TABLE consent_event DISABLE TRIGGER consent_event_no_update"))
    result = verify(school)
    assert result.exit_code == 1
    assert "The guard consent_event_no_update on consent_event is disabled" in result.stderr
    assert broken_status(school)["history"].startswith("NOT verified")


def test_a_guard_replaced_by_one_that_lets_everything_through_is_caught(school):
    with raw(school.url) as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER upn_change_no_delete"))
            connection.execute(
                text("CREATE TRIGGER upn_change_no_delete BEFORE DELETE ON upn_change BEGIN SELECT 1; END")
            )
        else:
            connection.execute(
                text(
                    "CREATE OR REPLACE FUNCTION upn_change_refuse_change() RETURNS trigger LANGUAGE plpgsql "
                    "AS $$ BEGIN RETURN OLD; END $$"
                )
            )
    result = verify(school)
    assert result.exit_code == 1
    assert "is not as cloudctl wrote it" in result.stderr and "upn_change" in result.stderr


def test_a_damaged_sqlite_file_fails_the_integrity_check(school):
    if not school.url.startswith("sqlite"):
        pytest.skip("a file to damage")
    path = Path(make_url(school.url).database)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = connection.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'ix_consent_event_pupil_service'"
    )
    page = root.fetchone()[0]
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    connection.close()
    with path.open("r+b") as file:
        file.seek((page - 1) * page_size + 8)  # an index page's cells, past its header
        file.write(b"\xff" * 64)
    result = verify(school)
    assert result.exit_code == 1
    assert "The database file is damaged (SQLite's integrity_check" in result.stderr
    assert "Traceback" not in result.stderr
    assert broken_status(school)["integrity"] != "ok"


# --- copies verify on their own engine -------------------------------------------------------------------


def test_a_copy_into_a_new_sqlite_file_verifies_with_the_same_heads(school, tmp_path):
    minuted = heads(verified(school))
    target = tmp_path / "copy.db"
    school.ok("db", "copy", "--to", str(target))
    import json

    result = Cli(f"sqlite:///{target}").run("--db", str(target), "db", "verify", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert heads(json.loads(result.stdout)) == minuted


@pytest.fixture
def blank_postgres_url():
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        pytest.skip(f"needs a PostgreSQL server: set {POSTGRES_ENV}")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"cloudctl_chain_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # Far from UTC: a time encoded in the server's zone would not verify.
        connection.execute(text(f"ALTER DATABASE \"{name}\" SET timezone TO 'Asia/Kolkata'"))
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_school_copied_to_postgresql_verifies_there(sqlite_cli, blank_postgres_url, monkeypatch):
    sqlite_cli.ok("init", "--school", "Hunwick Primary School", "--years", "R,1-6")
    sqlite_cli.ok("register", "import", str(HUNWICK))
    upns = add_pupils(sqlite_cli.url, [{"year_group": "3", "class_name": "3B"}, {"year_group": "3"}])
    sqlite_cli.ok("consent", "optin", upns[0], "My Maths", "--by", "Zoë O'Brien", "--note", "Form\nreturned")
    sqlite_cli.ok("pupil", "change-upn", upns[1], "H801200001001")
    minuted = heads(verified(sqlite_cli))
    sqlite_cli.ok("db", "copy", "--to", blank_postgres_url)
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", blank_postgres_url)
    trust = Cli(blank_postgres_url)
    assert heads(verified(trust, "--head", f"consent_event={minuted['consent_event']}")) == minuted
    trust.ok("consent", "optout", upns[0], "My Maths", "--by", "Zoë O'Brien")
    verified(trust, "--head", f"consent_event={minuted['consent_event']}")


# --- the migration --------------------------------------------------------------------------------------


def _blank_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return request.getfixturevalue("blank_postgres_url")


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request, tmp_path):
    return _blank_url(request, tmp_path)


def _fill_at_0004(connection) -> None:
    now = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
    connection.execute(
        text("INSERT INTO provider (id, name, created_at) VALUES (1, 'Oxford University Press', :now)"),
        {"now": now},
    )
    connection.execute(
        text(
            "INSERT INTO service (id, name, category, provider_id, purpose, data_shared_text, "
            "data_categories, service_type, year_groups_text, year_scope, year_codes, status, extra_fields, "
            "position, "
            "created_at, updated_at) VALUES (1, 'My Maths', 'pupil', 1, 'Maths', 'full name', '[]', "
            "'Purchased', 'All', 'years', 'R,1,2,3,4,5,6', 'approved', '{}', 1, :now, :now)"
        ),
        {"now": now},
    )
    connection.execute(
        text(
            "INSERT INTO pupil (id, upn, upn_temporary, forename, surname, dob, year_group, on_roll, "
            "created_at, updated_at) VALUES (1, 'H801200001001', :false, 'Zoë', 'Smith', :dob, '3', :true, "
            ":now, :now)"
        ),
        {"now": now, "dob": date(2017, 4, 3), "true": True, "false": False},
    )
    for number in (1, 2):
        insert_history(
            connection,
            "service_version",
            {"id": number, "service_id": 1, "purpose": f"Maths {number}", "data_shared_text": "full name",
             "data_categories": "[]", "recorded_at": now},
        )  # fmt: skip
        insert_history(
            connection,
            "risk_assessment",
            {"id": number, "service_id": 1, "assessed_on": date(2024, number, 1), "assessed_by": "DPO",
             "outcome": "approved", "recorded_at": now},
        )  # fmt: skip
    for number, decision in ((1, "opt-in"), (2, "opt-out"), (3, "opt-in")):
        insert_history(
            connection,
            "consent_event",
            {"id": number, "pupil_id": 1, "service_id": 1, "service_version_id": number % 2 + 1,
             "decision": decision, "effective_on": date(2024, 9, number), "given_by": "Zoë O'Brien",
             "method": "form", "recorded_by": "office", "note": None, "selected": number == 3,
             "recorded_at": now + timedelta(microseconds=number)},
        )  # fmt: skip
    insert_history(
        connection,
        "upn_change",
        {"id": 1, "pupil_id": 1, "old_upn": "G80120000101A", "new_upn": "H801200001001", "changed_at": now},
    )


def test_the_migration_seals_the_history_already_there(blank_url, monkeypatch):
    """A database at 0004 with history in it: 0005 seals every row, and UPN changes become history."""
    from cloudctl.db.engine import make_engine
    from cloudctl.db.location import location_from_url
    from cloudctl.db.migrate import upgrade

    engine = make_engine(location_from_url(blank_url))
    upgrade(engine, "0004")
    with engine.begin() as connection:
        _fill_at_0004(connection)
    with engine.connect() as connection:
        before = {
            table: connection.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()
            for table in ("service_version", "consent_event", "risk_assessment", "upn_change")
        }
    upgrade(engine, "0005")
    engine.dispose()

    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", blank_url)
    cli = Cli(blank_url)
    record = verified(cli)
    # Tables of later revisions start empty.
    assert {chain["table"]: chain["rows"] for chain in record["chains"]} == {
        table: len(before.get(table, ())) for table in HISTORY_TABLES
    }
    # The chain is the one the rows' contents give, in id order.
    with raw(blank_url) as connection:
        for table, rows in before.items():
            reflected = Table(table, MetaData(), autoload_with=connection)
            sealer = Sealer(table, content_columns(reflected), None, None)
            for row in rows:
                sealer.seal(row._mapping, row.id)
            assert heads(record)[table] == sealer.head
            after = connection.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()
            assert [tuple(row)[: len(rows[0])] for row in after] == [tuple(row) for row in rows]
    for statement in ("UPDATE upn_change SET new_upn = 'Z801200001001'", "DELETE FROM upn_change"):
        with pytest.raises(Exception, match="UPN changes are history"), raw(blank_url) as connection:
            connection.execute(text(statement))
    # And cloudctl carries on sealing after the rows the migration sealed.
    cli.ok("consent", "optout", "H801200001001", "My Maths", "--by", "Zoë O'Brien")
    verified(cli)


def test_the_migration_can_be_undone(tmp_path):
    from alembic import command

    from cloudctl.db.engine import make_engine
    from cloudctl.db.location import sqlite_location
    from cloudctl.db.migrate import alembic_config, upgrade

    path = tmp_path / "old.db"
    engine = make_engine(sqlite_location(path))
    upgrade(engine, "0004")
    with engine.begin() as connection:
        _fill_at_0004(connection)
    upgrade(engine, "0005")
    config = alembic_config()
    with engine.connect() as connection:
        connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")  # as upgrade does
        with connection.begin():
            config.attributes["connection"] = connection
            command.downgrade(config, "0004")
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").first() is None
    with engine.connect() as connection:
        columns = [row[1] for row in connection.exec_driver_sql("PRAGMA table_info(consent_event)")]
        triggers = {
            row[0]
            for row in connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM consent_event").scalar() == 3
    engine.dispose()
    assert "chain_hash" not in columns
    assert "consent_event_no_update" in triggers and not any(
        name.startswith("upn_change") for name in triggers
    )


# --- PostgreSQL's guards, read from its catalogue ------------------------------------------------------


def _pg_body(table: str) -> str:
    return all_guard_statements("postgresql", table)[0].split("$$")[1]


@pytest.mark.parametrize(
    ("name", "definition", "enabled", "wrong"),
    [
        (
            "consent_event_no_update",
            "CREATE TRIGGER consent_event_no_update BEFORE DELETE OR UPDATE ON public.consent_event "
            "FOR EACH ROW EXECUTE FUNCTION consent_event_refuse_change()",
            "O",
            None,
        ),
        (
            "consent_event_no_truncate",
            "CREATE TRIGGER consent_event_no_truncate BEFORE TRUNCATE ON consent_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION public.consent_event_refuse_change()",
            "A",
            None,
        ),
        (
            "consent_event_no_update",
            "CREATE TRIGGER consent_event_no_update BEFORE DELETE OR UPDATE ON public.consent_event "
            "FOR EACH ROW EXECUTE FUNCTION consent_event_refuse_change()",
            "D",
            "is disabled",
        ),
        (
            "consent_event_no_update",
            "CREATE TRIGGER consent_event_no_update BEFORE DELETE OR UPDATE ON public.consent_event "
            "FOR EACH ROW EXECUTE FUNCTION consent_event_refuse_change()",
            "R",
            "only on a replica",
        ),
        (
            "consent_event_no_update",
            "CREATE TRIGGER consent_event_no_update BEFORE DELETE OR UPDATE OF decision "
            "ON public.consent_event FOR EACH ROW EXECUTE FUNCTION consent_event_refuse_change()",
            "O",
            "not as cloudctl wrote it",
        ),
        (
            "consent_event_no_update",
            "CREATE TRIGGER consent_event_no_update BEFORE DELETE OR UPDATE ON public.consent_event "
            "FOR EACH ROW WHEN (false) EXECUTE FUNCTION consent_event_refuse_change()",
            "O",
            "not as cloudctl wrote it",
        ),
        (
            "consent_event_no_update",
            "CREATE TRIGGER consent_event_no_update BEFORE DELETE ON public.consent_event "
            "FOR EACH ROW EXECUTE FUNCTION consent_event_refuse_change()",
            "O",
            "not as cloudctl wrote it",
        ),
    ],
)
def test_a_postgresql_guard_is_read_from_the_catalogue(name, definition, enabled, wrong):
    from cloudctl.db.verify import postgresql_guard_problem

    problem = postgresql_guard_problem("consent_event", name, definition, enabled, _pg_body("consent_event"))
    assert problem is None if wrong is None else wrong in problem


def test_a_postgresql_guard_whose_function_lets_changes_through_is_caught():
    from cloudctl.db.verify import postgresql_guard_problem

    definition = (
        "CREATE TRIGGER upn_change_no_update BEFORE DELETE OR UPDATE ON upn_change "
        "FOR EACH ROW EXECUTE FUNCTION upn_change_refuse_change()"
    )
    problem = postgresql_guard_problem(
        "upn_change", "upn_change_no_update", definition, "O", " BEGIN RETURN OLD; END "
    )
    assert "not as cloudctl wrote it" in problem


def test_the_bulk_migration_keeps_every_seal_and_the_decisions(blank_url, monkeypatch):
    """A database at 0005 with sealed consent history: 0006 adds consent_event.bulk (NULL on the rows there,
    read as single decisions), copies nothing, and `db verify` still passes, before and after new rows."""
    from cloudctl.db.engine import make_engine
    from cloudctl.db.location import location_from_url
    from cloudctl.db.migrate import upgrade

    engine = make_engine(location_from_url(blank_url))
    upgrade(engine, "0004")
    with engine.begin() as connection:
        _fill_at_0004(connection)
    upgrade(engine, "0005")
    with engine.connect() as connection:
        before = connection.execute(text("SELECT * FROM consent_event ORDER BY id")).all()
    upgrade(engine, "0006")
    engine.dispose()

    with raw(blank_url) as connection:
        after = connection.execute(text("SELECT * FROM consent_event ORDER BY id")).all()
        bulk = connection.execute(text("SELECT bulk FROM consent_event ORDER BY id")).scalars().all()
    assert bulk == [None, None, None]
    assert [row._mapping[key] for row in after for key in before[0]._mapping] == [
        value for row in before for value in row
    ]
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", blank_url)
    cli = Cli(blank_url)
    verified(cli)
    # The old rows decide as single decisions: the opt-in of 2024-09-03 stands, and a year's opt-out
    # (bulk) never overturns it; a parent's opt-out does.
    (row,) = cli.json("consent", "optout", "--year", "3", "My Maths")
    assert row["action"] == "skipped"
    cli.ok("consent", "optin", "--year", "3", "My Maths", "--by", "Office")
    cli.ok("consent", "optout", "H801200001001", "My Maths", "--by", "Zoë O'Brien")
    verified(cli)
    with raw(blank_url) as connection:
        bulk = connection.execute(text("SELECT bulk FROM consent_event ORDER BY id")).scalars().all()
    assert [None if flag is None else bool(flag) for flag in bulk] == [None, None, None, True, False]
