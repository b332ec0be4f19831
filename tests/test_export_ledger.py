"""The export ledger: every file of pupils' data that leaves cloudctl is recorded, append-only and sealed."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import stat

import pytest
from sqlalchemy import create_engine, text

from tests.helpers.cli import Cli
from tests.helpers.pupils import add_pupils
from tests.test_db_commands import blank_postgres_database  # noqa: F401  (a fixture)

PUPILS = [
    {"year_group": "3", "class_name": "3B", "forename": "Amelia", "surname": "Ashworth"},
    {"year_group": "3", "class_name": "3B", "forename": "Ben", "surname": "Bolam"},
    {"year_group": "1", "class_name": "1A", "forename": "Cara", "surname": "Carr"},
]
SERVICE = "Times Tables Rock Stars"  # upn, forename, surname, dob, gender, class_name


@pytest.fixture
def school(hunwick_cli):
    hunwick_cli.upns = add_pupils(hunwick_cli.url, PUPILS)
    for upn in hunwick_cli.upns[:2]:
        hunwick_cli.ok("consent", "optin", upn, SERVICE, "--by", "J A")
    return hunwick_cli


def query(cli: Cli, sql: str) -> list[tuple]:
    engine = create_engine(cli.url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def test_a_full_export_is_recorded_with_the_sha256_of_the_file(school, tmp_path):
    out = tmp_path / "ttrs.csv"
    result = school.ok("export", "enrolment", SERVICE, "--out", str(out), "--recorded-by", "Jane Smith")
    assert "Recorded as export 1" in result.stderr
    (record,) = school.json("export", "history")
    assert record["service"] == SERVICE and record["provider"] == "Maths Circle Ltd"
    assert record["recorded_by"] == "Jane Smith" and record["kind"] == "full"
    assert record["pupils"] == 2
    assert record["fields"] == ["upn", "forename", "surname", "dob", "gender", "class_name"]
    assert record["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert record["target"] == str(out)
    sent = query(school, "SELECT upn, action, sent_values FROM export_pupil ORDER BY id")
    assert [(upn, action) for upn, action, _ in sent] == [(school.upns[0], "full"), (school.upns[1], "full")]
    assert json.loads(sent[0][2])["forename"] == "Amelia"
    school.ok("db", "verify")


def test_the_recorder_defaults_to_the_login_name(school, monkeypatch):
    monkeypatch.setattr("cloudctl.domain.consent.login_name", lambda: "office1")
    school.ok("export", "enrolment", SERVICE)
    assert school.json("export", "history")[0]["recorded_by"] == "office1"


def test_stdout_is_recorded_with_the_sha256_of_what_was_written(school):
    for args in ((), ("--out", "-")):
        result = school.ok("export", "enrolment", SERVICE, "--format", "json", *args)
        record = school.json("export", "history")[-1]
        assert record["target"] == "stdout"
        assert record["sha256"] == hashlib.sha256(result.stdout.encode()).hexdigest()
    assert len(school.json("export", "history")) == 2


def test_a_dry_run_shows_the_file_and_records_nothing(school, tmp_path):
    before = school.snapshot()
    out = tmp_path / "x.csv"
    result = school.ok("export", "enrolment", SERVICE, "--dry-run", "--out", str(out))
    assert school.upns[0] in result.stdout and "nothing written or recorded" in result.stderr
    assert not out.exists()
    assert school.snapshot() == before


@pytest.mark.parametrize(
    ("service", "says"),
    [("Spell Zone", "not approved"), ("SIMS", "not a service for pupils or parents")],
)
def test_a_refused_export_records_nothing(school, service, says):
    school.ok("service", "add", "Spell Zone", "--category", "pupil", "--provider", "Google", "--purpose",
              "Spelling", "--data", "full name", "--years", "All")  # fmt: skip
    before = school.snapshot()
    result = school.fails("export", "enrolment", service)
    assert says in result.stderr
    assert school.snapshot() == before
    assert school.json("export", "history") == []


def test_an_export_to_a_file_that_exists_records_nothing(school, tmp_path):
    out = tmp_path / "ttrs.csv"
    out.write_text("the provider's copy\n")
    before = school.snapshot()
    assert "--force" in school.fails("export", "enrolment", SERVICE, "--out", str(out)).stderr
    assert school.snapshot() == before
    assert out.read_text() == "the provider's copy\n"


def test_the_ledger_is_history_that_cannot_be_changed(school):
    school.ok("export", "enrolment", SERVICE)
    engine = create_engine(school.url)
    try:
        for sql in ("UPDATE export_record SET recorded_by = 'x'", "DELETE FROM export_pupil"):
            with pytest.raises(Exception, match="history"), engine.begin() as connection:
                connection.execute(text(sql))
    finally:
        engine.dispose()


def test_the_ledger_follows_the_child_through_a_upn_change(school):
    old = school.upns[0]
    school.ok("export", "enrolment", SERVICE)
    school.ok("pupil", "change-upn", old, "H801200001001")
    school.ok("export", "enrolment", SERVICE)
    by_new = school.json("export", "history", "--upn", "H801200001001")
    assert [row["id"] for row in by_new] == [1, 2]
    assert [row["id"] for row in school.json("export", "history", "--upn", old)] == [1, 2]
    sent = school.json("pupil", "show", "H801200001001")["exports"]
    assert [row["upn_sent"] for row in sent] == [old, "H801200001001"]  # kept as sent
    school.ok("db", "verify")


def test_history_by_pupil_and_by_service(school):
    school.ok("export", "enrolment", SERVICE)
    school.ok("consent", "optin", school.upns[2], "My Maths", "--by", "C")
    school.ok("export", "enrolment", "My Maths")
    assert [row["service"] for row in school.json("export", "history", "My Maths")] == ["My Maths"]
    assert [row["service"] for row in school.json("export", "history", "--upn", school.upns[2])] == [
        "My Maths"
    ]
    assert school.json("export", "history", "--upn", school.upns[1])[0]["service"] == SERVICE
    assert "No pupil has or had the UPN" in school.fails("export", "history", "--upn", "B801200005001").stderr
    rows = school.ok("export", "history", "--format", "csv").stdout.splitlines()
    assert rows[0] == "id,service,provider,exported_at,recorded_by,kind,pupils,fields,target,sha256"


def test_pupil_show_names_every_export_that_carried_the_pupil(school):
    school.ok("export", "enrolment", SERVICE, "--recorded-by", "Jane Smith")
    (sent,) = school.json("pupil", "show", school.upns[0])["exports"]
    assert sent["service"] == SERVICE and sent["provider"] == "Maths Circle Ltd"
    assert sent["recorded_by"] == "Jane Smith" and sent["action"] == "full"
    assert sent["fields"] == ["upn", "forename", "surname", "dob", "gender", "class_name"]
    assert school.json("pupil", "show", school.upns[2])["exports"] == []
    assert "Exports that carried" in school.ok("pupil", "show", school.upns[0]).stdout


def test_the_changes_file_is_private_and_guarded_against_formulas(hunwick_cli, tmp_path):
    (upn,) = add_pupils(
        hunwick_cli.url, [{"year_group": "3", "class_name": "3B", "forename": "=HYPERLINK(1)"}]
    )
    hunwick_cli.ok("consent", "optin", upn, "My Maths", "--by", "J A")
    out = tmp_path / "changes.csv"
    hunwick_cli.ok("export", "enrolment", "My Maths", "--changes", "--out", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert (
        out.read_text().splitlines()[1].startswith("add,opted in on ") and "'=HYPERLINK(1)" in out.read_text()
    )


def test_the_ledger_is_copied_with_the_database(school, tmp_path):
    school.ok("export", "enrolment", SERVICE)
    school.ok("consent", "optout", school.upns[0], SERVICE, "--by", "Mum")
    school.ok("export", "enrolment", SERVICE, "--changes")
    target = tmp_path / "copy.db"
    school.ok("db", "copy", "--to", str(target))
    copy = Cli(f"sqlite:///{target}")
    assert copy.json("--db", str(target), "export", "history") == school.json("export", "history")
    copy.ok("--db", str(target), "db", "verify")
    # The copy carries on from the ledger it holds: the removal is repeated until the provider confirms.
    result = copy.ok("--db", str(target), "export", "enrolment", SERVICE, "--changes")
    [row] = result.stdout.splitlines()[1:]
    assert row.startswith("remove,opted out on") and school.upns[0] in row


def test_the_ledger_joins_the_trust_server(sqlite_cli, blank_postgres_database, monkeypatch):  # noqa: F811
    """SQLite -> PostgreSQL: every ledger row, verified, and --changes carries on from it there."""
    from tests.conftest import HUNWICK

    sqlite_cli.ok("init", "--school", "Hunwick Primary School", "--years", "R,1-6")
    sqlite_cli.ok("register", "import", str(HUNWICK))
    upns = add_pupils(sqlite_cli.url, PUPILS)
    sqlite_cli.ok("consent", "optin", upns[0], SERVICE, "--by", "J A")
    sqlite_cli.ok("export", "enrolment", SERVICE)
    sqlite_cli.ok("pupil", "change-upn", upns[0], "H801200001001")
    history = sqlite_cli.json("export", "history")
    server_url = blank_postgres_database.render_as_string(hide_password=False)
    sqlite_cli.ok("db", "copy", "--to", server_url)
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", server_url)
    trust = Cli(server_url)
    trust.ok("db", "verify")
    assert trust.json("export", "history") == history
    assert trust.json("export", "history", "--upn", upns[0]) == history
    trust.ok("consent", "optin", upns[1], SERVICE, "--by", "J A")
    output = trust.ok("export", "enrolment", SERVICE, "--changes").stdout
    rows = list(csv.DictReader(io.StringIO(output)))
    # The child sent under the old UPN is updated to the new one, named by the UPN the provider holds
    # (sent_upn); the newly opted-in child is added.
    assert [(row["action"], row["upn"], row["sent_upn"]) for row in rows] == [
        ("update", "H801200001001", upns[0]),
        ("add", upns[1], ""),
    ]
    assert rows[0]["reason"] == "changed: upn"
    trust.ok("db", "verify")


def test_an_export_to_a_closed_standard_output_is_refused_and_records_nothing(tmp_path):
    """`--out -` with standard output closed (`>&-`): nowhere to send the file, so nothing is recorded."""
    import subprocess
    import sys

    db = tmp_path / "demo.db"
    subprocess.run(
        [sys.executable, "-m", "cloudctl", "--db", str(db), "demo"], check=True, capture_output=True
    )
    command = (
        f'"{sys.executable}" -m cloudctl --db "{db}" export enrolment "Times Tables Rock Stars" --out - >&-'
    )
    result = subprocess.run(["bash", "-c", command], capture_output=False, stderr=subprocess.PIPE, text=True)
    assert result.returncode == 1
    assert "Standard output is closed" in result.stderr
    history = subprocess.run(
        [sys.executable, "-m", "cloudctl", "--db", str(db), "export", "history", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert json.loads(history.stdout or "[]") == []
