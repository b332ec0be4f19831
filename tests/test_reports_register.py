"""The register's reports: overdue risk assessments, and the data map."""

from __future__ import annotations

import pytest


@pytest.fixture
def school(cli):
    """Services whose reviews fall at known dates (12-month reviews)."""
    cli.ok("init", "--school", "Hunwick Primary School", "--review-months", "12")
    cli.ok("provider", "add", "Acme")
    assessed = {
        "Overdue a year": "2024-01-01",  # due 2025-01-01
        "Overdue half a year": "2024-06-01",  # due 2025-06-01
        "Due today": "2024-12-20",  # due 2025-12-20
        "Due soon": "2025-01-10",  # due 2026-01-10
        "Fine": "2025-10-01",  # due 2026-10-01
        "Never assessed": None,
    }
    for name, when in assessed.items():
        cli.ok("service", "add", name, "-c", "pupil", "-p", "Acme")
        if when:
            cli.ok("assess", "record", name, "--date", when, "--by", "J Bloggs", "--outcome", "approved")
    cli.ok("service", "add", "Retired and never assessed", "-c", "other", "-p", "Acme")
    cli.ok("service", "retire", "Retired and never assessed")
    return cli


def overdue(cli, *options: str) -> list[dict]:
    return cli.json("report", "overdue-assessments", "--as-of", "2025-12-20", *options)


def test_overdue_due_soon_and_never_assessed_most_overdue_first(school):
    rows = overdue(school, "--within", "30")
    assert [(row["service"], row["days_overdue"], row["state"]) for row in rows] == [
        ("Never assessed", None, "never-assessed"),
        ("Overdue a year", 353, "overdue"),
        ("Overdue half a year", 202, "overdue"),
        ("Due today", 0, "due-soon"),
        ("Due soon", -21, "due-soon"),  # negative: days until it falls due
    ]
    assert rows[1] == {
        "service": "Overdue a year",
        "category": "pupil",
        "provider": "Acme",
        "status": "approved",
        "last_assessed": "2024-01-01",
        "review_due": "2025-01-01",
        "days_overdue": 353,
        "state": "overdue",
        # What changed since the assessment, and when: only for changed-since-assessed (issue 12).
        "detail": None,
        "changed_on": None,
    }
    assert (rows[0]["last_assessed"], rows[0]["review_due"]) == (None, None)


def test_within_sets_how_far_ahead_due_soon_looks(school):
    assert [row["service"] for row in overdue(school, "--within", "0")] == [
        "Never assessed",
        "Overdue a year",
        "Overdue half a year",
        "Due today",
    ]
    assert "Fine" in [row["service"] for row in overdue(school, "--within", "365")]


def test_the_default_window_is_thirty_days(school):
    assert [row["service"] for row in overdue(school)] == [
        row["service"] for row in overdue(school, "--within", "30")
    ]


def test_a_new_assessment_takes_a_service_off_the_report(school):
    school.ok(
        "assess",
        "record",
        "Overdue a year",
        "--date",
        "2025-12-01",
        "--by",
        "J Bloggs",
        "--outcome",
        "approved",
    )
    assert "Overdue a year" not in [row["service"] for row in overdue(school)]


def test_a_rejected_service_is_still_reported_when_its_review_falls_due(school):
    school.ok("assess", "record", "Fine", "--date", "2024-02-01", "--by", "J", "--outcome", "rejected")
    # The 2025-10-01 approval is the latest, so the review is still a year later.
    assert "Fine" not in [row["service"] for row in overdue(school)]


def test_the_table_has_the_reports_columns(school, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # a wide terminal, so no heading is folded
    result = school.ok("report", "overdue-assessments", "--as-of", "2025-12-20")
    for heading in (
        "Service",
        "Category",
        "Provider",
        "Last assessed",
        "Review due",
        "Days overdue",
        "State",
    ):
        assert heading in result.stdout
    assert "never-assessed" in result.stdout


def test_fail_if_any_exits_1_when_something_is_listed(school):
    result = school.run(
        "report", "overdue-assessments", "--as-of", "2025-12-20", "--fail-if-any", "-f", "csv"
    )
    assert result.exit_code == 1
    assert "Overdue a year" in result.stdout
    assert "5 service(s) need a risk assessment" in result.stderr


def test_fail_if_any_exits_0_when_nothing_is_due(cli):
    cli.ok("init")
    cli.ok("provider", "add", "Acme")
    cli.ok("service", "add", "Fine", "-c", "pupil", "-p", "Acme")
    cli.ok("assess", "record", "Fine", "--date", "2025-10-01", "--by", "J", "--outcome", "approved")
    result = cli.ok("report", "overdue-assessments", "--as-of", "2025-12-20", "--fail-if-any")
    assert result.stdout == ""
    assert "No risk assessment is overdue" in result.stderr
    assert cli.json("report", "overdue-assessments", "--as-of", "2025-12-20") == []


def test_the_hunwick_register_is_long_overdue(hunwick_cli):
    rows = hunwick_cli.json("report", "overdue-assessments", "--as-of", "2026-11-29")
    assert len(rows) == 19
    assert (rows[0]["service"], rows[0]["state"], rows[0]["days_overdue"]) == (
        "Swimphony",
        "never-assessed",
        None,
    )
    # December 2016 assessments fell due in December 2017.
    assert (rows[1]["last_assessed"], rows[1]["review_due"], rows[1]["days_overdue"]) == (
        "2016-12-01",
        "2017-12-01",
        3285,
    )
    assert {row["state"] for row in rows[1:]} == {"overdue"}
    assert [row["days_overdue"] for row in rows[1:]] == sorted(
        (row["days_overdue"] for row in rows[1:]), reverse=True
    )


def test_a_bad_as_of_date_is_refused_naming_it(school):
    result = school.fails("report", "overdue-assessments", "--as-of", "31/02/2026")
    assert '"31/02/2026"' in result.stderr
    assert "as-of date" in result.stderr


def test_a_negative_window_is_refused(school):
    result = school.fails("report", "overdue-assessments", "--within", "-1")
    assert "--within" in result.stderr


def test_the_data_map_shows_who_receives_each_kind_of_data(hunwick_cli):
    rows = {row["data_category"]: row for row in hunwick_cli.json("report", "data-map")}
    assert rows["medical"] == {
        "data_category": "medical",
        "recognised": True,
        "special_category": True,
        "sensitive": True,
        "services": ["SIMS (management)", "Swimphony (management)"],
        "providers": ["Capita", "Kinetic Insight Ltd"],
        "service_count": 2,
        "marking": "special category",
    }
    assert (rows["SEN"]["special_category"], rows["SEN"]["sensitive"], rows["SEN"]["marking"]) == (
        False,
        True,
        "sensitive",
    )
    assert rows["UPN"]["services"] == [
        "Accelerated Reader (pupil)",
        "Times Tables Rock Stars (pupil)",
        "Mable (pupil)",
    ]
    assert rows["UPN"]["marking"] == ""
    # A phrase outside the vocabulary is kept as written, and said to be unrecognised.
    assert rows["statistical"]["recognised"] is False
    assert rows["statistical"]["providers"] == ["Capita"]
    # Both Google entries share full names.
    assert "Google G Suite for Education (pupil)" in rows["full name"]["services"]
    assert "Google G Suite for Education (management)" in rows["full name"]["services"]
    assert rows["full name"]["providers"] == sorted(rows["full name"]["providers"])


def test_the_data_map_lists_the_vocabulary_first_then_phrases_as_written(hunwick_cli):
    names = [row["data_category"] for row in hunwick_cli.json("report", "data-map")]
    assert names[:3] == ["full name", "first name", "surname initial"]
    known = [row["recognised"] for row in hunwick_cli.json("report", "data-map")]
    assert known == sorted(known, reverse=True)


def test_the_data_map_table_marks_special_category_and_sensitive_data(hunwick_cli):
    result = hunwick_cli.ok("report", "data-map")
    assert "special category" in result.stdout
    assert "sensitive" in result.stdout


def test_the_data_map_leaves_out_retired_services(hunwick_cli):
    hunwick_cli.ok("service", "retire", "Swimphony")
    rows = {row["data_category"]: row for row in hunwick_cli.json("report", "data-map")}
    assert rows["medical"]["services"] == ["SIMS (management)"]
    assert "details of swimming assessment" not in rows


def test_an_empty_data_map_says_so(cli):
    cli.ok("init")
    result = cli.ok("report", "data-map")
    assert result.stdout == ""
    assert "No service" in result.stderr
    assert cli.json("report", "data-map") == []
