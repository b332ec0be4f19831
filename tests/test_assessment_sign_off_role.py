"""A sign-off counts when it was given by the role the school required at the time it was recorded.

`cloudctl init --sign-off-role` changes the role required from then on: it neither undoes a valid sign-off
nor validates an earlier one by another role. The service's status and `assess history` (the evidence) ask
the same rule (cloudctl.domain.assessment_workflow.sign_off_counts), so they cannot disagree.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cloudctl.db.models import AssessmentEvent, SchoolSettings
from cloudctl.domain.assessment_workflow import sign_off_counts


def _recent() -> str:
    return (date.today() - timedelta(days=30)).isoformat()


@pytest.fixture
def school(cli):
    cli.ok("init", "--school", "Hunwick Primary School")
    cli.ok("service", "add", "Class Dojo", "-c", "pupil", "-p", "ClassDojo Inc", "--create-provider")
    cli.ok(
        "assess", "record", "Class Dojo", "--date", _recent(), "--by", "J Bloggs", "--outcome", "approved",
        "--residual-risk", "high",
    )  # fmt: skip
    return cli


def status(cli) -> str:
    return cli.json("service", "show", "Class Dojo")["status"]


def history(cli) -> dict:
    (row,) = cli.json("assess", "history", "Class Dojo")
    return row


def sign(cli, name: str, role: str):
    return cli.ok("assess", "sign-off", "Class Dojo", "--by", name, "--role", role)


def test_a_valid_sign_off_stays_valid_when_the_role_required_changes(school):
    sign(school, "A Patel", "DPO")
    assert status(school) == "approved" and history(school)["outcome"] == "approved"
    result = school.ok("init", "--sign-off-role", "governor")
    # The evidence and the status agree: still approved, with no governor's sign-off asked for.
    assert history(school)["outcome"] == "approved"
    assert status(school) == "approved"
    assert "Sign-offs already recorded keep their standing" in result.stderr
    # A later step that works the status out again (a countersignature) does not undo it either.
    sign(school, "H Head", "headteacher")
    assert status(school) == "approved"
    row = history(school)
    assert row["outcome"] == "approved"
    assert row["signed_off"].startswith(f"A Patel (DPO) {date.today().isoformat()}; H Head (headteacher; ")
    assert "the school then required the governor" in row["signed_off"]


def test_a_sign_off_by_another_role_is_not_made_valid_by_a_later_change(school):
    result = sign(school, "G Smith", "governor")
    assert "still needs a sign-off by the DPO" in result.stderr
    school.ok("init", "--sign-off-role", "governor")
    assert status(school) == "not-approved"
    row = history(school)
    assert row["outcome"] == "approved (pending governor sign-off)"
    assert "G Smith (governor; the school then required the DPO)" in row["signed_off"]
    sign(school, "H Head", "headteacher")
    assert status(school) == "not-approved"
    # The same governor signing again now is judged by today's requirement: recorded, and it counts.
    result = sign(school, "G Smith", "governor")
    assert "is now approved" in result.stderr
    assert status(school) == "approved" and history(school)["outcome"] == "approved"


def test_the_same_sign_off_under_the_same_requirement_is_still_recorded_once(school):
    school.ok("init", "--sign-off-role", "governor")
    sign(school, "G Smith", "governor")
    before = school.snapshot()
    assert "Nothing recorded" in sign(school, "G Smith", "governor").stderr
    assert school.snapshot() == before


def test_the_history_verifies_with_the_role_required_recorded(school):
    sign(school, "A Patel", "DPO")
    school.ok("init", "--sign-off-role", "headteacher")
    sign(school, "H Head", "headteacher")
    school.ok("db", "verify")


@pytest.mark.parametrize(
    ("role", "required_then", "setting_now", "counts"),
    [
        ("DPO", "DPO", "DPO", True),
        ("DPO", "DPO", "governor", True),  # a later change does not undo it
        ("governor", "DPO", "governor", False),  # nor validate one by another role
        ("governor", "governor", "DPO", True),
        ("headteacher", "DPO", "DPO", False),
        ("DPO", None, "DPO", True),  # recorded before the role required was kept: today's setting decides
        ("DPO", None, "governor", False),
    ],
)
def test_the_rule(role, required_then, setting_now, counts):
    event = AssessmentEvent(
        service_id=1, kind="sign-off", occurred_on=date.today(), role=role, verdict=required_then
    )
    assert sign_off_counts(event, SchoolSettings(sign_off_role=setting_now)) is counts
