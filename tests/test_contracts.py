"""`cloudctl service contract` and `cloudctl report contracts`: data-processing agreements, contract dates."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudctl.domain.contracts import notice_date, shift_months


@pytest.fixture
def school(cli):
    cli.ok("init", "--school", "Hunwick Primary School")
    cli.ok("provider", "add", "Oxford University Press")
    cli.ok("provider", "add", "Capita")
    cli.ok("provider", "add", "Department for Education")
    cli.ok(
        "service", "add", "My Maths", "-c", "pupil", "-p", "Oxford University Press", "--data", "full name"
    )
    cli.ok("service", "add", "SIMS", "-c", "management", "-p", "Capita", "--data", "full name, medical")
    cli.ok("service", "add", "Census", "-c", "statutory", "-p", "Department for Education", "--data", "UPN")
    cli.ok("service", "add", "Sketchpad", "-c", "other", "-p", "Capita", "--data", "None")
    return cli


def report(cli, *options: str, as_of: str = "2026-06-01") -> list[dict]:
    return cli.json("report", "contracts", "--as-of", as_of, *options)


def states(cli, *options: str, as_of: str = "2026-06-01") -> list[tuple[str, str]]:
    return [(row["service"], row["state"]) for row in report(cli, *options, as_of=as_of)]


# --- recording agreements -------------------------------------------------------------------------------


def test_an_agreement_is_recorded_and_listed(school):
    result = school.ok(
        "service", "contract", "My Maths", "--dpa-signed", "02/09/2024", "--dpa-reference", "OUP-1",
        "--dpa-location", "Shared drive/Contracts", "--start", "2024-09-01", "--end", "31 August 2027",
        "--notice-months", "3",
    )  # fmt: skip
    assert "Updated the agreement of 'My Maths' (pupil)" in result.stderr
    (row,) = school.json("service", "contract", "My Maths")
    assert row == {
        "service": "My Maths", "category": "pupil", "agreement": 1, "current": True,
        "dpa_signed_on": "2024-09-02", "dpa_reference": "OUP-1", "dpa_location": "Shared drive/Contracts",
        "starts_on": "2024-09-01", "ends_on": "2027-08-31", "notice_months": 3, "notice_date": "2027-05-31",
    }  # fmt: skip


def test_options_correct_the_current_agreement_and_new_records_a_renewal(school):
    school.ok("service", "contract", "My Maths", "--dpa-signed", "2024-09-02", "--end", "2026-08-31")
    school.ok("service", "contract", "My Maths", "--end", "2026-09-30")
    (row,) = school.json("service", "contract", "My Maths")
    assert row["ends_on"] == "2026-09-30" and row["dpa_signed_on"] == "2024-09-02"
    result = school.ok(
        "service", "contract", "My Maths", "--new", "--dpa-signed", "2026-05-01", "--end", "2029-08-31"
    )
    assert "the earlier one is kept" in result.stderr
    first, second = school.json("service", "contract", "My Maths")
    assert (first["current"], first["ends_on"]) == (False, "2026-09-30")
    assert (second["current"], second["ends_on"], second["dpa_reference"]) == (True, "2029-08-31", None)


def test_the_same_values_again_change_nothing(school):
    school.ok("service", "contract", "My Maths", "--dpa-signed", "2024-09-02")
    before = school.snapshot()
    result = school.ok("service", "contract", "My Maths", "--dpa-signed", "2 September 2024")
    assert "Nothing changed" in result.stderr
    assert school.snapshot() == before


def test_an_empty_value_clears_a_field(school):
    school.ok("service", "contract", "My Maths", "--dpa-signed", "2024-09-02", "--dpa-reference", "R1")
    school.ok("service", "contract", "My Maths", "--dpa-reference", "")
    assert school.json("service", "contract", "My Maths")[0]["dpa_reference"] is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--dpa-signed", "2099-01-01"), "is in the future"),
        (("--dpa-signed", "1999-12-31"), "is before 2000"),
        (("--dpa-signed", "31/02/2024"), "is not a valid agreement's signing date"),
        (("--end", "2060-01-01"), "is out of range"),
        (("--start", "2026-09-01", "--end", "2026-08-31"), "is before its start"),
        (("--notice-months", "121"), "--notice-months 121 is out of range"),
        (("--notice-months", "-1"), "--notice-months -1 is out of range"),
        (("--dpa-reference", "OUP\x07"), "control character"),
        (("--dpa-location", "line one\nline two"), "line"),
    ],
)
def test_refusals_write_nothing(school, options, message):
    result = school.fails("service", "contract", "My Maths", *options)
    assert message in result.stderr


def test_with_no_options_the_agreements_are_listed_and_nothing_written(school):
    before = school.snapshot()
    result = school.ok("service", "contract", "My Maths")
    assert "No agreement is recorded for 'My Maths'" in result.stderr
    assert school.snapshot() == before


def test_an_end_before_the_start_already_recorded_is_refused(school):
    school.ok("service", "contract", "My Maths", "--start", "2026-09-01")
    result = school.fails("service", "contract", "My Maths", "--end", "2026-08-31")
    assert "The contract's end 2026-08-31 is before its start 2026-09-01" in result.stderr


def test_an_unknown_service_is_refused(school):
    result = school.fails("service", "contract", "My Math", "--dpa-signed", "2024-01-01")
    assert "There is no service called 'My Math'" in result.stderr


def test_new_alone_starts_a_blank_renewal_that_later_options_fill_in(school):
    # The docs: "at least one option is given when --new is not"; --new alone starts the renewal.
    school.ok("service", "contract", "My Maths", "--dpa-signed", "2024-01-01", "--end", "2026-08-31")
    result = school.ok("service", "contract", "My Maths", "--new")
    assert "Started a new agreement for 'My Maths' (pupil); the earlier one is kept" in result.stderr
    assert "missing-agreement" in result.stderr and "--dpa-signed DATE" in result.stderr
    first, second = school.json("service", "contract", "My Maths")
    assert (first["current"], first["dpa_signed_on"], first["ends_on"]) == (False, "2024-01-01", "2026-08-31")
    assert second["current"] is True
    assert [second[key] for key in ("dpa_signed_on", "dpa_reference", "ends_on", "notice_months")] == [
        None
    ] * 4
    # Until the renewal is signed the service has no signed current agreement.
    assert ("My Maths", "missing-agreement") in states(school)
    school.ok("service", "contract", "My Maths", "--dpa-signed", "2026-05-01", "--end", "2029-08-31")
    first, second = school.json("service", "contract", "My Maths")
    assert (first["dpa_signed_on"], second["dpa_signed_on"], second["ends_on"]) == (
        "2024-01-01", "2026-05-01", "2029-08-31",
    )  # fmt: skip
    assert ("My Maths", "missing-agreement") not in states(school)


@pytest.mark.parametrize("first", [(), ("--new",)], ids=["no agreement", "a renewal already started"])
def test_new_alone_with_nothing_to_renew_records_nothing(school, first):
    if first:
        school.ok("service", "contract", "My Maths", "--dpa-signed", "2024-01-01")
        school.ok("service", "contract", "My Maths", *first)
    before = school.snapshot()
    result = school.ok("service", "contract", "My Maths", "--new")
    assert "Nothing recorded: 'My Maths' (pupil) has no agreement with anything on it yet" in result.stderr
    assert school.snapshot() == before


def test_new_for_an_unknown_service_is_refused(school):
    result = school.fails("service", "contract", "My Math", "--new")
    assert "There is no service called 'My Math'" in result.stderr


# --- the notice date ------------------------------------------------------------------------------------


def test_the_notice_date_is_the_end_less_the_notice_period():
    assert notice_date(date(2027, 8, 31), 3) == date(2027, 5, 31)
    assert notice_date(date(2027, 5, 31), 3) == date(2027, 2, 28)  # no 31 February: its last day
    assert notice_date(date(2028, 5, 31), 3) == date(2028, 2, 29)
    assert notice_date(date(2027, 8, 31), None) == date(2027, 8, 31)
    assert notice_date(None, 3) is None


@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31)), st.integers(-240, 240))
def test_shifting_months_agrees_with_relativedelta(day, months):
    from dateutil.relativedelta import relativedelta

    assert shift_months(day, months) == day + relativedelta(months=months)


# --- the report -----------------------------------------------------------------------------------------


def test_missing_agreements_are_for_services_that_receive_pupils_data(school):
    # Statutory sharing needs no processor's agreement; a service that receives nothing needs none.
    assert states(school) == [("My Maths", "missing-agreement"), ("SIMS", "missing-agreement")]


def test_an_agreement_without_a_signing_date_is_still_missing(school):
    school.ok("service", "contract", "My Maths", "--end", "2030-01-01")
    assert ("My Maths", "missing-agreement") in states(school)
    school.ok("service", "contract", "My Maths", "--dpa-signed", "2024-01-01")
    assert ("My Maths", "missing-agreement") not in states(school)


def sign_all(cli):
    for name in ("My Maths", "SIMS"):
        cli.ok("service", "contract", name, "--dpa-signed", "2024-01-01")


@pytest.mark.parametrize(
    ("end", "notice", "as_of", "state"),
    [
        ("2026-05-31", "0", "2026-06-01", "contract-ended"),
        ("2026-08-31", "3", "2026-06-01", "notice-passed"),  # notice by 31 May
        ("2026-09-30", "3", "2026-06-01", "notice-due"),  # notice by 30 June: within 90 days
        ("2026-12-31", "3", "2026-06-01", None),  # notice by 30 September: beyond 90 days
        ("2026-08-15", "0", "2026-06-01", "contract-ending"),
        ("2026-06-01", "0", "2026-06-01", "contract-ending"),  # ends today: not yet ended
        ("2026-12-31", "0", "2026-06-01", None),
    ],
)
def test_contracts_ending_or_needing_notice(school, end, notice, as_of, state):
    sign_all(school)
    school.ok("service", "contract", "My Maths", "--end", end, "--notice-months", notice)
    assert states(school, as_of=as_of) == ([("My Maths", state)] if state else [])


def test_within_widens_the_window(school):
    sign_all(school)
    school.ok("service", "contract", "My Maths", "--end", "2026-12-31", "--notice-months", "3")
    assert states(school) == []
    (row,) = report(school, "--within", "150")
    assert (row["state"], row["date"], row["days_left"], row["notice_date"]) == (
        "notice-due", "2026-09-30", 121, "2026-09-30",
    )  # fmt: skip


def test_the_report_is_most_urgent_first(school):
    school.ok("service", "contract", "SIMS", "--dpa-signed", "2024-01-01", "--end", "2026-07-01")
    school.ok("service", "contract", "My Maths", "--end", "2026-05-01")
    assert states(school) == [
        ("My Maths", "missing-agreement"),
        ("My Maths", "contract-ended"),
        ("SIMS", "contract-ending"),
    ]


def test_retired_services_are_left_out(school):
    school.ok("service", "retire", "My Maths")
    assert states(school) == [("SIMS", "missing-agreement")]


def test_fail_if_any_exits_1_when_anything_is_listed(school):
    result = school.run("report", "contracts", "--as-of", "2026-06-01", "--fail-if-any")
    assert result.exit_code == 1
    assert "2 agreement(s) or contract(s) need attention." in result.stderr
    sign_all(school)
    school.ok("report", "contracts", "--as-of", "2026-06-01", "--fail-if-any")


@pytest.mark.parametrize(
    ("options", "message"),
    [(("--within", "3661"), "--within 3661 is out of range"), (("--as-of", "9999-12-31"), "out of range")],
)
def test_report_refusals(school, options, message):
    result = school.fails("report", "contracts", *options)
    assert message in result.stderr


def test_csv_has_every_column_and_guards_formulas(school):
    school.ok("service", "edit", "My Maths", "--name", "=HYPERLINK(1)")
    text = school.ok("report", "contracts", "--as-of", "2026-06-01", "--format", "csv").stdout
    header, first, *_ = text.splitlines()
    assert header.startswith("service,category,provider,state,date,days_left")
    assert first.startswith("'=HYPERLINK(1),pupil")


# --- an agreement is with a provider: a move to another leaves the service without one -------------------


def ropa_agreement(cli) -> str | None:
    rows = cli.json("report", "ropa", "--as-of", "2026-06-01")
    return next(row["agreement"] for row in rows if row["service"] == "My Maths")


def test_after_a_move_to_another_provider_the_old_agreement_no_longer_counts(school):
    school.ok("service", "contract", "My Maths", "--dpa-signed", "2024-09-02", "--dpa-reference", "OUP-1")
    assert ("My Maths", "missing-agreement") not in states(school)
    assert ropa_agreement(school) == "signed 2024-09-02; ref OUP-1"
    school.ok("provider", "add", "Newco")
    school.ok("service", "edit", "My Maths", "--provider", "Newco")

    (row,) = [row for row in report(school) if row["service"] == "My Maths"]
    assert (row["state"], row["provider"], row["dpa_signed_on"]) == ("missing-agreement", "Newco", None)
    assert "The agreement on record is with Oxford University Press" in row["action"]
    assert ropa_agreement(school) is None
    gaps = school.json("report", "ropa", "--as-of", "2026-06-01", "--gaps")
    assert "no-agreement" in next(gap for gap in gaps if gap["service"] == "My Maths")["gap_keys"]

    # Recorded after the move, an agreement counts again; the old provider's stays on record.
    result = school.ok(
        "service", "contract", "My Maths", "--dpa-signed", "2026-05-01", "--dpa-reference", "N1"
    )
    assert "the earlier agreement, with Oxford University Press, is kept" in result.stderr
    first, second = school.json("service", "contract", "My Maths")
    assert (first["dpa_reference"], first["current"], second["dpa_reference"]) == ("OUP-1", False, "N1")
    assert ("My Maths", "missing-agreement") not in states(school)
    assert ropa_agreement(school) == "signed 2026-05-01; ref N1"
    # ...and a later correction corrects it in place.
    school.ok("service", "contract", "My Maths", "--dpa-reference", "N2")
    assert len(school.json("service", "contract", "My Maths")) == 2


def test_a_provider_recorded_where_there_was_none_keeps_the_agreement(cli, tmp_path):
    # A register without providers (issue 9): the agreement was with the provider recorded afterwards.
    register = tmp_path / "register.txt"
    register.write_text(
        "Apps we use in class\n\nMy Maths\nPurpose of data: Maths\nInformation shared: child name\n"
        "Year groups: Y2 - Y6\n\nTimes Tables Rock Stars\nPurpose of data: Times tables\n"
        "Information shared: child name, class\nYear groups: Y2 - Y6\n",
        encoding="utf-8",
    )
    cli.ok("init", "--school", "Hunwick Primary School")
    cli.ok("register", "import", str(register), "--category", "pupil")
    cli.ok("provider", "add", "Oxford University Press")
    cli.ok("service", "contract", "My Maths", "--dpa-signed", "2024-09-02")
    cli.ok("service", "edit", "My Maths", "--provider", "Oxford University Press")
    assert ("My Maths", "missing-agreement") not in states(cli)
    assert ropa_agreement(cli) == "signed 2024-09-02"
