"""Consent that lapses with age (init --consent-months) makes a deletion due, though no event was recorded."""

from __future__ import annotations

from datetime import date

from tests.test_deletions import SERVICE, listed, school


def test_consent_lapsing_with_age_makes_a_deletion_due_and_a_removal(hunwick_cli):
    upns = school(hunwick_cli)  # opted in on 2026-09-01 and sent in a full export today
    assert listed(hunwick_cli) == []
    hunwick_cli.ok("init", "--consent-months", "2")  # consent given 2026-09-01 lapses on 2026-11-01
    rows = listed(hunwick_cli)
    assert sorted(row["upn"] for row in rows) == sorted(upns)
    reason = "consent needs renewal: consent given on 2026-09-01 lapsed on 2026-11-01"
    assert all(row["reason"].startswith(reason) for row in rows)
    # Due from the lapse, but never before the file that sent the pupil (today).
    assert {row["due_since"] for row in rows} == {max("2026-11-01", date.today().isoformat())}
    changes = hunwick_cli.json("export", "enrolment", SERVICE, "--changes", "--dry-run")
    assert [row["action"] for row in changes] == ["remove"] * len(upns)
    assert sorted(row["surname"] for row in changes) == ["Pupil0", "Pupil1", "Pupil2"]
    assert all(row["reason"].startswith(reason) for row in changes)


def test_consent_that_has_not_lapsed_makes_nothing_due(hunwick_cli):
    school(hunwick_cli)
    hunwick_cli.ok("init", "--consent-months", "24")
    assert listed(hunwick_cli) == []
