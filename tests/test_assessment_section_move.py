"""Moving a service to another section of the register (`service edit --move-to`) outdates its assessment.

Each section is a footing the assessment judged: pupil services rest on parents' consent, school management
on running the school (no opt-out), other online services on data potentially shared under controls, legal
requirements on a legal obligation. Any move is recorded as a change (the service_change history) and
shown in the overdue report, the record of processing's DPIA state and `assess history`.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cloudctl.domain.service_changes import ServiceFacts, differences


def _today() -> str:
    return date.today().isoformat()


def _assessed() -> str:
    return (date.today() - timedelta(days=60)).isoformat()


CATEGORIES = ("pupil", "management", "other", "statutory")


@pytest.fixture
def school(cli):
    cli.ok("init", "--school", "Hunwick Primary School", "--review-months", "12")
    cli.ok("provider", "add", "Google")
    for category in CATEGORIES:
        name = f"Service {category}"
        cli.ok("service", "add", name, "-c", category, "-p", "Google", "--data", "full name")
        cli.ok("assess", "record", name, "--date", _assessed(), "--by", "J Bloggs", "--outcome", "approved")
    return cli


def report(cli) -> list[dict]:
    return cli.json("report", "overdue-assessments", "--within", "0")


@pytest.mark.parametrize(
    ("start", "to"),
    [("pupil", "management"), ("management", "pupil"), ("pupil", "other"), ("management", "other"),
     ("other", "statutory"), ("statutory", "management")],
)  # fmt: skip
def test_a_move_between_sections_outdates_the_assessment(school, start, to):
    name = f"Service {start}"
    result = school.ok("service", "edit", name, "--move-to", to)
    assert f"Updated '{name}' ({to}): category." in result.stderr
    (row,) = report(school)
    assert (row["service"], row["category"], row["state"], row["review_due"], row["changed_on"]) == (
        name, to, "changed-since-assessed", _today(), _today(),
    )  # fmt: skip
    assert row["detail"] == f"section changed: {start} -> {to} ({_today()})"
    failed = school.run("report", "overdue-assessments", "--within", "0", "--fail-if-any")
    assert failed.exit_code == 1
    (assessment,) = school.json("assess", "history", name)
    assert assessment["changed_since"] == f"section changed: {start} -> {to} ({_today()})"
    ropa = {r["service"]: r["dpia_state"] for r in school.json("report", "ropa")}
    assert ropa[name] == "changed-since-assessed"
    # A new assessment, on its new footing, clears it.
    school.ok("assess", "record", name, "--date", _today(), "--by", "A Smith", "--outcome", "approved")
    assert report(school) == []


def test_a_rename_alone_outdates_nothing(school):
    school.ok("service", "edit", "Service pupil", "--name", "Maths Online")
    assert report(school) == []


def test_a_move_refused_records_no_change(school):
    school.ok("service", "add", "Service pupil", "-c", "management", "-p", "Google")
    result = school.fails("service", "edit", "Service pupil", "-c", "pupil", "--move-to", "management")
    assert "'Service pupil' is already in the management category" in result.stderr


def test_a_move_and_a_widening_together_are_both_recorded(school):
    school.ok("service", "edit", "Service pupil", "--move-to", "management", "--data", "full name, UPN")
    (row,) = report(school)
    assert row["detail"].startswith("data shared widened: added UPN")
    assert "section changed: pupil -> management" in row["detail"]


@pytest.mark.parametrize("start", CATEGORIES)
@pytest.mark.parametrize("to", CATEGORIES)
def test_the_rule(start, to):
    def facts(category: str) -> ServiceFacts:
        return ServiceFacts(("full name",), "years", ("1",), "Y1", 1, "UK", "public task", category)

    found = [(d.field, d.before, d.after, d.effect) for d in differences(facts(start), facts(to))]
    assert found == ([] if start == to else [("category", start, to, "changed")])
