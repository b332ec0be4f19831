"""Deletions followed to the end: due, requested, confirmed; each refusal with nothing written."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import stat
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from cloudctl.domain.deletions import LIST_KEYS
from tests.conftest import HUNWICK
from tests.helpers.cli import Cli
from tests.helpers.ledger import record_sent
from tests.helpers.pupils import add_pupils
from tests.test_db_commands import blank_postgres_database  # noqa: F401 (a fixture)

SERVICE = "My Maths"  # All years; full name, class


def sql(cli: Cli, statement: str, **params) -> list[tuple]:
    engine = create_engine(cli.url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def school(cli: Cli, count: int = 3, **first) -> list[str]:
    """Pupils in year 3, every one opted in to My Maths and sent to its provider in a full export."""
    pupils = [{"year_group": "3", "class_name": "3B", "surname": f"Pupil{index}"} for index in range(count)]
    pupils[0].update(first)
    upns = add_pupils(cli.url, pupils)
    for upn in upns:
        cli.ok("consent", "optin", upn, SERVICE, "--by", "A Parent", "--date", "2026-09-01")
    cli.ok("export", "enrolment", SERVICE, "--out", "sent.csv")
    return upns


def listed(cli: Cli, *options: str) -> list[dict]:
    return cli.json("deletion", "list", *options)


def test_an_opt_out_after_an_export_makes_a_deletion_due(hunwick_cli):
    upns = school(hunwick_cli)
    assert listed(hunwick_cli) == []
    hunwick_cli.ok("consent", "optout", upns[1], SERVICE, "--date", "2026-11-02")
    [row] = listed(hunwick_cli)
    assert list(row) == list(LIST_KEYS)
    assert row["upn"] == upns[1] and row["surname"] == "Pupil1" and row["service"] == SERVICE
    assert row["provider"] == "Oxford University Press"
    assert row["reason"] == "opted out on 2026-11-02"
    # Never before the file that sent the pupil: the export was today.
    assert row["due_since"] == date.today().isoformat() and row["days_waiting"] == 0
    assert (row["status"], row["reference"]) == ("due", None)


def test_nothing_is_due_for_a_provider_that_was_never_sent_the_pupil(hunwick_cli):
    upns = add_pupils(hunwick_cli.url, [{"year_group": "3", "class_name": "3B"}])
    hunwick_cli.ok("consent", "optin", upns[0], SERVICE, "--by", "A Parent", "--date", "2026-09-01")
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-10-01")
    assert listed(hunwick_cli) == []
    assert "No deletion is waiting" in hunwick_cli.ok("deletion", "list").stderr


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("UPDATE pupil SET on_roll = :no, left_on = :day WHERE upn = :upn", "left the roll on 2026-10-20"),
        ("UPDATE pupil SET year_group = :year WHERE upn = :upn", "not in the service's year groups"),
    ],
    ids=["left the roll", "out of the year groups"],
)
def test_leavers_and_pupils_outside_the_year_groups_are_due(hunwick_cli, change, reason):
    upns = school(hunwick_cli)
    hunwick_cli.ok("service", "edit", SERVICE, "--years", "Y2 - Y6")
    sql(hunwick_cli, change, no=False, day=date(2026, 10, 20), year="1", upn=upns[0])
    [row] = listed(hunwick_cli)
    assert row["upn"] == upns[0] and row["reason"].startswith(reason)


def test_pupils_nobody_selected_are_due_once_a_service_takes_selected_pupils_only(hunwick_cli):
    upns = school(hunwick_cli, count=2)
    hunwick_cli.ok("service", "edit", SERVICE, "--years", "Selected Students")
    # No consent event and no new version of the data since the export: still due, for every pupil sent.
    rows = listed(hunwick_cli)
    assert sorted(row["upn"] for row in rows) == sorted(upns)
    assert {row["reason"] for row in rows} == {"not selected for the service"}


def test_consent_needing_renewal_and_a_service_no_longer_approved_are_due(hunwick_cli):
    school(hunwick_cli, count=2)
    hunwick_cli.ok("service", "edit", SERVICE, "--data", "full name, class, date of birth")
    rows = listed(hunwick_cli)
    assert len(rows) == 2 and all(row["reason"].startswith("consent needs renewal") for row in rows)
    hunwick_cli.ok("service", "retire", SERVICE)
    assert {row["reason"] for row in listed(hunwick_cli)} == {"the service is retired"}


def request(cli: Cli, *options: str, out: str = "request.csv"):
    return cli.ok("deletion", "request", SERVICE, "--out", out, "--recorded-by", "Office", *options)


def test_a_request_names_only_what_was_sent_is_private_and_is_recorded(hunwick_cli, tmp_path):
    upns = school(hunwick_cli, surname="=HYPERLINK(1)")
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-11-02")
    result = request(hunwick_cli, "--reference", "ticket 4411")
    path = tmp_path / "request.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode())))
    # My Maths was sent full name and class: the request names the pupil by name, nothing more.
    assert rows == [["forename", "surname"], ["Forename0", "'=HYPERLINK(1)"]]
    sha = hashlib.sha256(data).hexdigest()
    assert sha in result.stderr
    [row] = listed(hunwick_cli)
    assert (row["status"], row["reference"], row["reason"]) == (
        "requested",
        "ticket 4411",
        "opted out on 2026-11-02",
    )
    events = sql(hunwick_cli, "SELECT kind, request_sha256, recorded_by, reason FROM deletion_event")
    assert events == [("requested", sha, "Office", "opted out on 2026-11-02")]
    # The request left cloudctl with pupils' identifiers: it is in the export ledger too.
    ledger = sql(hunwick_cli, "SELECT kind, sha256, pupil_count FROM export_record ORDER BY id")
    assert ledger[-1] == ("deletion-request", sha, 1)
    hunwick_cli.ok("db", "verify")
    # Asked once: nothing more is due, so a second request is refused and writes nothing.
    message = hunwick_cli.fails("deletion", "request", SERVICE, "--out", "again.csv").stderr
    assert "No deletion is due for 'My Maths'" in message and not (tmp_path / "again.csv").exists()


def test_a_request_never_replaces_a_file_without_force(hunwick_cli, tmp_path):
    upns = school(hunwick_cli)
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-11-02")
    (tmp_path / "request.csv").write_text("keep me")
    message = hunwick_cli.fails("deletion", "request", SERVICE, "--out", "request.csv").stderr
    assert "already exists" in message and (tmp_path / "request.csv").read_text() == "keep me"
    request(hunwick_cli, "--force")
    assert "Forename0" in (tmp_path / "request.csv").read_text()


def test_only_a_confirmation_closes_a_deletion(hunwick_cli):
    upns = school(hunwick_cli)
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-11-02")
    request(hunwick_cli)
    # A later --changes file lists the pupil as a removal: that does not close the deletion.
    hunwick_cli.ok("export", "enrolment", SERVICE, "--changes", "--out", "changes.csv")
    assert [(r["upn"], r["status"]) for r in listed(hunwick_cli)] == [(upns[0], "requested")]
    today = date.today().isoformat()
    hunwick_cli.ok("deletion", "confirm", SERVICE, "--upn", upns[0], "--date", today, "--reference", "OUP-7")
    assert listed(hunwick_cli) == []
    [row] = listed(hunwick_cli, "--all")
    assert (row["upn"], row["status"], row["reference"]) == (upns[0], "confirmed", "OUP-7")
    kinds = sql(hunwick_cli, "SELECT kind, on_date FROM deletion_event ORDER BY id")
    assert [kind for kind, _ in kinds] == ["requested", "confirmed"]


def test_confirm_all_requested(hunwick_cli):
    upns = school(hunwick_cli)
    for upn in upns[:2]:
        hunwick_cli.ok("consent", "optout", upn, SERVICE, "--date", "2026-11-02")
    request(hunwick_cli)
    result = hunwick_cli.ok(
        "deletion", "confirm", SERVICE, "--all-requested", "--date", date.today().isoformat()
    )
    assert "2 deletion(s)" in result.stderr
    assert [row["status"] for row in listed(hunwick_cli, "--all")] == ["confirmed", "confirmed"]


def test_confirmations_that_are_refused_write_nothing(hunwick_cli):
    upns = school(hunwick_cli)
    today = date.today()
    message = hunwick_cli.fails(
        "deletion", "confirm", SERVICE, "--upn", upns[0], "--date", today.isoformat()
    ).stderr
    assert f"No deletion of pupil {upns[0]}'s data has been requested of 'My Maths'" in message
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-11-02")
    request(hunwick_cli)
    before = (today - timedelta(days=1)).isoformat()
    message = hunwick_cli.fails("deletion", "confirm", SERVICE, "--upn", upns[0], "--date", before).stderr
    assert f"is before the request of {today.isoformat()}" in message
    ahead = (today + timedelta(days=3)).isoformat()
    message = hunwick_cli.fails("deletion", "confirm", SERVICE, "--all-requested", "--date", ahead).stderr
    assert "is in the future" in message
    message = hunwick_cli.fails(
        "deletion", "confirm", "No Such App", "--all-requested", "--date", today.isoformat()
    )
    assert "There is no service called 'No Such App'" in message.stderr
    message = hunwick_cli.fails("deletion", "confirm", SERVICE, "--date", today.isoformat()).stderr
    assert "--upn UPN for one pupil, or --all-requested" in message
    message = hunwick_cli.fails(
        "deletion", "confirm", SERVICE, "--upn", upns[0], "--all-requested", "--date", today.isoformat()
    ).stderr
    assert "not both" in message
    message = hunwick_cli.fails(
        "deletion", "confirm", SERVICE, "--upn", upns[1], "--provider", "Oxford University Press",
        "--date", today.isoformat(),
    ).stderr  # fmt: skip
    assert "requested of 'My Maths' (provider 'Oxford University Press')" in message
    message = hunwick_cli.fails("deletion", "list", "--service", "Kindle").stderr
    assert "follows no deletions" in message


def test_a_pupil_opted_in_again_after_a_request_is_an_add_again(hunwick_cli):
    upns = school(hunwick_cli)
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-11-02")
    request(hunwick_cli)
    hunwick_cli.ok("consent", "optin", upns[0], SERVICE, "--by", "A Parent")
    hunwick_cli.ok("export", "enrolment", SERVICE, "--changes", "--out", "changes.csv")
    with open("changes.csv", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert [(row["action"], row["forename"]) for row in rows] == [("add", "Forename0")]
    # Sent again after the request: the provider holds the pupil again, rightly, and nothing new is due;
    # but the request stays open until the provider confirms it (defect 3 of issue 10).
    assert [(row["upn"], row["status"]) for row in listed(hunwick_cli)] == [(upns[0], "requested")]
    hunwick_cli.ok("deletion", "confirm", SERVICE, "--upn", upns[0], "--date", date.today().isoformat())
    assert listed(hunwick_cli) == []


def overdue_school(cli: Cli, days_ago: int) -> list[str]:
    """A pupil sent `days_ago` days ago and opted out that day (the ledger written directly)."""
    upns = add_pupils(cli.url, [{"year_group": "3", "class_name": "3B"}, {"year_group": "3"}])
    day = date.today() - timedelta(days=days_ago)
    cli.ok(
        "consent",
        "optin",
        upns[0],
        SERVICE,
        "--by",
        "A Parent",
        "--date",
        (day - timedelta(days=9)).isoformat(),
    )
    record_sent(cli.url, SERVICE, upns[:1], at=datetime.combine(day, datetime.min.time(), tzinfo=UTC))
    cli.ok("consent", "optout", upns[0], SERVICE, "--date", day.isoformat())
    return upns


def test_overdue_and_fail_if_any_for_a_scheduled_job(hunwick_cli):
    upns = overdue_school(hunwick_cli, days_ago=40)
    [row] = listed(hunwick_cli, "--overdue")
    assert row["upn"] == upns[0] and row["days_waiting"] == 40
    result = hunwick_cli.run("deletion", "list", "--overdue", "--fail-if-any")
    assert result.exit_code == 1 and "1 deletion(s) listed overdue" in result.stderr
    hunwick_cli.ok("init", "--deletion-deadline-days", "45")
    assert hunwick_cli.run("deletion", "list", "--overdue", "--fail-if-any").exit_code == 0
    # Due but not overdue is still listed without --overdue, and --fail-if-any fails on it.
    assert hunwick_cli.run("deletion", "list", "--fail-if-any").exit_code == 1


def test_the_deadline_setting_is_checked(hunwick_cli):
    message = hunwick_cli.fails("init", "--deletion-deadline-days", "0").stderr
    assert "A deletion deadline of 0 days is not accepted" in message
    hunwick_cli.ok("init", "--deletion-deadline-days", "14")
    assert sql(hunwick_cli, "SELECT deletion_deadline_days FROM school_settings") == [(14,)]


def test_management_leavers_are_due_once_the_retention_period_has_passed(hunwick_cli, tmp_path):
    hunwick_cli.ok("service", "edit", "SIMS", "--retention", "1 year after the pupil leaves")
    long_gone, recent = date.today() - timedelta(days=800), date.today() - timedelta(days=100)
    upns = add_pupils(
        hunwick_cli.url,
        [
            {"year_group": "6", "on_roll": False, "left_on": long_gone},
            {"year_group": "6", "on_roll": False, "left_on": recent},
            {"year_group": "6"},
        ],
    )
    rows = listed(hunwick_cli, "--service", "SIMS")
    assert [row["upn"] for row in rows] == [upns[0]]
    assert rows[0]["reason"] == f"left on {long_gone.isoformat()}; the retention period (1 year) has passed"
    assert rows[0]["due_since"] == (long_gone.replace(year=long_gone.year + 1)).isoformat()
    hunwick_cli.ok("deletion", "request", "SIMS", "--out", "sims.csv", "--category", "management")
    header = (tmp_path / "sims.csv").read_text().splitlines()[0]
    assert header == "forename,surname,dob"  # SIMS receives full name and date of birth: no UPN
    hunwick_cli.ok("deletion", "confirm", "SIMS", "--upn", upns[0], "--date", date.today().isoformat())
    assert listed(hunwick_cli, "--service", "SIMS") == []
    # A retention that is not a period produces nothing.
    hunwick_cli.ok("service", "edit", "SIMS", "--retention", "as long as needed")
    add_pupils(
        hunwick_cli.url, [{"upn": "B801200005001", "year_group": "5", "on_roll": False, "left_on": long_gone}]
    )
    assert listed(hunwick_cli, "--service", "SIMS") == []


def test_deletions_follow_the_pupil_through_a_upn_change(hunwick_cli):
    upns = school(hunwick_cli)
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-11-02")
    request(hunwick_cli)
    new_upn = "B801200005001"
    hunwick_cli.ok("pupil", "change-upn", upns[0], new_upn)
    assert [row["upn"] for row in listed(hunwick_cli)] == [new_upn]
    hunwick_cli.ok("deletion", "confirm", SERVICE, "--upn", upns[0], "--date", date.today().isoformat())
    shown = hunwick_cli.json("pupil", "show", new_upn)
    assert [(d["kind"], d["service"], d["reason"]) for d in shown["deletions"]] == [
        ("requested", SERVICE, "opted out on 2026-11-02"),
        ("confirmed", SERVICE, None),
    ]


def test_deletions_survive_a_copy_of_the_database(hunwick_cli, tmp_path):
    upns = school(hunwick_cli)
    for upn in upns[:2]:
        hunwick_cli.ok("consent", "optout", upn, SERVICE, "--date", "2026-11-02")
    request(hunwick_cli)
    hunwick_cli.ok("deletion", "confirm", SERVICE, "--upn", upns[0], "--date", date.today().isoformat())
    before = listed(hunwick_cli, "--all")
    target = tmp_path / "copy.db"
    hunwick_cli.ok("db", "copy", "--to", str(target))
    copy = Cli(f"sqlite:///{target}")
    after = json.loads(copy.ok("--db", str(target), "deletion", "list", "--all", "--format", "json").stdout)
    assert after == before and {row["status"] for row in after} == {"requested", "confirmed"}
    copy.ok("--db", str(target), "db", "verify")


def test_deletion_history_is_append_only(hunwick_cli):
    upns = school(hunwick_cli)
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-11-02")
    request(hunwick_cli)
    with pytest.raises(Exception, match="are history"):
        sql(hunwick_cli, "UPDATE deletion_event SET kind = 'confirmed'")
    with pytest.raises(Exception, match="are history"):
        sql(hunwick_cli, "DELETE FROM deletion_event")


def test_a_school_with_deletions_joins_the_trust_server(sqlite_cli, blank_postgres_database, monkeypatch):  # noqa: F811
    """SQLite file -> a blank PostgreSQL database: deletions, the ledger and their chains carry on."""
    sqlite_cli.ok("init", "--school", "Hunwick Primary School", "--years", "R,1-6")
    sqlite_cli.ok("register", "import", str(HUNWICK))
    upns = school(sqlite_cli)
    for upn in upns[:2]:
        sqlite_cli.ok("consent", "optout", upn, SERVICE, "--date", "2026-11-02")
    request(sqlite_cli)
    sqlite_cli.ok("deletion", "confirm", SERVICE, "--upn", upns[0], "--date", date.today().isoformat())
    before = listed(sqlite_cli, "--all")
    server_url = blank_postgres_database.render_as_string(hide_password=False)
    sqlite_cli.ok("db", "copy", "--to", server_url)
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", server_url)
    trust = Cli(server_url)
    assert listed(trust, "--all") == before
    trust.ok("deletion", "confirm", SERVICE, "--upn", upns[1], "--date", date.today().isoformat())
    assert listed(trust) == []
    trust.ok("db", "verify")


def test_a_withdrawal_recorded_after_the_export_but_dated_before_it_is_due_from_the_export(hunwick_cli):
    upns = school(hunwick_cli, count=2)
    # The parent's email of October, keyed in only after the file went: the provider still holds the child.
    hunwick_cli.ok("consent", "optout", upns[1], SERVICE, "--date", "2026-10-01")
    [row] = listed(hunwick_cli)
    assert (row["upn"], row["reason"]) == (upns[1], "opted out on 2026-10-01")
    assert row["due_since"] == date.today().isoformat()
    # A renewal by the other parent, recorded after the export, changes nothing for the pupil sent.
    hunwick_cli.ok("consent", "optin", upns[0], SERVICE, "--by", "Other Parent")
    assert [r["upn"] for r in listed(hunwick_cli)] == [upns[1]]


def test_a_request_to_out_dash_goes_to_standard_output_not_a_file_named_dash(
    hunwick_cli, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    upns = school(hunwick_cli)
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-11-02")
    result = hunwick_cli.ok("deletion", "request", SERVICE, "--out", "-")
    assert upns[0] in result.stdout or "Pupil0" in result.stdout
    assert not (tmp_path / "-").exists()
    assert [row["status"] for row in listed(hunwick_cli)] == ["requested"]
