"""report providers: what each provider holds by the ledger, what it should hold by consent, deletions."""

from __future__ import annotations

from datetime import date, timedelta

from tests.helpers.pupils import add_pupils
from tests.test_deletions import SERVICE, overdue_school, school


def report(cli, *options: str) -> dict[str, dict]:
    return {row["service"]: row for row in cli.json("report", "providers", *options)}


def test_held_should_hold_and_the_differences(hunwick_cli):
    upns = school(hunwick_cli, count=3)
    [late] = add_pupils(hunwick_cli.url, [{"upn": "B801200005001", "year_group": "3", "class_name": "3B"}])
    hunwick_cli.ok("consent", "optin", late, SERVICE, "--by", "A Parent")  # opted in, not yet sent
    hunwick_cli.ok("consent", "optout", upns[0], SERVICE, "--date", "2026-11-02")
    row = report(hunwick_cli)[SERVICE]
    assert row == {
        "service": SERVICE, "category": "pupil", "provider": "Oxford University Press",
        "held": 3, "should_hold": 3, "held_not_allowed": 1, "allowed_not_held": 1,
        "deletions_due": 1, "deletions_requested": 0, "deletions_overdue": 0,
        "last_export": date.today().isoformat(),
    }  # fmt: skip
    hunwick_cli.ok("deletion", "request", SERVICE, "--out", "request.csv")
    row = report(hunwick_cli)[SERVICE]
    assert (row["held"], row["deletions_due"], row["deletions_requested"]) == (3, 0, 1)
    hunwick_cli.ok("deletion", "confirm", SERVICE, "--all-requested", "--date", date.today().isoformat())
    row = report(hunwick_cli)[SERVICE]
    assert (row["held"], row["held_not_allowed"], row["deletions_requested"]) == (2, 0, 0)
    # Services the school never exported to and with nothing outstanding are left out.
    assert set(report(hunwick_cli)) == {SERVICE}


def test_overdue_is_judged_as_of_the_date_given(hunwick_cli):
    overdue_school(hunwick_cli, days_ago=20)
    assert report(hunwick_cli)[SERVICE]["deletions_overdue"] == 0
    later = (date.today() + timedelta(days=15)).isoformat()
    assert report(hunwick_cli, "--as-of", later)[SERVICE]["deletions_overdue"] == 1
    assert "is out of range" in hunwick_cli.fails("report", "providers", "--as-of", "1999-01-01").stderr
