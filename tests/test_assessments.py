"""`cloudctl assess ...`: risk assessments (DPIAs), their history, and when reviews fall due."""

from __future__ import annotations

import pytest


@pytest.fixture
def school(cli):
    cli.ok("init", "--school", "Hunwick Primary School", "--review-months", "12")
    cli.ok("provider", "add", "Oxford University Press")
    cli.ok("service", "add", "My Maths", "-c", "pupil", "-p", "Oxford University Press", "--years", "All")
    return cli


def record(cli, *options: str, service: str = "My Maths"):
    return cli.ok("assess", "record", service, *options)


def shown(cli, service: str = "My Maths", *options: str) -> dict:
    return cli.json("service", "show", service, *options)


@pytest.mark.parametrize(
    "written", ["2025-11-01", "01/11/2025", "1/11/25", "November 2025", "Nov 2025", "1 Nov 2025"]
)
def test_dates_are_read_as_schools_write_them(school, written):
    record(school, "--date", written, "--by", "J Bloggs", "--outcome", "approved")
    assert shown(school)["last_assessed"] == "2025-11-01"


def test_day_first_dates_are_never_read_month_first(school):
    record(school, "--date", "03/04/2025", "--by", "J Bloggs", "--outcome", "approved")
    assert shown(school)["last_assessed"] == "2025-04-03"


def test_an_approval_makes_an_awaiting_service_approved(school):
    assert shown(school)["status"] == "awaiting-assessment"
    result = record(school, "--date", "2025-05-01", "--by", "J Bloggs", "--outcome", "approved")
    assert "Next review due 2026-05-01" in result.stderr
    service = shown(school)
    assert (service["status"], service["last_outcome"], service["review_due"]) == (
        "approved",
        "approved",
        "2026-05-01",
    )


def test_approved_with_conditions_approves(school):
    record(school, "--date", "2025-05-01", "--by", "J Bloggs", "--outcome", "approved-with-conditions")
    assert shown(school)["status"] == "approved"


def test_a_rejection_makes_the_service_not_approved(school):
    record(school, "--date", "2025-05-01", "--by", "J Bloggs", "--outcome", "approved")
    record(school, "--date", "2025-09-01", "--by", "J Bloggs", "--outcome", "rejected")
    assert shown(school)["status"] == "not-approved"


def test_the_latest_assessment_sets_the_status_even_when_an_older_one_is_recorded_later(school):
    record(school, "--date", "2025-06-01", "--by", "J Bloggs", "--outcome", "approved")
    # Last year's paper DPIA, entered afterwards for the record.
    record(school, "--date", "2024-06-01", "--by", "A Smith", "--outcome", "rejected")
    service = shown(school)
    assert service["status"] == "approved"
    assert (service["last_assessed"], service["last_outcome"]) == ("2025-06-01", "approved")


def test_the_review_falls_due_after_the_schools_interval(school):
    school.ok("init", "--review-months", "24")
    record(school, "--date", "2025-01-31", "--by", "J Bloggs", "--outcome", "approved")
    assert shown(school)["review_due"] == "2027-01-31"


def test_a_month_later_than_the_last_day_is_the_last_day_of_the_month(school):
    school.ok("init", "--review-months", "1")
    record(school, "--date", "2025-01-31", "--by", "J Bloggs", "--outcome", "approved")
    assert shown(school)["review_due"] == "2025-02-28"


def test_the_services_own_interval_beats_the_schools(school):
    school.ok("service", "edit", "My Maths", "--review-months", "6")
    record(school, "--date", "2025-03-01", "--by", "J Bloggs", "--outcome", "approved")
    service = shown(school)
    assert (service["review_months"], service["review_due"]) == (6, "2025-09-01")


def test_next_review_given_beats_every_interval(school):
    school.ok("service", "edit", "My Maths", "--review-months", "6")
    result = record(
        school,
        "--date",
        "2025-03-01",
        "--by",
        "J Bloggs",
        "--outcome",
        "approved",
        "--next-review",
        "Jan 2026",
    )
    assert "Next review due 2026-01-01" in result.stderr
    assert shown(school)["review_due"] == "2026-01-01"


def test_changing_the_interval_later_moves_a_derived_review_but_not_a_chosen_one(school):
    school.ok("provider", "add", "Renaissance Learning")
    school.ok("service", "add", "Accelerated Reader", "-c", "pupil", "-p", "Renaissance Learning")
    record(school, "--date", "2025-03-01", "--by", "J Bloggs", "--outcome", "approved")
    record(
        school, "--date", "2025-03-01", "--by", "J Bloggs", "--outcome", "approved",
        "--next-review", "2025-12-01", service="Accelerated Reader",
    )  # fmt: skip
    school.ok("init", "--review-months", "36")
    assert shown(school)["review_due"] == "2028-03-01"
    assert shown(school, "Accelerated Reader")["review_due"] == "2025-12-01"


def test_history_lists_every_assessment_oldest_first_and_never_overwrites(school):
    record(
        school, "--date", "2023-05-01", "--by", "J Bloggs", "--outcome", "approved",
        "--reference", "DPIA-2023-07", "--notes", "First look",
    )  # fmt: skip
    record(school, "--date", "2024-05-01", "--by", "A Smith", "--outcome", "approved-with-conditions")
    record(
        school,
        "--date",
        "2025-05-01",
        "--by",
        "A Smith",
        "--outcome",
        "approved",
        "--next-review",
        "2025-11-01",
    )

    history = school.json("assess", "history", "My Maths")
    assert [
        (row["assessed_on"], row["assessed_by"], row["outcome"], row["next_review"], row["next_review_set"])
        for row in history
    ] == [
        ("2023-05-01", "J Bloggs", "approved", "2024-05-01", False),
        ("2024-05-01", "A Smith", "approved-with-conditions", "2025-05-01", False),
        ("2025-05-01", "A Smith", "approved", "2025-11-01", True),
    ]
    assert (history[0]["reference"], history[0]["notes"]) == ("DPIA-2023-07", "First look")
    assert set(history[0]) == {
        "service", "category", "step", "assessed_on", "assessed_by", "outcome", "residual_risk", "conditions",
        "conditions_due", "conditions_met", "signed_off", "next_review", "next_review_set", "changed_since",
        "reference", "notes", "recorded_at",
    }  # fmt: skip

    table = school.ok("assess", "history", "My Maths").stdout
    assert "Assessments of My Maths (pupil)" in table
    assert "DPIA-2023-07" in table


def test_two_assessments_on_one_day_are_both_kept(school):
    record(school, "--date", "2025-05-01", "--by", "J Bloggs", "--outcome", "rejected")
    record(
        school,
        "--date",
        "2025-05-01",
        "--by",
        "J Bloggs",
        "--outcome",
        "approved",
        "--notes",
        "After changes",
    )
    assert [row["outcome"] for row in school.json("assess", "history", "My Maths")] == [
        "rejected",
        "approved",
    ]
    assert shown(school)["status"] == "approved"


def test_history_of_a_service_never_assessed(school):
    result = school.ok("assess", "history", "My Maths")
    assert result.stdout == ""
    assert "never been assessed" in result.stderr
    assert school.json("assess", "history", "My Maths") == []


def test_an_ambiguous_service_needs_its_category(school):
    school.ok("provider", "add", "Google")
    for category in ("pupil", "management"):
        school.ok("service", "add", "Google G Suite for Education", "-c", category, "-p", "Google")
    result = school.fails(
        "assess",
        "record",
        "Google G Suite for Education",
        "--date",
        "2025-01-01",
        "--by",
        "J",
        "--outcome",
        "approved",
    )
    assert "--category pupil" in result.stderr and "--category management" in result.stderr
    school.fails("assess", "history", "Google G Suite for Education")

    record(
        school, "--date", "2025-01-01", "--by", "J", "--outcome", "approved", "--category", "management",
        service="Google G Suite for Education",
    )  # fmt: skip
    assert shown(school, "Google G Suite for Education", "-c", "management")["status"] == "approved"
    assert shown(school, "Google G Suite for Education", "-c", "pupil")["status"] == "awaiting-assessment"


@pytest.mark.parametrize("bad", ["31/02/2026", "2026-13-01", "Smarch 2026", "2026", "next week"])
def test_an_impossible_date_is_refused_naming_it(school, bad):
    result = school.fails(
        "assess", "record", "My Maths", "--date", bad, "--by", "J Bloggs", "--outcome", "approved"
    )
    assert f'"{bad}"' in result.stderr
    assert "01/11/2026" in result.stderr  # and what is accepted


def test_an_impossible_next_review_is_refused(school):
    result = school.fails(
        "assess", "record", "My Maths", "--date", "2025-01-01", "--by", "J", "--outcome", "approved",
        "--next-review", "30/02/2026",
    )  # fmt: skip
    assert '"30/02/2026"' in result.stderr
    assert "next review date" in result.stderr


def test_a_next_review_before_the_assessment_is_refused(school):
    result = school.fails(
        "assess", "record", "My Maths", "--date", "2025-06-01", "--by", "J", "--outcome", "approved",
        "--next-review", "2025-06-01",
    )  # fmt: skip
    assert "must come after" in result.stderr


def test_an_assessment_in_the_future_is_refused(school):
    result = school.fails(
        "assess", "record", "My Maths", "--date", "2999-01-01", "--by", "J", "--outcome", "approved"
    )
    assert "2999-01-01" in result.stderr and "future" in result.stderr


def test_an_unknown_outcome_is_refused_naming_what_is_accepted(school):
    result = school.fails(
        "assess", "record", "My Maths", "--date", "2025-01-01", "--by", "J", "--outcome", "passed"
    )
    assert '"passed"' in result.stderr
    assert "approved, approved-with-conditions, rejected" in result.stderr


def test_the_assessor_must_be_named(school):
    result = school.fails(
        "assess", "record", "My Maths", "--date", "2025-01-01", "--by", "  ", "--outcome", "approved"
    )
    assert "--by" in result.stderr


def test_a_retired_service_is_not_assessed(school):
    school.ok("service", "retire", "My Maths")
    result = school.fails(
        "assess", "record", "My Maths", "--date", "2025-01-01", "--by", "J", "--outcome", "approved"
    )
    assert "retired" in result.stderr
    assert 'assess history "My Maths"' in result.stderr


def test_an_unknown_service_gets_the_closest_names_suggested(school):
    result = school.fails(
        "assess", "record", "My Math", "--date", "2025-01-01", "--by", "J", "--outcome", "approved"
    )
    assert "'My Maths'" in result.stderr
    result = school.fails("assess", "history", "Mymaths")
    assert "'My Maths'" in result.stderr


def test_without_init_reviews_fall_due_after_twelve_months(cli):
    cli.ok("service", "add", "My Maths", "-c", "pupil", "-p", "Oxford University Press", "--create-provider")
    result = record(cli, "--date", "2025-03-01", "--by", "J Bloggs", "--outcome", "approved")
    assert "Next review due 2026-03-01" in result.stderr
    assert shown(cli)["review_due"] == "2026-03-01"
    assert cli.json("assess", "history", "My Maths")[0]["next_review"] == "2026-03-01"
    (row,) = cli.json("report", "overdue-assessments", "--as-of", "2026-03-10")
    assert (row["review_due"], row["days_overdue"]) == ("2026-03-01", 9)


# --- issue 8: identical assessments, messages that say what was recorded, the text and date gates ----------


def _assessments(cli) -> int:
    return len(cli.json("assess", "history", "My Maths"))


def test_an_identical_assessment_records_nothing_and_says_so(school):
    first = record(school, "--date", "2025-05-01", "--by", "J Bloggs", "--outcome", "approved")
    assert "Recorded an approved assessment of 'My Maths' (pupil) on 2025-05-01 by J Bloggs" in first.stderr
    again = record(school, "--date", "01/05/2025", "--by", " J  Bloggs ", "--outcome", "Approved")
    assert (
        "Nothing recorded: an approved assessment of 'My Maths' (pupil) on 2025-05-01 by J Bloggs is already "
        "recorded." in again.stderr
    )
    assert _assessments(school) == 1
    # Not identical: what more is given (notes here) is a second assessment that day, never dropped.
    with_notes = record(
        school, "--date", "2025-05-01", "--by", "J Bloggs", "--outcome", "approved", "--notes", "More"
    )
    assert "Recorded an approved assessment" in with_notes.stderr
    assert _assessments(school) == 2
    # Another assessor, date or outcome is another assessment.
    record(school, "--date", "2025-05-01", "--by", "A Smith", "--outcome", "approved")
    assert _assessments(school) == 3


def test_a_rejection_says_what_was_recorded_and_what_the_service_now_is(school):
    result = record(school, "--date", "2025-05-01", "--by", "J Bloggs", "--outcome", "rejected")
    assert (
        "Recorded a rejected assessment of 'My Maths' (pupil) on 2025-05-01 by J Bloggs; the service is now "
        "not approved." in result.stderr
    )
    result = record(
        school, "--date", "2025-06-01", "--by", "J Bloggs", "--outcome", "approved-with-conditions"
    )
    assert "Recorded an approved-with-conditions assessment" in result.stderr
    assert "the service is now approved." in result.stderr
    result = record(school, "--date", "2025-07-01", "--by", "J Bloggs", "--outcome", "approved")
    assert "the service stays approved." in result.stderr


def test_an_older_assessment_recorded_late_says_the_later_one_still_decides(school):
    record(school, "--date", "2025-06-01", "--by", "J Bloggs", "--outcome", "approved")
    result = record(school, "--date", "2024-06-01", "--by", "A Smith", "--outcome", "rejected")
    assert (
        "Recorded a rejected assessment of 'My Maths' (pupil) on 2024-06-01 by A Smith; the later assessment "
        "of 2025-06-01 (approved) still decides, so the service stays approved." in result.stderr
    )


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--by", "J\x00Bloggs", "NUL character"),
        ("--by", "J \x1b[31mBloggs", "escape character"),
        ("--by", "J" * 100_000, "100,000 characters long"),
        ("--notes", "fine\x1b]0;title\x07", "escape character"),
        ("--notes", "n" * 10_001, "10,001 characters long"),
        ("--reference", "DPIA\n26", "line break"),
        ("--reference", "R" * 501, "501 characters long"),
    ],
)
def test_assessment_text_goes_through_the_gate(school, option, value, message):
    args = {"--by": "J Bloggs", option: value}
    result = school.fails(
        "assess", "record", "My Maths", "--date", "2025-05-01", "--outcome", "approved",
        *[part for pair in args.items() for part in pair],
    )  # fmt: skip
    assert message in result.stderr and option in result.stderr
    assert "\x1b" not in result.stderr and "\x00" not in result.stderr


def test_notes_may_have_several_lines(school):
    record(school, "--date", "2025-05-01", "--by", "J", "--outcome", "approved", "--notes", "One\nTwo")
    assert school.json("assess", "history", "My Maths")[0]["notes"] == "One\nTwo"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--date", "0001-01-01"], "before 2000"),
        (["--date", "01/11/0026"], "before 2000"),
        (["--date", "2025-01-01", "--next-review", "9999-12-31"], "at most 10 years ahead"),
        (["--date", "2025-01-01", "--next-review", "0001-01-01"], "out of range"),
    ],
)
def test_assessment_dates_are_bounded(school, options, message):
    result = school.fails("assess", "record", "My Maths", *options, "--by", "J", "--outcome", "approved")
    assert message in result.stderr


def test_a_higher_residual_risk_found_the_same_day_is_recorded_and_needs_its_sign_off(school):
    """The same assessor, date and outcome with a high residual risk is not a repeat: dropping it would leave
    the service approved without the sign-off a high risk needs."""
    again = ("--date", "2025-05-01", "--by", "J Bloggs", "--outcome", "approved")
    record(school, *again, "--residual-risk", "low")
    assert shown(school)["status"] == "approved"
    high = record(school, *again, "--residual-risk", "high")
    assert "pending sign-off" in high.stderr
    assert _assessments(school) == 2
    assert shown(school)["status"] != "approved"
    # The identical call again records nothing.
    assert "Nothing recorded" in record(school, *again, "--residual-risk", "high").stderr
    assert _assessments(school) == 2
