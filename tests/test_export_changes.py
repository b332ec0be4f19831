"""`export enrolment SERVICE --changes`: only what the provider must change, against the ledger's roster."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, text

from tests.helpers.pupils import add_pupils, upn_for

PUPILS = [
    {"year_group": "3", "class_name": "3B", "forename": "Amelia", "surname": "Ashworth"},
    {"year_group": "3", "class_name": "3B", "forename": "Ben", "surname": "Bolam"},
    {"year_group": "4", "class_name": "4A", "forename": "Cara", "surname": "Carr"},
]


def _yesterday() -> str:
    return (date.today() - timedelta(days=1)).isoformat()


def _two_days_ago() -> str:
    return (date.today() - timedelta(days=2)).isoformat()


SERVICE = "My Maths"  # forename, surname, class_name; years 1-6 in the Hunwick register


@pytest.fixture
def school(hunwick_cli):
    hunwick_cli.upns = add_pupils(hunwick_cli.url, PUPILS)
    for upn in hunwick_cli.upns:
        hunwick_cli.ok("consent", "optin", upn, SERVICE, "--by", "J A", "--date", _two_days_ago())
    return hunwick_cli


def changes(cli, *args: str) -> list[dict]:
    result = cli.ok("export", "enrolment", SERVICE, "--changes", *args)
    return list(csv.DictReader(io.StringIO(result.stdout)))


def actions(rows: list[dict]) -> list[tuple[str, str]]:
    return [(row["action"], row["forename"]) for row in rows]


def sql(cli, statement: str, **params) -> None:
    engine = create_engine(cli.url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement), params)
    finally:
        engine.dispose()


def test_the_first_changes_file_adds_everyone_the_full_export_sends(school):
    rows = changes(school)
    assert sorted(actions(rows)) == [("add", "Amelia"), ("add", "Ben"), ("add", "Cara")]
    assert all(row["reason"].startswith("opted in on ") for row in rows)
    assert list(rows[0]) == ["action", "reason", "forename", "surname", "class_name"]
    (record,) = school.json("export", "history")
    assert record["kind"] == "changes" and record["pupils"] == 3
    assert record["fields"] == ["forename", "surname", "class_name"]
    assert changes(school) == []  # the provider now holds what a full export sends: nothing to write


def test_nothing_changed_since_a_full_export_writes_and_records_nothing(school):
    school.ok("export", "enrolment", SERVICE)
    result = school.ok("export", "enrolment", SERVICE, "--changes")
    assert result.stdout == "" and "Nothing has changed for 'My Maths' since the export of" in result.stderr
    assert [row["pupils"] for row in school.json("export", "history")] == [3]


def test_a_changed_class_is_an_update(school):
    school.ok("export", "enrolment", SERVICE)
    sql(school, "UPDATE pupil SET class_name = '4B' WHERE upn = :upn", upn=school.upns[0])
    (row,) = changes(school)
    assert (row["action"], row["forename"], row["class_name"]) == ("update", "Amelia", "4B")
    assert row["reason"] == "changed: class_name"


def test_every_reason_to_remove(school):
    (d,) = add_pupils(
        school.url, [{"year_group": "5", "class_name": "5C", "forename": "Dev", "upn": "B801200005001"}]
    )
    school.ok("consent", "optin", d, SERVICE, "--by", "J A")
    school.ok("export", "enrolment", SERVICE)
    school.ok("consent", "optout", school.upns[0], SERVICE, "--by", "Mrs Ashworth")
    sql(school, "UPDATE pupil SET on_roll = :no, left_on = '2026-10-31' WHERE upn = :upn", no=False,
        upn=school.upns[1])  # fmt: skip
    sql(school, "UPDATE pupil SET year_group = '7' WHERE upn = :upn", upn=school.upns[2])
    school.ok("service", "edit", SERVICE, "--data", "full name, class, DOB")  # Dev: consent needs renewal
    rows = changes(school)
    reasons = {row["forename"]: (row["action"], row["reason"]) for row in rows}
    assert reasons["Amelia"][0] == "remove" and reasons["Amelia"][1].startswith("opted out on 20")
    assert reasons["Ben"] == ("remove", "left the roll on 2026-10-31")
    assert reasons["Cara"][0] == "remove" and "not in the service's year groups" in reasons["Cara"][1]
    assert reasons["Dev"][0] == "remove" and reasons["Dev"][1].startswith("consent needs renewal")
    # A remove row carries only what the provider was sent: no date of birth, the class as sent.
    assert {row["class_name"] for row in rows} == {"3B", "4A", "5C"}
    assert {row["dob"] for row in rows} == {""}


def test_the_roster_is_every_file_sent_not_only_the_last(school):
    """A full export tells the provider to delete no one: a pupil left out of a later full file is still
    held, and is removed in the next changes file."""
    school.ok("export", "enrolment", SERVICE)
    school.ok("consent", "optout", school.upns[0], SERVICE, "--by", "Mrs Ashworth")
    assert len(school.json("export", "enrolment", SERVICE)) == 2
    assert actions(changes(school)) == [("remove", "Amelia")]


def test_opting_in_again_after_a_removal_is_an_add_again(school):
    school.ok("export", "enrolment", SERVICE)
    # The opt-out dated yesterday: an opt-in of the same day as an opt-out, neither with a time, never
    # overrides it (consent_policy.order_key), so the parent's change of mind is dated the day after.
    school.ok("consent", "optout", school.upns[0], SERVICE, "--by", "Mrs Ashworth", "--date", _yesterday())
    assert actions(changes(school)) == [("remove", "Amelia")]
    school.ok("consent", "optin", school.upns[0], SERVICE, "--by", "Mrs Ashworth")
    (row,) = changes(school)
    assert (row["action"], row["forename"]) == ("add", "Amelia") and row["reason"].startswith("opted in")


def test_json_changes_carry_action_and_reason(school):
    rows = school.json("export", "enrolment", SERVICE, "--changes", "--format", "json")
    assert {row["action"] for row in rows} == {"add"}
    assert set(rows[0]) == {"action", "reason", "forename", "surname", "class_name"}


def test_a_service_never_approved_has_nothing_to_remove_and_records_nothing(school):
    school.ok("service", "add", "Spell Zone", "--category", "pupil", "--provider", "Google", "--purpose",
              "Spelling", "--data", "full name", "--years", "All")  # fmt: skip
    before = school.snapshot()
    assert "not approved" in school.fails("export", "enrolment", "Spell Zone").stderr
    result = school.ok("export", "enrolment", "Spell Zone", "--changes")
    assert result.stdout == "" and "Nothing to send" in result.stderr
    assert school.snapshot() == before


def test_a_dry_run_of_the_changes_records_nothing(school):
    school.ok("export", "enrolment", SERVICE)
    school.ok("consent", "optout", school.upns[0], SERVICE, "--by", "Mrs Ashworth")
    before = school.snapshot()
    result = school.ok("export", "enrolment", SERVICE, "--changes", "--dry-run")
    assert result.stdout.splitlines()[1].startswith("remove,opted out on")
    assert school.snapshot() == before
    assert actions(changes(school)) == [("remove", "Amelia")]


def test_opting_in_again_after_a_deletion_request_is_an_add_again(school, tmp_path):
    """The request asked the provider to delete the child, so an opt-in again is an add; until the provider
    confirms, the child is still held, so every changes file repeats the removal (as deletion list and
    report providers count the child as held)."""
    school.ok("export", "enrolment", SERVICE)
    school.ok("consent", "optout", school.upns[0], SERVICE, "--by", "Mrs Ashworth", "--date", _yesterday())
    school.ok("deletion", "request", SERVICE, "--out", str(tmp_path / "request.csv"))
    assert actions(changes(school)) == [("remove", "Amelia")]
    assert actions(changes(school)) == [("remove", "Amelia")]  # again: not confirmed yet
    school.ok("consent", "optin", school.upns[0], SERVICE, "--by", "Mrs Ashworth")
    assert actions(changes(school)) == [("add", "Amelia")]


def test_a_remove_row_names_the_pupil_as_the_provider_was_sent_it(school):
    """After the service stops receiving names, a remove row still carries what the provider holds the
    child under (the ledger's last sent values, as `deletion request` names it): two children of the same
    forename in the same class stay two different rows, and the fields the service no longer receives are
    filled only on remove rows."""
    (twin,) = add_pupils(
        school.url,
        [
            {
                "year_group": "3",
                "class_name": "3B",
                "forename": "Amelia",
                "surname": "Brook",
                "upn": upn_for(9),
            }
        ],
    )
    school.ok("consent", "optin", twin, SERVICE, "--by", "J A", "--date", _two_days_ago())
    school.ok("export", "enrolment", SERVICE)
    for upn in (school.upns[0], twin):
        school.ok("consent", "optout", upn, SERVICE, "--by", "Parent")
    school.ok("service", "edit", SERVICE, "--data", "class")
    dry = school.ok("export", "enrolment", SERVICE, "--changes", "--dry-run").stdout
    rows = changes(school)
    assert list(rows[0]) == ["action", "reason", "forename", "surname", "class_name"]
    removes = [
        (row["forename"], row["surname"], row["class_name"]) for row in rows if row["action"] == "remove"
    ]
    assert sorted(removes) == [("Amelia", "Ashworth", "3B"), ("Amelia", "Brook", "3B")]
    assert {(row["forename"], row["surname"]) for row in rows if row["action"] != "remove"} == {("", "")}
    (_, record) = school.json("export", "history")
    assert record["fields"] == ["forename", "surname", "class_name"]
    assert list(csv.DictReader(io.StringIO(dry))) == rows  # the dry run showed the file as sent
    # The ledger records each remove row as the file carries it.
    engine = create_engine(school.url)
    try:
        with engine.connect() as connection:
            recorded = connection.execute(
                text("SELECT sent_values FROM export_pupil WHERE action = 'remove' ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    in_file = [{k: v for k, v in row.items() if k not in ("action", "reason")} for row in rows[:2]]
    by_surname = sorted((json.loads(value) for (value,) in recorded), key=lambda r: r["surname"])
    assert by_surname == sorted(in_file, key=lambda r: r["surname"])


def test_a_remove_row_and_a_request_name_the_pupil_by_every_send_the_provider_holds(school, tmp_path):
    """Names sent in a full export, then only the class (an update dropping the names): the provider
    still holds the names, so the remove row and the deletion request carry them."""
    school.ok("export", "enrolment", SERVICE)
    school.ok("service", "edit", SERVICE, "--data", "class")
    updates = changes(school)
    assert {row["action"] for row in updates} == {"update"}
    school.ok("consent", "optout", school.upns[0], SERVICE, "--by", "Parent")
    removes = [row for row in changes(school, "--dry-run") if row["action"] == "remove"]
    assert [(r["forename"], r["surname"], r["class_name"]) for r in removes] == [("Amelia", "Ashworth", "3B")]
    out = tmp_path / "request.csv"
    school.ok("deletion", "request", SERVICE, "--out", str(out))
    (row,) = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert (row["forename"], row["surname"]) == ("Amelia", "Ashworth")


def test_a_retired_service_gets_its_removals_and_nothing_new(school):
    """Removals are due exactly when a service is retired: --changes carries them (and only them), is
    recorded, and says so; a full export stays refused."""
    (late,) = add_pupils(
        school.url, [{"year_group": "4", "class_name": "4A", "forename": "Dot", "upn": upn_for(8)}]
    )
    school.ok("export", "enrolment", SERVICE)
    school.ok("consent", "optout", school.upns[0], SERVICE, "--by", "Mrs Ashworth")
    school.ok("consent", "optin", late, SERVICE, "--by", "Parent")  # would be an add if approved
    school.ok("service", "retire", SERVICE)
    before = school.snapshot()
    refused = school.fails("export", "enrolment", SERVICE)
    assert "'My Maths' is retired, not approved, so no pupil's data may be sent to it" in refused.stderr
    assert school.snapshot() == before
    dry = school.ok("export", "enrolment", SERVICE, "--changes", "--dry-run")
    assert school.snapshot() == before
    result = school.ok("export", "enrolment", SERVICE, "--changes")
    assert dry.stdout == result.stdout
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    reasons = {row["forename"]: (row["action"], row["reason"]) for row in rows}
    assert set(reasons) == {"Amelia", "Ben", "Cara"}  # no add for Dot
    assert reasons["Amelia"][0] == "remove" and reasons["Amelia"][1].startswith("opted out on ")
    assert reasons["Ben"] == reasons["Cara"] == ("remove", "the service is retired")
    note = (
        "'My Maths' is retired: this file only asks the provider to remove the 3 pupil(s) it holds; "
        "nothing new is sent."
    )
    assert note in result.stderr and note in dry.stderr
    assert "0 to add, 0 to update, 3 to remove" in result.stderr
    record = school.json("export", "history")[-1]
    assert (record["kind"], record["pupils"]) == ("changes", 3)


def test_a_high_risk_approval_awaiting_sign_off_gets_removals_only(school):
    school.ok("export", "enrolment", SERVICE)
    school.ok("consent", "optout", school.upns[0], SERVICE, "--by", "Mrs Ashworth")
    school.ok("assess", "record", SERVICE, "--date", _yesterday(), "--by", "J Bloggs",
              "--outcome", "approved", "--residual-risk", "high")  # fmt: skip
    refused = school.fails("export", "enrolment", SERVICE).stderr
    assert (
        "'My Maths' is not approved, so no pupil's data" in refused
        and "not approved, not approved" not in refused
    )
    assert "assess sign-off" in refused
    result = school.ok("export", "enrolment", SERVICE, "--changes")
    assert sorted(actions(list(csv.DictReader(io.StringIO(result.stdout))))) == [
        ("remove", "Amelia"), ("remove", "Ben"), ("remove", "Cara")
    ]  # fmt: skip
    assert (
        "'My Maths' is not approved: this file only asks the provider to remove the 3 pupil(s)"
        in result.stderr
    )
