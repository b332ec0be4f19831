"""Issue 12, item 1: a change to a service that widens what it does makes its latest assessment outdated.

`report overdue-assessments` lists it as changed-since-assessed, with the change and its date and the
review due that day; a narrowing change does not; a new assessment after the change clears it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudctl.domain.service_changes import ServiceFacts, differences


def _today() -> str:
    return date.today().isoformat()


# Recent enough that no review is due: only a change can make it outdated.
def _assessed() -> str:
    return (date.today() - timedelta(days=60)).isoformat()


def _later() -> str:
    return (date.today() - timedelta(days=30)).isoformat()


@pytest.fixture
def school(cli):
    cli.ok("init", "--school", "Hunwick Primary School", "--review-months", "12")
    cli.ok("provider", "add", "Oxford University Press")
    cli.ok("provider", "add", "Renaissance Learning")
    cli.ok(
        "service", "add", "My Maths", "-c", "pupil", "-p", "Oxford University Press", "--years", "Y2 - Y6",
        "--data", "Full name, class", "--storage", "UK", "--lawful-basis", "public task",
    )  # fmt: skip
    cli.ok("assess", "record", "My Maths", "--date", _assessed(), "--by", "J Bloggs", "--outcome", "approved")
    return cli


def report(cli) -> list[dict]:
    return cli.json("report", "overdue-assessments", "--within", "0")


def edit(cli, *options: str):
    return cli.ok("service", "edit", "My Maths", *options)


def test_an_assessed_service_is_not_outdated_until_it_changes(school):
    assert report(school) == []


@pytest.mark.parametrize(
    ("options", "field", "detail"),
    [
        (("--data", "Full name, class, date of birth"), "data shared", "added date of birth"),
        (("--years", "All"), "year groups", "Y2 - Y6 -> All"),
        (
            ("--provider", "Renaissance Learning"),
            "provider",
            "Oxford University Press -> Renaissance Learning",
        ),
        (("--storage", "elsewhere"), "storage location", "UK -> elsewhere"),
        (("--lawful-basis", "consent"), "lawful basis", "public task -> consent"),
    ],
    ids=["data added", "years widened", "provider", "storage left the UK", "lawful basis"],
)
def test_a_widening_change_makes_the_assessment_outdated(school, options, field, detail):
    edit(school, *options)
    (row,) = report(school)
    assert (row["service"], row["state"], row["review_due"], row["changed_on"]) == (
        "My Maths",
        "changed-since-assessed",
        _today(),
        _today(),
    )
    assert row["days_overdue"] == 0
    assert row["detail"].startswith(field) and detail in row["detail"]
    assert row["last_assessed"] == _assessed()
    # --fail-if-any counts it.
    failed = school.run("report", "overdue-assessments", "--within", "0", "--fail-if-any")
    assert failed.exit_code == 1 and "1 service(s)" in failed.stderr


@pytest.mark.parametrize(
    "options",
    [
        ("--data", "Full name"),
        ("--years", "Y3 - Y6"),
        ("--storage", ""),
        ("--purpose", "Homework"),
        ("--retention", "One year after leaving"),
        ("--website", "https://www.mymaths.co.uk"),
    ],
    ids=["data removed", "years narrowed", "storage cleared", "purpose", "retention", "website"],
)
def test_a_narrowing_or_unrelated_change_does_not(school, options):
    edit(school, *options)
    assert report(school) == []


def test_first_recording_a_lawful_basis_or_a_uk_location_does_not(cli):
    cli.ok("init", "--school", "Hunwick Primary School")
    cli.ok(
        "service",
        "add",
        "Times Tables",
        "-c",
        "pupil",
        "-p",
        "TTRS Ltd",
        "--create-provider",
        "--years",
        "All",
    )
    cli.ok(
        "assess",
        "record",
        "Times Tables",
        "--date",
        _assessed(),
        "--by",
        "J Bloggs",
        "--outcome",
        "approved",
    )
    cli.ok("service", "edit", "Times Tables", "--lawful-basis", "public task", "--storage", "UK")
    assert cli.json("report", "overdue-assessments", "--within", "0") == []
    # But recording that the data is stored outside the UK does.
    cli.ok("service", "edit", "Times Tables", "--storage", "EEA")
    (row,) = cli.json("report", "overdue-assessments", "--within", "0")
    assert row["state"] == "changed-since-assessed"


def test_a_new_assessment_after_the_change_clears_it(school):
    edit(school, "--data", "Full name, class, date of birth")
    assert [row["state"] for row in report(school)] == ["changed-since-assessed"]
    school.ok("assess", "record", "My Maths", "--date", _today(), "--by", "A Smith", "--outcome", "approved")
    assert report(school) == []


def test_an_assessment_dated_before_the_change_but_recorded_after_it_does_not_clear_it(school):
    edit(school, "--years", "All")
    school.ok("assess", "record", "My Maths", "--date", _later(), "--by", "A Smith", "--outcome", "approved")
    (row,) = report(school)
    assert (row["state"], row["last_assessed"]) == ("changed-since-assessed", _later())


def test_the_report_as_of_a_day_before_the_change_does_not_show_it(school):
    edit(school, "--years", "All")
    assert school.json("report", "overdue-assessments", "--within", "0", "--as-of", _later()) == []


def test_a_never_assessed_service_stays_never_assessed_when_it_changes(school):
    school.ok("service", "add", "Spelling Shed", "-c", "pupil", "-p", "Renaissance Learning", "--years", "Y2")
    school.ok("service", "edit", "Spelling Shed", "--years", "All")
    states = {row["service"]: row["state"] for row in report(school)}
    assert states == {"Spelling Shed": "never-assessed"}


def test_history_shows_what_changed_since_each_assessment(school):
    edit(school, "--data", "Full name, class, date of birth")
    school.ok("assess", "record", "My Maths", "--date", _today(), "--by", "A Smith", "--outcome", "approved")
    edit(school, "--provider", "Renaissance Learning")
    edit(school, "--data", "Full name")  # a narrowing: kept out of "changed since"
    rows = [row for row in school.json("assess", "history", "My Maths") if row["step"] == "assessment"]
    assert len(rows) == 2
    assert "data shared widened: added date of birth" in rows[0]["changed_since"]
    assert "provider" not in rows[0]["changed_since"]
    assert rows[1]["changed_since"].startswith("provider changed: Oxford University Press -> Renaissance")
    assert "narrowed" not in rows[1]["changed_since"]


def test_register_import_records_the_changes_it_makes(cli, tmp_path):
    from pathlib import Path

    source = Path(__file__).parent / "data" / "hunwick-cloud-service-providers.txt"
    cli.ok("init", "--school", "Hunwick Primary School")
    cli.ok("register", "import", str(source))
    assert not any(
        row["state"] == "changed-since-assessed" for row in cli.json("report", "overdue-assessments")
    )
    text = source.read_text(encoding="utf-8")
    assert "Y1 to Y6" in text
    changed = tmp_path / "register.txt"
    changed.write_text(text.replace("Y1 to Y6", "All", 1), encoding="utf-8")
    cli.ok("register", "import", str(changed))
    rows = [
        row for row in cli.json("report", "overdue-assessments") if row["state"] == "changed-since-assessed"
    ]
    assert len(rows) == 1 and "year groups widened: Y1 to Y6 -> All" in rows[0]["detail"]


def test_a_retired_service_is_not_listed(school):
    edit(school, "--years", "All")
    school.ok("service", "retire", "My Maths")
    assert report(school) == []


# --- the rule itself, as a pure function --------------------------------------------------------------

CATEGORIES = ["full name", "class", "date of birth", "UPN", "medical"]
YEARS = ["R", "1", "2", "3", "4", "5", "6"]
LOCATIONS = [None, "UK", "EEA", "elsewhere"]


@st.composite
def facts(draw):
    scope = draw(st.sampled_from(["none", "selected", "years"]))
    codes = tuple(draw(st.lists(st.sampled_from(YEARS), unique=True))) if scope != "none" else ()
    return ServiceFacts(
        categories=tuple(draw(st.lists(st.sampled_from(CATEGORIES), unique=True))),
        year_scope=scope,
        year_codes=codes,
        year_groups_text=",".join(codes),
        provider_id=draw(st.sampled_from([1, 2])),
        storage_location=draw(st.sampled_from(LOCATIONS)),
        lawful_basis=draw(st.sampled_from([None, "public task", "consent"])),
        category=draw(st.sampled_from(["pupil", "management", "other", "statutory"])),
    )


@given(facts())
def test_nothing_changed_is_no_difference(state):
    assert differences(state, state) == []


@given(facts(), facts())
def test_a_subset_of_the_data_is_never_a_widening_of_it(before, after):
    kept = tuple(category for category in before.categories if category in after.categories)
    narrowed = ServiceFacts(**{**before.__dict__, "categories": kept})
    assert all(d.effect == "narrowing" for d in differences(before, narrowed))


@given(facts(), facts())
def test_adding_a_category_is_always_a_widening(before, after):
    added = [category for category in after.categories if category not in before.categories]
    widened = ServiceFacts(**{**before.__dict__, "categories": before.categories + tuple(added)})
    found = {d.field: d.effect for d in differences(before, widened)}
    assert found == ({"data_shared": "widening"} if added else {})


def test_a_lawful_basis_cleared_then_replaced_is_a_change_made_in_two_steps(school):
    edit(school, "--lawful-basis", "")
    assert report(school) == []  # clearing it alone outdates nothing
    edit(school, "--lawful-basis", "consent")
    (row,) = report(school)
    assert row["state"] == "changed-since-assessed" and "public task -> consent" in row["detail"]


def test_a_lawful_basis_cleared_then_written_again_as_it_was_changes_nothing(school):
    edit(school, "--lawful-basis", "")
    edit(school, "--lawful-basis", "Public task")
    assert report(school) == []


def test_a_change_never_hides_a_review_already_overdue(cli):
    # Assessed three years ago with a 12-month interval: overdue for about two years. A change today must
    # keep the older due date (the earlier of the two), so days overdue keep counting from it.
    cli.ok("init", "--school", "Hunwick Primary School", "--review-months", "12")
    cli.ok("provider", "add", "Renaissance Learning")
    cli.ok(
        "service",
        "add",
        "Accelerated Reader",
        "-c",
        "pupil",
        "-p",
        "Renaissance Learning",
        "--data",
        "full name",
    )
    assessed = date.today().replace(year=date.today().year - 3, day=1)
    cli.ok("assess", "record", "Accelerated Reader", "--date", assessed.isoformat(), "--by", "J Bloggs",
           "--outcome", "approved")  # fmt: skip
    (before,) = report(cli)
    assert before["state"] == "overdue" and before["days_overdue"] > 700
    cli.ok("service", "edit", "Accelerated Reader", "--data", "full name, date of birth")
    (after,) = report(cli)
    assert after["state"] == "changed-since-assessed"
    assert (after["review_due"], after["days_overdue"]) == (before["review_due"], before["days_overdue"])
    assert after["changed_on"] == _today()
    failed = cli.run("report", "overdue-assessments", "--within", "0", "--fail-if-any")
    assert failed.exit_code == 1


def test_recording_an_assessment_older_than_the_change_says_it_is_still_changed_since_assessed(school):
    edit(school, "--years", "All")
    result = school.ok(
        "assess", "record", "My Maths", "--date", _later(), "--by", "A Smith", "--outcome", "approved"
    )
    assert "Next review due" not in result.stderr
    assert f"'My Maths' changed on {_today()} (year groups widened" in result.stderr
    assert f"after the date of its latest assessment ({_later()})" in result.stderr
    assert "still shows as changed-since-assessed until an assessment dated on or after the change" in (
        result.stderr
    )
    # Dated on the day of the change (recorded after it): cleared, and the review date is said again.
    again = school.ok(
        "assess", "record", "My Maths", "--date", _today(), "--by", "A Smith", "--outcome", "approved"
    )
    assert "Next review due" in again.stderr
