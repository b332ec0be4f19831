"""The ledger's and deletions' loose ends: a replaced UPN in a subject-access request, a confirmation recorded
twice, an empty --recorded-by, and a changes file with nothing in it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import HUNWICK
from tests.helpers.cli import Cli
from tests.helpers.ledger import record_sent
from tests.helpers.pupils import add_pupils
from tests.test_deletions import SERVICE, listed, request, school, sql


def _today() -> str:
    return date.today().isoformat()


# --- pupil show under a UPN that change-upn replaced --------------------------------------------------------


def test_pupil_show_finds_the_pupil_by_a_replaced_upn_and_says_so(hunwick_cli):
    upns = school(hunwick_cli)
    new_upn = "B801200005001"
    hunwick_cli.ok("pupil", "change-upn", upns[0], new_upn)
    result = hunwick_cli.ok("pupil", "show", upns[0], "--format", "json")
    assert f"UPN {upns[0]} was changed to {new_upn} on {_today()}" in result.stderr
    shown = hunwick_cli.json("pupil", "show", upns[0])
    assert shown == hunwick_cli.json("pupil", "show", new_upn)  # the same record, under the UPN now
    assert shown["upn"] == new_upn and shown["previous_upns"] == [upns[0]]
    # The recipients the request asks about were sent the old UPN: the subject-access view names them.
    assert [row["upn_sent"] for row in shown["exports"]] == [upns[0]]
    table = hunwick_cli.ok("pupil", "show", upns[0])
    assert f"Pupil {new_upn}" in table.stdout and "was changed to" in table.stderr
    # The pupil's own UPN says nothing more; a UPN nobody had is still refused.
    assert "was changed" not in hunwick_cli.ok("pupil", "show", new_upn).stderr
    assert "There is no pupil with UPN" in hunwick_cli.fails("pupil", "show", "B801200009001").stderr


# --- a confirmation recorded twice --------------------------------------------------------------------------


def test_a_second_confirmation_for_a_pupil_records_nothing_and_says_when_it_was_confirmed(hunwick_cli):
    upns = school(hunwick_cli)
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-11-02")
    request(hunwick_cli)
    confirm = ("deletion", "confirm", SERVICE, "--upn", upns[0], "--date", _today())
    hunwick_cli.ok(*confirm, "--reference", "OUP-7")
    before = hunwick_cli.snapshot()
    again = hunwick_cli.ok(*confirm, "--reference", "OUP-8")
    assert again.stderr.strip() == (
        f"Nothing recorded: the deletion of pupil {upns[0]}'s data sent for '{SERVICE}' was already "
        f"confirmed on {_today()} (reference OUP-7), and no deletion of it is waiting."
    )
    assert "Error" not in again.stderr and hunwick_cli.snapshot() == before
    # The same for --all-requested run again (a scheduled job, a second e-mail from the provider).
    again = hunwick_cli.ok("deletion", "confirm", SERVICE, "--all-requested", "--date", _today())
    assert again.stderr.startswith("Nothing recorded: every deletion requested of 'My Maths' was already")
    assert hunwick_cli.snapshot() == before
    assert [kind for (kind,) in sql(hunwick_cli, "SELECT kind FROM deletion_event ORDER BY id")] == [
        "requested",
        "confirmed",
    ]


def test_a_confirmation_is_still_refused_when_the_pupil_is_due_again_or_was_never_asked(hunwick_cli):
    upns = school(hunwick_cli)
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-11-02")
    request(hunwick_cli)
    hunwick_cli.ok("deletion", "confirm", SERVICE, "--upn", upns[0], "--date", _today())
    # Opted in again, sent again, withdrawn again: due, not yet asked, so there is nothing to confirm.
    hunwick_cli.ok("consent", "optin", upns[0], SERVICE, "--by", "A Parent")
    hunwick_cli.ok("export", "enrolment", SERVICE, "--changes", "--out", "changes.csv")
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE)
    assert [(row["upn"], row["status"]) for row in listed(hunwick_cli)] == [(upns[0], "due")]
    message = hunwick_cli.fails("deletion", "confirm", SERVICE, "--upn", upns[0], "--date", _today()).stderr
    assert "has been requested of 'My Maths', so there is nothing to confirm" in message
    message = hunwick_cli.fails("deletion", "confirm", SERVICE, "--upn", upns[1], "--date", _today()).stderr
    assert f"No deletion of pupil {upns[1]}'s data has been requested" in message


# --- --recorded-by given empty ------------------------------------------------------------------------------


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_an_empty_recorded_by_is_refused_by_every_command_that_takes_it(hunwick_cli, blank, tmp_path):
    upns = school(hunwick_cli)
    hunwick_cli.ok("consent", "optout", upns[1], SERVICE, "--date", "2026-11-02")
    request(hunwick_cli)
    with open("returns.csv", "w", encoding="utf-8") as stream:
        stream.write(f"UPN,Service,Decision,Given by\n{upns[2]},{SERVICE},opt-out,A Parent\n")
    commands = [
        ("consent", "optin", upns[1], SERVICE, "--by", "A Parent"),
        ("consent", "optout", upns[0], SERVICE),
        ("consent", "import", "returns.csv"),
        ("export", "enrolment", SERVICE, "--out", "again.csv"),
        ("export", "enrolment", SERVICE, "--changes", "--out", "again.csv"),
        ("deletion", "request", SERVICE, "--out", "again.csv"),
        ("deletion", "confirm", SERVICE, "--upn", upns[1], "--date", _today()),
    ]
    for command in commands:
        message = hunwick_cli.fails(*command, "--recorded-by", blank).stderr
        assert "The name given with --recorded-by is empty" in message, command
        assert "leave --recorded-by out to record your login name" in message
    assert not (tmp_path / "again.csv").exists()


def test_a_recorded_by_name_is_kept_as_given(hunwick_cli):
    upns = school(hunwick_cli)
    hunwick_cli.ok(
        "consent", "optout", upns[1], SERVICE, "--date", "2026-11-02", "--recorded-by", " Jo  Bloggs "
    )
    [(who,)] = sql(hunwick_cli, "SELECT recorded_by FROM consent_event WHERE decision = 'opt-out'")
    assert who == "Jo Bloggs"


# --- a changes file with nothing in it ----------------------------------------------------------------------


def test_nothing_changed_writes_no_file_and_records_nothing(hunwick_cli: Cli, tmp_path):
    school(hunwick_cli)
    [sent] = hunwick_cli.json("export", "history")
    before = hunwick_cli.snapshot()
    expected = (
        f"Nothing has changed for '{SERVICE}' since the export of {sent['exported_at'][:10]}: no file "
        "written; nothing recorded."
    )
    for options in (("--out", "changes.csv"), (), ("--out", "-"), ("--dry-run",), ("--format", "json")):
        result = hunwick_cli.ok("export", "enrolment", SERVICE, "--changes", *options)
        assert result.stderr.strip() == expected and result.stdout == ""
    assert not (tmp_path / "changes.csv").exists()
    assert hunwick_cli.snapshot() == before
    assert len(hunwick_cli.json("export", "history")) == 1


def test_nothing_to_send_and_never_sent_writes_no_file(hunwick_cli: Cli, tmp_path):
    before = hunwick_cli.snapshot()
    result = hunwick_cli.ok("export", "enrolment", SERVICE, "--changes", "--out", "changes.csv")
    assert result.stderr.strip() == (
        f"Nothing to send: no pupil is to be sent to '{SERVICE}' and none was sent before. No file written; "
        "nothing recorded."
    )
    assert not (tmp_path / "changes.csv").exists() and hunwick_cli.snapshot() == before
    # A full export of nobody is still a file the school sent (as before): only --changes skips it.
    hunwick_cli.ok("export", "enrolment", SERVICE, "--out", "full.csv")
    assert [row["pupils"] for row in hunwick_cli.json("export", "history")] == [0]


# --- report providers --as-of, and its queries -------------------------------------------------------------


def _sent_on(cli: Cli, upns: list[str], day: date) -> None:
    from datetime import UTC, datetime

    record_sent(cli.url, SERVICE, upns, at=datetime.combine(day, datetime.min.time(), tzinfo=UTC))


def providers(cli: Cli, *options: str) -> dict[str, dict]:
    return {row["service"]: row for row in cli.json("report", "providers", *options)}


def test_holdings_as_of_a_day_count_only_files_sent_and_deletions_confirmed_by_then(hunwick_cli):
    from datetime import timedelta

    today = date.today()
    first, second = today - timedelta(days=40), today - timedelta(days=20)
    between, before_any = today - timedelta(days=30), today - timedelta(days=50)
    upns = add_pupils(hunwick_cli.url, [{"year_group": "3", "class_name": "3B"} for _ in range(3)])
    for upn in upns:
        hunwick_cli.ok("consent", "optin", upn, SERVICE, "--by", "A Parent", "--date", first.isoformat())
    _sent_on(hunwick_cli, upns[:2], first)
    _sent_on(hunwick_cli, upns[2:], second)
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE)  # today: a deletion due from today
    now = providers(hunwick_cli)[SERVICE]
    assert (now["held"], now["should_hold"], now["held_not_allowed"]) == (3, 2, 1)
    assert (now["deletions_due"], now["last_export"]) == (1, second.isoformat())
    then = providers(hunwick_cli, "--as-of", between.isoformat())[SERVICE]
    assert (then["held"], then["last_export"], then["deletions_due"]) == (2, first.isoformat(), 0)
    # Consent is judged now (what the export would send today); the differences follow.
    assert (then["should_hold"], then["held_not_allowed"], then["allowed_not_held"]) == (2, 1, 1)
    early = providers(hunwick_cli, "--as-of", before_any.isoformat())[SERVICE]
    assert (early["held"], early["last_export"], early["deletions_due"]) == (0, None, 0)
    # A deletion confirmed today: the provider still held the pupil yesterday.
    request(hunwick_cli)
    hunwick_cli.ok("deletion", "confirm", SERVICE, "--all-requested", "--date", _today())
    assert providers(hunwick_cli)[SERVICE]["held"] == 2
    yesterday = (today - timedelta(days=1)).isoformat()
    assert providers(hunwick_cli, "--as-of", yesterday)[SERVICE]["held"] == 3


PUPIL = ("--category", "pupil")  # a name may be in two sections (Google G Suite)


def test_should_hold_is_what_the_full_export_sends_for_every_service(hunwick_cli):
    years = ["R", "1", "2", "3", "4", "5", "6", "3"]
    upns = add_pupils(hunwick_cli.url, [{"year_group": y, "class_name": f"{y}A"} for y in years])
    services = [row["name"] for row in hunwick_cli.json("service", "list") if row["category"] == "pupil"]
    for index, service in enumerate(services):
        for number, upn in enumerate(upns):
            if (index + number) % 3:
                hunwick_cli.run(
                    "consent", "optin", upn, service, "--by", "A Parent", "--date", "2026-09-01", *PUPIL
                )
            if (index + number) % 5 == 0:
                hunwick_cli.run("consent", "optout", upn, service, "--date", "2026-10-01", *PUPIL)
        if index % 4 == 0:
            hunwick_cli.ok("export", "enrolment", service, "--out", f"{index}.csv", *PUPIL)
    hunwick_cli.ok(
        "service", "edit", services[1], "--data", "full name, date of birth, class, photos", *PUPIL
    )
    sql(hunwick_cli, "UPDATE pupil SET on_roll = :no, left_on = :day WHERE upn = :upn", no=False,
        day=date(2026, 10, 31), upn=upns[3])  # fmt: skip
    report = providers(hunwick_cli)
    for service in services:
        result = hunwick_cli.run("export", "enrolment", service, "--dry-run", "--format", "json", *PUPIL)
        sent = len(json.loads(result.stdout)) if result.exit_code == 0 else 0
        assert report.get(service, {"should_hold": 0})["should_hold"] == sent, service


def test_the_report_reads_the_same_number_of_times_however_many_services(sqlite_cli):
    """No query per service: the ledger, the deletions, the pupils and the consent events are each read
    once (counted on SQLite's own trace of statements, not timed)."""
    from cloudctl.db.engine import open_database
    from cloudctl.db.location import sqlite_location
    from cloudctl.reports.providers import providers_report

    hunwick_cli = sqlite_cli
    hunwick_cli.ok("init", "--school", "Hunwick Primary School", "--years", "R,1-6")
    hunwick_cli.ok("register", "import", str(HUNWICK))
    upns = add_pupils(hunwick_cli.url, [{"year_group": "3", "class_name": "3B"} for _ in range(4)])

    def send(service: str) -> None:
        for upn in upns:
            hunwick_cli.ok("consent", "optin", upn, service, "--by", "A Parent", *PUPIL)
        hunwick_cli.ok("export", "enrolment", service, "--out", f"{service}.csv", *PUPIL)
        hunwick_cli.ok("consent", "optout", upns[0], service, *PUPIL)

    def queries() -> tuple[int, int]:
        db = open_database(sqlite_location(Path(hunwick_cli.url.removeprefix("sqlite:///"))))
        statements: list[str] = []
        with db.read() as session:
            session.connection().connection.dbapi_connection.set_trace_callback(statements.append)
            rows = providers_report(session, as_of=date.today())
        db.dispose()
        return sum(1 for text in statements if text.lstrip().upper().startswith("SELECT")), len(rows)

    send(SERVICE)
    few, listed_before = queries()
    for index in range(3):
        name = f"Reading App {index}"
        hunwick_cli.ok("service", "add", name, "--category", "pupil", "--provider", "Oxford University Press",
                       "--data", "full name, class", "--years", "All")  # fmt: skip
        sql(hunwick_cli, "UPDATE service SET status = :approved WHERE name = :name", approved="approved",
            name=name)  # fmt: skip
        send(name)
    many, listed_after = queries()
    assert listed_after == listed_before + 3
    assert few == many
