"""Issue 12, item 2: the assessment as a workflow: screening, residual risk, conditions, sign-off."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cloudctl.domain.assessment_workflow import QUESTIONS, REQUIRED, STANDALONE, screening_verdict


def _today() -> date:
    return date.today()


def _recent() -> str:
    return (_today() - timedelta(days=30)).isoformat()


ALL_NO = ",".join(f"{key}=no" for key in QUESTIONS)


def answers(*yes: str) -> str:
    return ",".join(f"{key}={'yes' if key in yes else 'no'}" for key in QUESTIONS)


@pytest.fixture
def school(cli):
    cli.ok("init", "--school", "Hunwick Primary School")
    cli.ok(
        "service",
        "add",
        "Class Dojo",
        "-c",
        "pupil",
        "-p",
        "ClassDojo Inc",
        "--create-provider",
        "--years",
        "All",
    )
    return cli


def status(cli) -> str:
    return cli.json("service", "show", "Class Dojo")["status"]


def record(cli, *options: str):
    return cli.ok("assess", "record", "Class Dojo", "--date", _recent(), "--by", "J Bloggs", *options)


# --- screening ---------------------------------------------------------------------------------------


def test_screening_that_needs_a_full_dpia_says_so_and_states_the_rule(school):
    result = school.ok("assess", "screen", "Class Dojo", "--answers", answers("children"), "--by", "J Bloggs")
    assert "children answered yes: a full DPIA is required" in result.stderr
    assert "two or more questions are yes" in result.stderr
    (row,) = school.json("assess", "history", "Class Dojo")
    assert (row["step"], row["outcome"], row["notes"]) == ("screening", "full-dpia-required", "yes: children")


def test_the_same_screening_again_on_the_same_day_records_nothing(school):
    screen = ("assess", "screen", "Class Dojo", "--answers", answers("children"), "--by", "J Bloggs")
    school.ok(*screen)
    before = school.snapshot()
    again = school.ok(*screen)
    assert "Nothing recorded: 'Class Dojo' was already screened on" in again.stderr
    assert school.snapshot() == before
    # Other answers, or another screener, are a new screening.
    school.ok("assess", "screen", "Class Dojo", "--answers", ALL_NO, "--by", "J Bloggs")
    school.ok("assess", "screen", "Class Dojo", "--answers", ALL_NO, "--by", "A Smith")
    assert [row["step"] for row in school.json("assess", "history", "Class Dojo")] == ["screening"] * 3


def test_one_combination_criterion_alone_does_not_need_a_full_dpia(school):
    result = school.ok("assess", "screen", "Class Dojo", "--answers", answers("outside-uk"))
    assert "a full DPIA is not required" in result.stderr


def test_two_yes_answers_need_a_full_dpia(school):
    result = school.ok("assess", "screen", "Class Dojo", "--answers", answers("outside-uk", "large-scale"))
    assert "2 questions answered yes" in result.stderr


@pytest.mark.parametrize("key", list(QUESTIONS))
def test_the_rule(key):
    alone = {k: k == key for k in QUESTIONS}
    assert (screening_verdict(alone)[0] == REQUIRED) == (key in STANDALONE)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (ALL_NO + ",cctv=yes", '"cctv" is not a screening question. The questions are: special-category'),
        (ALL_NO.replace(",invisible=no", ""), "not answered: invisible"),
        (ALL_NO.replace("invisible=no", "invisible=maybe"), 'Answer "invisible" with yes or no'),
        (ALL_NO + ",invisible=yes", '"invisible" is answered twice'),
    ],
    ids=["unknown key", "missing", "not yes or no", "twice"],
)
def test_bad_answers_are_refused_and_nothing_is_written(school, given, message):
    result = school.fails("assess", "screen", "Class Dojo", "--answers", given)
    assert message in result.stderr


# --- residual risk and sign-off ----------------------------------------------------------------------


def test_a_high_risk_approval_waits_for_the_dpo(school):
    result = record(school, "--outcome", "approved", "--residual-risk", "high")
    assert "pending sign-off" in result.stderr and "--role DPO" in result.stderr
    assert status(school) == "not-approved"
    (row,) = school.json("assess", "history", "Class Dojo")
    assert row["outcome"] == "approved (pending DPO sign-off)"
    # A headteacher's sign-off is recorded but is not the school's sign-off role.
    result = school.ok("assess", "sign-off", "Class Dojo", "--by", "H Head", "--role", "headteacher")
    assert "still needs a sign-off by the DPO" in result.stderr
    assert status(school) == "not-approved"
    result = school.ok("assess", "sign-off", "Class Dojo", "--by", "A Patel", "--role", "dpo")
    assert "is now approved" in result.stderr
    assert status(school) == "approved"
    (row,) = school.json("assess", "history", "Class Dojo")
    assert row["outcome"] == "approved"
    assert row["signed_off"].endswith(f"A Patel (DPO) {_today().isoformat()}")


def test_the_school_sets_the_sign_off_role(school):
    school.ok("init", "--sign-off-role", "governor")
    record(school, "--outcome", "approved", "--residual-risk", "high")
    school.ok("assess", "sign-off", "Class Dojo", "--by", "A Patel", "--role", "DPO")
    assert status(school) == "not-approved"
    school.ok("assess", "sign-off", "Class Dojo", "--by", "G Smith", "--role", "governor")
    assert status(school) == "approved"


@pytest.mark.parametrize("risk", ["low", "medium"])
def test_a_lower_risk_approval_needs_no_sign_off(school, risk):
    record(school, "--outcome", "approved", "--residual-risk", risk)
    assert status(school) == "approved"


def test_a_new_high_risk_approval_takes_away_an_earlier_approval_until_signed_off(school):
    school.ok(
        "assess", "record", "Class Dojo", "--date", "2025-01-10", "--by", "J Bloggs", "--outcome", "approved"
    )
    assert status(school) == "approved"
    record(school, "--outcome", "approved", "--residual-risk", "high")
    assert status(school) == "not-approved"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (("assess", "sign-off", "Class Dojo", "--by", "A Patel", "--role", "DPO"), "has no risk assessment"),
        (("assess", "condition-met", "Class Dojo", "--date", _recent()), "has no risk assessment"),
        (("init", "--sign-off-role", "bursar"), '"bursar" is not a sign-off role'),
        (("assess", "record", "Class Dojo", "--date", _recent(), "--by", "J", "--outcome", "approved",
          "--residual-risk", "severe"), '"severe" is not a residual risk'),
        (("assess", "record", "Class Dojo", "--date", _recent(), "--by", "J", "--outcome", "approved",
          "--conditions-due", "2030-01-01"), "--conditions-due needs the conditions"),
        (("assess", "record", "Class Dojo", "--date", _recent(), "--by", "J", "--outcome", "approved",
          "--conditions", "Turn off messaging", "--conditions-due", "2020-01-01"), "cannot be due"),
    ],
    ids=["sign-off unassessed", "condition unassessed", "role", "risk", "due alone", "due before"],
)  # fmt: skip
def test_refusals_write_nothing(school, command, message):
    assert message in school.fails(*command).stderr


def test_a_sign_off_role_must_be_one_of_the_three(school):
    record(school, "--outcome", "approved", "--residual-risk", "high")
    result = school.fails("assess", "sign-off", "Class Dojo", "--by", "A Patel", "--role", "bursar")
    assert "DPO, headteacher, governor" in result.stderr


def test_the_same_sign_off_twice_is_recorded_once(school):
    record(school, "--outcome", "approved", "--residual-risk", "high")
    school.ok("assess", "sign-off", "Class Dojo", "--by", "A Patel", "--role", "DPO")
    before = school.snapshot()
    assert (
        "Nothing recorded"
        in school.ok("assess", "sign-off", "Class Dojo", "--by", "A Patel", "--role", "DPO").stderr
    )
    assert school.snapshot() == before


# --- conditions --------------------------------------------------------------------------------------


def test_an_overdue_condition_is_in_the_overdue_report_until_met(school):
    due = (_today() - timedelta(days=5)).isoformat()
    record(school, "--outcome", "approved-with-conditions", "--conditions", "Turn off parent messaging",
           "--conditions-due", due)  # fmt: skip
    (row,) = school.json("report", "overdue-assessments", "--within", "0")
    assert (row["state"], row["review_due"], row["days_overdue"]) == ("condition-overdue", due, 5)
    assert row["detail"] == "condition not met: Turn off parent messaging"
    assert school.run("report", "overdue-assessments", "--within", "0", "--fail-if-any").exit_code == 1
    school.ok("assess", "condition-met", "Class Dojo", "--date", _today().isoformat())
    assert school.json("report", "overdue-assessments", "--within", "0") == []
    (row,) = school.json("assess", "history", "Class Dojo")
    assert row["conditions_met"] == _today().isoformat()
    # Met once: meeting it again records nothing and is not a failure (exit 0, NothingToDo).
    before = school.snapshot()
    again = school.ok("assess", "condition-met", "Class Dojo", "--date", _today().isoformat())
    assert f"Nothing recorded: the condition was already met on {_today().isoformat()}" in again.stderr
    assert school.snapshot() == before


def test_a_condition_not_yet_due_is_not_overdue(school):
    due = (_today() + timedelta(days=90)).isoformat()
    record(
        school,
        "--outcome",
        "approved-with-conditions",
        "--conditions",
        "Train staff",
        "--conditions-due",
        due,
    )
    assert school.json("report", "overdue-assessments", "--within", "0") == []


def test_condition_met_refusals(school):
    record(school, "--outcome", "approved")
    assert (
        "set no conditions"
        in school.fails("assess", "condition-met", "Class Dojo", "--date", _recent()).stderr
    )


def test_a_condition_cannot_be_met_before_the_assessment(school):
    record(school, "--outcome", "approved-with-conditions", "--conditions", "Train staff")
    result = school.fails("assess", "condition-met", "Class Dojo", "--date", "2020-01-01")
    assert "before the assessment" in result.stderr


def test_workflow_history_verifies(school):
    school.ok("assess", "screen", "Class Dojo", "--answers", answers("children"))
    record(school, "--outcome", "approved", "--residual-risk", "high", "--conditions", "Train staff")
    school.ok("assess", "sign-off", "Class Dojo", "--by", "A Patel", "--role", "DPO")
    school.ok("assess", "condition-met", "Class Dojo", "--date", _today().isoformat())
    school.ok("service", "edit", "Class Dojo", "--data", "full name")
    import json

    record_ = json.loads(school.ok("db", "verify", "--format", "json").stdout)
    assert record_["verified"] is True
    rows = {chain["table"]: chain["rows"] for chain in record_["chains"]}
    assert (rows["assessment_event"], rows["service_change"]) == (3, 1)


def test_an_opt_in_to_a_service_awaiting_sign_off_names_the_sign_off_it_awaits(school):
    """Not "was not approved": the approval stands, waiting for the school's sign-off role."""
    from tests.helpers.pupils import add_pupils

    (upn,) = add_pupils(school.url, [{"year_group": "3", "class_name": "3B"}])
    school.ok("init", "--sign-off-role", "headteacher")
    record(school, "--outcome", "approved", "--residual-risk", "high")
    before = school.snapshot()
    result = school.fails("consent", "optin", upn, "Class Dojo", "--by", "Jane Smith")
    assert result.exit_code == 1
    assert "was not approved" not in result.stderr
    assert "awaits a sign-off by the headteacher" in result.stderr
    assert 'cloudctl assess sign-off "Class Dojo" --by NAME --role headteacher' in result.stderr
    assert school.snapshot() == before
    # A withdrawal is still recorded; once signed off, the opt-in is.
    school.ok("consent", "optout", upn, "Class Dojo", "--by", "Jane Smith")
    school.ok("assess", "sign-off", "Class Dojo", "--by", "H Head", "--role", "headteacher")
    school.ok("consent", "optin", upn, "Class Dojo", "--by", "Jane Smith", "--date", _today().isoformat())


def test_an_opt_in_to_a_service_not_approved_at_its_assessment_still_says_so(school):
    from tests.helpers.pupils import add_pupils

    (upn,) = add_pupils(school.url, [{"year_group": "3", "class_name": "3B"}])
    record(school, "--outcome", "rejected")
    result = school.fails("consent", "optin", upn, "Class Dojo", "--by", "Jane Smith")
    assert "was not approved at its risk assessment" in result.stderr
    assert "sign-off" not in result.stderr
