"""Consent: the policy's rules, each refusal, the untouchable history, renewal, bulk commands."""

from __future__ import annotations

import getpass

import pytest
from sqlalchemy import create_engine, text

from tests.helpers.pupils import add_pupils

PUPILS = [
    {"year_group": "3", "class_name": "3B", "forename": "Amelia", "surname": "Ashworth"},
    {"year_group": "3", "class_name": "3B", "forename": "Ben", "surname": "Bolam"},
    {"year_group": "1", "class_name": "1A", "forename": "Cara", "surname": "Carr"},
    {"year_group": "R", "class_name": "RW", "forename": "Dev", "surname": "Dunn"},
    {"year_group": "5", "class_name": "5C", "forename": "Eve", "surname": "Eden", "on_roll": False},
]


@pytest.fixture
def school(hunwick_cli):
    """The Hunwick register with five pupils: two in 3B, one in 1A, one in Reception, one who left."""
    hunwick_cli.upns = add_pupils(hunwick_cli.url, PUPILS)
    return hunwick_cli


def events(cli) -> list[dict]:
    engine = create_engine(cli.url)
    try:
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(text("SELECT * FROM consent_event"))]
    finally:
        engine.dispose()


def status_of(cli, upn: str, service: str) -> str:
    rows = cli.json("consent", "status", upn)
    return next(row["status"] for row in rows if row["service"] == service)


def test_an_opt_in_records_who_when_how_and_what_they_were_told(school):
    upn = school.upns[0]
    school.ok(
        "consent", "optin", upn, "My Maths", "--by", "Jane Ashworth", "--relationship", "mother",
        "--method", "email", "--date", "01/09/2026", "--note", "reply to the September letter",
    )  # fmt: skip
    (event,) = events(school)
    assert event["decision"] == "opt-in"
    assert event["given_by"] == "Jane Ashworth"
    assert event["relationship"] == "mother"
    assert event["method"] == "email"
    assert str(event["effective_on"]) == "2026-09-01"
    assert event["recorded_by"] == getpass.getuser()
    (history,) = school.json("consent", "history", upn)
    assert history["told_purpose"] == "Maths assessment and resources"
    assert history["told_data"] == ["full name", "class"]
    assert status_of(school, upn, "My Maths") == "opted-in"


def test_recorded_by_can_be_given(school):
    school.ok(
        "consent", "optin", school.upns[0], "My Maths", "--by", "J A", "--recorded-by", "Office: K Smith"
    )
    assert events(school)[0]["recorded_by"] == "Office: K Smith"


def test_no_event_means_no_response(school):
    assert status_of(school, school.upns[0], "My Maths") == "no-response"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["My Maths"], "--by"),
        (["My Maths", "--by", "J A", "--date", "2099-01-01"], "in the future"),
        (["My Maths", "--by", "J A", "--date", "31/02/2026"], "31/02/2026"),
        (["My Maths", "--by", "J A", "--method", "pigeon"], "pigeon"),
        (["My Mathz", "--by", "J A"], "Did you mean 'My Maths'"),
    ],
)
def test_bad_opt_ins_are_refused_and_write_nothing(school, args, message):
    result = school.fails("consent", "optin", school.upns[0], *args)
    assert message in result.stderr


def test_an_unknown_pupil_is_refused(school):
    result = school.fails("consent", "optin", "A801200005001", "My Maths", "--by", "J A")
    assert "no pupil with UPN" in result.stderr


def test_management_services_have_no_opt_out(school):
    result = school.fails("consent", "optout", school.upns[0], "SIMS")
    assert "needed to run the school, so it has no opt-out" in result.stderr
    result = school.fails("consent", "optin", school.upns[0], "SIMS", "--by", "J A")
    assert "does not depend on parents' consent" in result.stderr


@pytest.mark.parametrize("service", ["Kindle", "School Website"])
def test_other_online_services_are_not_consent_based(school, service):
    result = school.fails("consent", "optin", school.upns[0], service, "--by", "J A")
    assert "not consent-based" in result.stderr
    result = school.fails("consent", "optout", school.upns[0], service)
    assert "not consent-based" in result.stderr


def test_statutory_services_are_not_consent_based(school):
    school.ok("provider", "add", "Department for Education")
    school.ok("service", "add", "School census", "--category", "statutory", "--provider",
              "Department for Education", "--data", "full name, UPN", "--years", "All")  # fmt: skip
    result = school.fails("consent", "optout", school.upns[0], "School census")
    assert "statutory" in result.stderr and "not consent-based" in result.stderr


def _pupil_service(cli, name: str) -> None:
    cli.ok("service", "add", name, "--category", "pupil", "--provider", "Google", "--purpose", "Spelling",
           "--data", "full name", "--years", "All")  # fmt: skip


def test_an_opt_in_needs_an_approved_service(school):
    _pupil_service(school, "Spell Zone")
    result = school.fails("consent", "optin", school.upns[0], "Spell Zone", "--by", "J A")
    assert "awaiting its risk assessment" in result.stderr
    school.ok(
        "assess", "record", "Spell Zone", "--date", "2026-11-01", "--by", "DPO", "--outcome", "rejected"
    )
    result = school.fails("consent", "optin", school.upns[0], "Spell Zone", "--by", "J A")
    assert "was not approved" in result.stderr
    school.ok("service", "retire", "My Maths")
    result = school.fails("consent", "optin", school.upns[0], "My Maths", "--by", "J A")
    assert "is retired" in result.stderr


def test_an_opt_in_needs_a_pupil_on_roll(school):
    result = school.fails("consent", "optin", school.upns[4], "My Maths", "--by", "J A")
    assert "no longer on roll" in result.stderr


def test_an_opt_in_needs_a_pupil_in_the_services_year_groups(school):
    result = school.fails("consent", "optin", school.upns[3], "Accelerated Reader", "--by", "J A")
    assert "year R" in result.stderr and "Y2 - Y6" in result.stderr


def test_a_selected_pupils_service_accepts_any_year_and_marks_the_pupil_selected(school):
    reception = school.upns[3]
    assert status_of(school, reception, "Lexia Core 5") == "not-eligible"
    school.ok("consent", "optin", reception, "Lexia Core 5", "--by", "Dev's dad")
    assert events(school)[0]["selected"] in (True, 1)
    assert status_of(school, reception, "Lexia Core 5") == "opted-in"


@pytest.mark.parametrize(
    "setup",
    [
        [],
        [["service", "retire", "My Maths"]],
        [["assess", "record", "My Maths", "--date", "2026-11-01", "--by", "DPO", "--outcome", "rejected"]],
    ],
    ids=["approved", "retired", "not-approved"],
)
def test_an_opt_out_is_never_refused(school, setup):
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "My Maths", "--by", "J A", "--date", "2026-09-01")
    for command in setup:
        school.ok(*command)
    school.ok("consent", "optout", upn, "My Maths")
    assert [event["decision"] for event in events(school)] == ["opt-in", "opt-out"]


def test_an_opt_out_for_a_pupil_who_left_or_never_replied_is_recorded(school):
    school.ok("consent", "optout", school.upns[4], "My Maths", "--by", "Mrs Eden")
    school.ok("consent", "optout", school.upns[3], "Accelerated Reader")
    assert len(events(school)) == 2
    assert status_of(school, school.upns[4], "My Maths") == "opted-out"


def test_opting_in_twice_records_nothing_and_says_so(school):
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "My Maths", "--by", "J A")
    result = school.ok("consent", "optin", upn, "My Maths", "--by", "J A")
    assert "already opted in" in result.stderr
    school.ok("consent", "optout", upn, "My Maths")
    result = school.ok("consent", "optout", upn, "My Maths")
    assert "already opted out" in result.stderr
    assert len(events(school)) == 2


def test_a_backdated_form_does_not_override_a_later_opt_out(school):
    upn = school.upns[0]
    school.ok("consent", "optout", upn, "My Maths", "--date", "2026-10-01")
    result = school.ok("consent", "optin", upn, "My Maths", "--by", "J A", "--date", "2026-09-01")
    assert "still stands" in result.stderr
    assert status_of(school, upn, "My Maths") == "opted-out"


def test_history_is_refused_rewriting_by_the_database(school):
    school.ok("consent", "optin", school.upns[0], "My Maths", "--by", "J A")
    engine = create_engine(school.url)
    try:
        for statement in ("UPDATE consent_event SET decision = 'opt-out'", "DELETE FROM consent_event"):
            with pytest.raises(Exception, match="history"), engine.begin() as connection:
                connection.execute(text(statement))
        for statement in ("UPDATE service_version SET purpose = 'x'", "DELETE FROM service_version"):
            with pytest.raises(Exception, match="history"), engine.begin() as connection:
                connection.execute(text(statement))
    finally:
        engine.dispose()
    assert [event["decision"] for event in events(school)] == ["opt-in"]


def test_consent_given_for_the_full_name_covers_the_first_name_alone(school):
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "My Maths", "--by", "J A")
    # Narrowing: the first name is a part of the full name the parent was told of.
    school.ok("service", "edit", "My Maths", "--data", "first name, class")
    assert status_of(school, upn, "My Maths") == "opted-in"
    # Widening back from there is not: a form that told of the first name alone does not cover the full name.
    school.ok("consent", "optin", school.upns[1], "My Maths", "--by", "K B")
    school.ok("service", "edit", "My Maths", "--data", "full name, class, DOB")
    assert status_of(school, upn, "My Maths") == "needs-renewal"
    assert status_of(school, school.upns[1], "My Maths") == "needs-renewal"


def test_what_a_parent_was_not_told_of_leaves_out_what_a_whole_they_were_told_of_covers():
    from cloudctl.domain.consent_policy import UNLIMITED, ServiceRule

    rule = ServiceRule.build(
        1, "My Maths", "pupil", "approved", "years", "3", '["first name", "date of birth"]', "Y3", UNLIMITED
    )
    assert rule.untold(frozenset({"full name"})) == ["date of birth"]
    assert rule.told_covers(frozenset({"full name", "date of birth"}))
    assert not rule.told_covers(frozenset({"first name"}) | frozenset({"class"}))
    assert "(date of birth)" in rule.renewal_reason(frozenset({"full name"}), "2026-01-01")


def test_consent_given_before_the_data_grew_needs_renewal(school):
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "My Maths", "--by", "J A")
    school.ok("service", "edit", "My Maths", "--data", "full name, class, DOB")
    assert status_of(school, upn, "My Maths") == "needs-renewal"
    rows = school.json("report", "consent", "--class", "3B")
    assert rows[0]["consent"]["My Maths"] == "needs-renewal"
    assert "needs-renewal" in {row["status"] for row in school.json("report", "offline-alternatives")}
    assert school.ok("export", "enrolment", "My Maths").stdout.splitlines()[1:] == []
    result = school.ok("consent", "optin", upn, "My Maths", "--by", "J A", "--note", "renewed for DOB")
    assert "already" not in result.stderr
    assert status_of(school, upn, "My Maths") == "opted-in"
    (history_old, history_new) = school.json("consent", "history", upn)
    assert "date of birth" not in history_old["told_data"]
    assert "date of birth" in history_new["told_data"]
    assert len(school.ok("export", "enrolment", "My Maths").stdout.splitlines()) == 2


def test_removing_a_category_keeps_consent_current(school):
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "Accelerated Reader", "--by", "J A")
    school.ok("service", "edit", "Accelerated Reader", "--data", "full name, UPN")
    assert status_of(school, upn, "Accelerated Reader") == "opted-in"


def test_bulk_opt_in_by_class_records_each_pupil(school):
    result = school.ok(
        "consent", "optin", "--class", "3B", "My Maths", "--by", "Returned forms", "-f", "json"
    )
    import json

    outcomes = json.loads(result.stdout)
    assert sorted(outcome["upn"] for outcome in outcomes) == sorted(school.upns[:2])
    assert {outcome["action"] for outcome in outcomes} == {"recorded"}
    assert len(events(school)) == 2


def test_bulk_opt_in_skips_pupils_the_rules_exclude(school):
    outcomes = school.json("consent", "optin", "--year", "R", "Accelerated Reader", "--by", "x")
    assert [outcome["action"] for outcome in outcomes] == ["skipped"]
    assert events(school) == []


def test_bulk_opt_out_by_year(school):
    outcomes = school.json("consent", "optout", "--year", "3", "ClassDojo")
    assert len(outcomes) == 2 and len(events(school)) == 2


def test_all_services_means_those_the_pupil_is_eligible_for(school):
    outcomes = school.json("consent", "optin", school.upns[3], "--all-services", "--by", "Dev's dad")
    # Reception: ClassDojo, Google G Suite and My Maths are "All"; Accelerated Reader is Y2-Y6,
    # Times Tables Rock Stars Y1-Y6; Lexia and Mable are for selected pupils only.
    assert sorted(outcome["service"] for outcome in outcomes) == [
        "ClassDojo",
        "Google G Suite for Education",
        "My Maths",
    ]


def test_opting_out_of_everything(school):
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "My Maths", "--by", "J A")
    school.ok("consent", "optout", upn, "--all-services")
    statuses = {row["service"]: row["status"] for row in school.json("consent", "status", upn)}
    assert statuses["My Maths"] == "opted-out"
    assert "opted-in" not in statuses.values()


@pytest.mark.parametrize(
    "args",
    [
        ["consent", "optin", "--class", "3B", "--year", "3", "My Maths", "--by", "x"],
        ["consent", "optin", "My Maths", "--by", "x"],
        ["consent", "optin", "--class", "9Z", "My Maths", "--by", "x"],
    ],
)
def test_bulk_commands_need_sensible_targets(school, args):
    school.fails(*args)


EXPECTED_EXPORT_COLUMNS = {
    "Accelerated Reader": "upn,forename,surname,dob,gender",
    "ClassDojo": "forename,surname_initial",
    "Google G Suite for Education": "forename,surname",
    "Lexia Core 5": "forename,surname,class_name",
    "My Maths": "forename,surname,class_name",
    "Times Tables Rock Stars": "upn,forename,surname,dob,gender,class_name",
    "Mable": "upn,forename,surname,dob,gender,class_name",
}


@pytest.mark.parametrize(("service", "columns"), EXPECTED_EXPORT_COLUMNS.items())
def test_the_export_carries_only_the_fields_the_register_allows(school, service, columns):
    school.ok("consent", "optin", school.upns[0], service, "--by", "J A", "--category", "pupil")
    lines = school.ok("export", "enrolment", service, "--category", "pupil").stdout.splitlines()
    assert lines[0] == columns
    assert len(lines) == 2 and school.upns[0] in lines[1] if "upn" in columns else len(lines) == 2


def test_the_export_holds_only_opted_in_eligible_pupils_on_roll(school):
    school.ok("consent", "optin", "--class", "3B", "My Maths", "--by", "Forms")
    school.ok("consent", "optout", school.upns[1], "My Maths")
    school.ok("consent", "optin", school.upns[2], "My Maths", "--by", "C")
    rows = school.json("export", "enrolment", "My Maths")
    assert [(row["forename"], row["class_name"]) for row in rows] == [("Cara", "1A"), ("Amelia", "3B")]
    assert set(rows[0]) == {"forename", "surname", "class_name"}


def test_the_export_is_refused_for_a_service_that_is_not_approved(school):
    result = school.fails("export", "enrolment", "SIMS")
    assert "not a service for pupils or parents" in result.stderr
    _pupil_service(school, "Spell Zone")
    result = school.fails("export", "enrolment", "Spell Zone")
    assert "not approved" in result.stderr


def test_the_export_file_is_private_and_guarded_against_formulas(hunwick_cli, tmp_path):
    (upn,) = add_pupils(
        hunwick_cli.url, [{"year_group": "3", "class_name": "3B", "forename": "=HYPERLINK(1)"}]
    )
    hunwick_cli.ok("consent", "optin", upn, "My Maths", "--by", "J A")
    out = tmp_path / "mymaths.csv"
    hunwick_cli.ok("export", "enrolment", "My Maths", "--out", str(out))
    assert (out.stat().st_mode & 0o777) == 0o600
    assert out.read_text().splitlines()[1].startswith("'=HYPERLINK(1)")


def test_consent_report_matrix_and_totals(school):
    school.ok("consent", "optin", school.upns[0], "Accelerated Reader", "--by", "J A")
    school.ok("consent", "optout", school.upns[1], "Accelerated Reader")
    rows = school.json("report", "consent")
    by_upn = {row["upn"]: row["consent"] for row in rows}
    assert school.upns[4] not in by_upn  # left the roll
    assert by_upn[school.upns[0]]["Accelerated Reader"] == "opted-in"
    assert by_upn[school.upns[1]]["Accelerated Reader"] == "opted-out"
    assert by_upn[school.upns[2]]["Accelerated Reader"] == "not-eligible"
    assert by_upn[school.upns[0]]["My Maths"] == "no-response"
    totals = {row["service"]: row for row in school.json("report", "consent", "--summary")}
    assert totals["Accelerated Reader"]["opted_in"] == 1
    assert totals["Accelerated Reader"]["opted_out"] == 1
    assert totals["Accelerated Reader"]["not_eligible"] == 2
    table = school.ok("report", "consent").stdout
    assert "Totals per service" in table


def test_consent_report_for_one_class_and_service(school):
    rows = school.json("report", "consent", "--class", "3b", "--service", "My Maths")
    assert sorted(row["upn"] for row in rows) == sorted(school.upns[:2])
    assert all(list(row["consent"]) == ["My Maths"] for row in rows)


def test_offline_alternatives_lists_eligible_pupils_without_consent(school):
    school.ok("consent", "optin", school.upns[0], "Accelerated Reader", "--by", "J A")
    rows = school.json("report", "offline-alternatives", "--class", "3B")
    reader = [row["upn"] for row in rows if row["service"] == "Accelerated Reader"]
    assert reader == [school.upns[1]]
    assert not any(row["service"] == "Lexia Core 5" for row in rows)  # selected pupils only


def test_consent_forms_one_page_per_pupil_with_exactly_the_eligible_services(school, tmp_path):
    from html.parser import HTMLParser

    school.ok("consent", "optin", school.upns[1], "Mable", "--by", "Mr Bolam")
    out = tmp_path / "forms.html"
    school.ok("consent", "form", "--class", "3B", "--out", str(out))
    html = out.read_text()
    assert (out.stat().st_mode & 0o777) == 0o600

    class Pages(HTMLParser):
        def __init__(self):
            super().__init__()
            self.pages: list[list[str]] = []
            self.in_cell = 0
            self.column = 0

        def handle_starttag(self, tag, attrs):
            if tag == "section" and ("class", "page") in attrs:
                self.pages.append([])
            if tag == "tr":
                self.column = 0
            if tag == "td":
                self.column += 1
                self.in_cell = self.column == 1

        def handle_endtag(self, tag):
            if tag == "td":
                self.in_cell = False

        def handle_data(self, data):
            if self.in_cell and data.strip():
                self.pages[-1].append(data.strip())

    parser = Pages()
    parser.feed(html)
    parser.close()
    assert html.startswith("<!DOCTYPE html>") and "page-break-before" in html
    assert len(parser.pages) == 2
    year_three = ["Accelerated Reader", "ClassDojo", "Google G Suite for Education", "My Maths",
                  "Times Tables Rock Stars"]  # fmt: skip
    assert parser.pages[0] == year_three
    assert parser.pages[1] == [*year_three, "Mable"]  # selected for Mable
    assert "opt out of any service at any time by contacting the school office" in html
    assert "offline alternative" in html
    assert "Hunwick Primary School" in html


def test_consent_forms_need_a_class_or_pupil(school, tmp_path):
    school.fails("consent", "form", "--out", str(tmp_path / "f.html"))


def test_pupil_show_is_the_subject_access_view(school):
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "My Maths", "--by", "J A")
    school.ok("consent", "optin", upn, "ClassDojo", "--by", "J A")
    school.ok("consent", "optout", upn, "ClassDojo")
    record = school.json("pupil", "show", upn)
    holding = {row["service"]: row for row in record["services_holding_data"]}
    # Management services in use hold the data whatever consent says; pupil services only while opted in.
    assert {"SIMS", "SchoolComms", "Durham County Council", "My Maths"} <= set(holding)
    assert holding["SIMS"]["basis"] == "needed to run the school"
    assert holding["My Maths"]["basis"] == "parent's consent"
    assert holding["My Maths"]["data_shared"] == ["full name", "class"]
    assert "ClassDojo" not in holding  # opted out
    assert "Accelerated Reader" not in holding  # no response
    assert "Swimphony" not in holding  # awaiting assessment: not in use
    assert "2 Build a Profile" not in holding  # EYFS only; this pupil is in Year 3
    assert "Kindle" not in holding  # other online services hold no pupil data by design
    assert [(row["service"], row["decision"]) for row in record["consent_history"]] == [
        ("My Maths", "opt-in"),
        ("ClassDojo", "opt-in"),
        ("ClassDojo", "opt-out"),
    ]
    table = school.ok("pupil", "show", upn).stdout
    assert "Services that hold this pupil's data now" in table and "Consent history" in table


def test_a_pupil_who_left_is_listed_where_records_are_kept(school):
    holding = {
        row["service"]: row["basis"]
        for row in school.json("pupil", "show", school.upns[4])["services_holding_data"]
    }
    assert "held while on roll" in holding["SIMS"]
    assert "My Maths" not in holding  # never opted in


def test_consent_that_no_longer_covers_the_data_is_still_listed_in_the_subject_access_view(school):
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "My Maths", "--by", "J A")
    school.ok("service", "edit", "My Maths", "--data", "full name, class, DOB")
    holding = {
        row["service"]: row["basis"] for row in school.json("pupil", "show", upn)["services_holding_data"]
    }
    assert "needs renewal" in holding["My Maths"]
    school.ok("service", "retire", "My Maths")
    holding = {
        row["service"]: row["basis"] for row in school.json("pupil", "show", upn)["services_holding_data"]
    }
    assert "ask the provider to delete" in holding["My Maths"]


def test_the_demo_records_consent_and_prints_the_consent_report(tmp_path, monkeypatch):
    from tests.helpers.cli import Cli

    for name in ("CLOUDCTL_DATABASE_URL", "CLOUDCTL_DB"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "demo.db"
    cli = Cli(f"sqlite:///{path}")
    result = cli.ok("demo", "--db", str(path))
    assert "consent decisions for class Kestrels" in result.stderr
    assert "Consent by pupil and service" in result.stdout
    rows = cli.json("--db", str(path), "report", "consent", "--class", "Kestrels")
    statuses = [status for row in rows for status in row["consent"].values()]
    assert statuses.count("opted-out") == 1
    assert statuses.count("opted-in") > 10
    assert "no-response" in statuses


def test_a_backdated_form_is_held_to_what_the_service_shared_on_its_date(school):
    """A form signed before the data grew was about the old data: it needs renewal, and the pupil
    stays out of the export (the provider would otherwise get a date of birth nobody agreed to)."""
    upn = school.upns[0]
    school.ok("service", "edit", "My Maths", "--data", "full name, class, DOB")
    old_version = school.json("consent", "history", upn)  # nothing yet
    assert old_version == []
    import datetime

    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    school.ok("consent", "optin", upn, "My Maths", "--by", "J A", "--date", yesterday)
    (event,) = school.json("consent", "history", upn)
    assert "date of birth" not in event["told_data"]
    assert status_of(school, upn, "My Maths") == "needs-renewal"
    assert school.ok("export", "enrolment", "My Maths").stdout.splitlines()[1:] == []
    # A form dated today was about the service as it is now.
    school.ok("consent", "optin", upn, "My Maths", "--by", "J A")
    assert status_of(school, upn, "My Maths") == "opted-in"


def test_forms_signed_before_the_school_used_cloudctl_get_the_earliest_version(school):
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "My Maths", "--by", "J A", "--date", "2025-09-01")
    assert status_of(school, upn, "My Maths") == "opted-in"


def test_opting_in_again_mends_consent_the_rules_no_longer_count(school):
    """Opted in when the service was for all years; it became selected-pupils-only, so the old
    opt-in selected nobody. A new opt-in must be recorded, not waved away as 'already opted in'."""
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "ClassDojo", "--by", "J A")
    school.ok("service", "edit", "ClassDojo", "--years", "Selected Students")
    assert status_of(school, upn, "ClassDojo") == "not-eligible"
    result = school.ok("consent", "optin", upn, "ClassDojo", "--by", "J A")
    assert "already" not in result.stderr
    assert status_of(school, upn, "ClassDojo") == "opted-in"


def test_a_name_in_two_sections_means_the_pupil_service_for_consent(school):
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "Google G Suite for Education", "--by", "J A")
    school.ok("consent", "optout", upn, "Google G Suite for Education")
    history = school.json("consent", "history", upn, "--service", "Google G Suite for Education")
    assert [row["decision"] for row in history] == ["opt-in", "opt-out"]
    history = school.json(
        "consent", "history", upn, "--service", "Google G Suite for Education", "--category", "pupil"
    )
    assert len(history) == 2
    result = school.fails(
        "consent", "optout", upn, "Google G Suite for Education", "--category", "management"
    )
    assert "no opt-out" in result.stderr


def test_a_class_cannot_be_opted_in_to_a_selected_pupils_service(school):
    outcomes = school.json("consent", "optin", "--class", "3B", "Mable", "--by", "Forms")
    assert {outcome["action"] for outcome in outcomes} == {"skipped"}
    assert "selected pupils only" in outcomes[0]["detail"]
    assert events(school) == []


def test_the_consent_report_explains_a_service_that_takes_no_consent(school):
    result = school.fails("report", "consent", "--service", "SIMS")
    assert "not a service for pupils or parents" in result.stderr


def test_an_export_drops_a_pupil_who_left_or_moved_out_of_the_services_years(school):
    school.ok("consent", "optin", school.upns[0], "Accelerated Reader", "--by", "J A")
    school.ok("consent", "optin", school.upns[1], "Accelerated Reader", "--by", "T B")
    assert len(school.json("export", "enrolment", "Accelerated Reader")) == 2
    engine = create_engine(school.url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE pupil SET on_roll = :no WHERE upn = :upn"), {"no": False, "upn": school.upns[0]}
            )
            connection.execute(
                text("UPDATE pupil SET year_group = '1' WHERE upn = :upn"), {"upn": school.upns[1]}
            )
    finally:
        engine.dispose()
    assert school.json("export", "enrolment", "Accelerated Reader") == []


def test_no_form_for_a_pupil_who_has_left(school, tmp_path):
    result = school.fails("consent", "form", "--upn", school.upns[4], "--out", str(tmp_path / "f.html"))
    assert "no longer on roll" in result.stderr


def test_an_export_over_an_existing_file_needs_force_and_replaces_it_with_a_private_file(school, tmp_path):
    out = tmp_path / "old.csv"
    out.write_text("old")
    out.chmod(0o644)
    assert "--force" in school.fails("export", "enrolment", "My Maths", "--out", str(out)).stderr
    assert out.read_text() == "old" and (out.stat().st_mode & 0o777) == 0o644
    school.ok("export", "enrolment", "My Maths", "--out", str(out), "--force")
    assert (out.stat().st_mode & 0o777) == 0o600
    assert out.read_text().startswith("forename,surname,class_name")


def test_a_date_before_the_pupil_was_born_is_refused(school):
    result = school.fails(
        "consent", "optin", school.upns[0], "My Maths", "--by", "J A", "--date", "2010-01-01"
    )
    assert "before pupil" in result.stderr
