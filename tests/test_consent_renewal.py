"""Renewal (issue 11, item 4): consent older than the school's --consent-months needs renewal in every
report and is left out of exports; `consent renewals` lists what lapses. The clock is the consent policy's
(`ConsentLifetime`, an input of `ServiceRule.status_of`), tested here across a year boundary."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from cloudctl.domain import consent_policy as policy
from cloudctl.domain.consent_policy import ConsentLifetime
from tests.helpers.pupils import add_pupils

NEW_YEARS_EVE = date(2025, 12, 31)


def _rule(lifetime: ConsentLifetime) -> policy.ServiceRule:
    return policy.ServiceRule.build(
        1,
        "My Maths",
        "pupil",
        "approved",
        "years",
        "R,1,2,3,4,5,6",
        '["full name", "class"]',
        "All",
        lifetime,
    )


TOLD = frozenset({"full name", "class"})


def test_consent_given_on_new_years_eve_lapses_at_the_start_of_the_same_day_a_year_on():
    # Decided: consent for N months counts up to and including the day before; it has lapsed from the
    # start of the day N months on.
    lapses_on = date(2026, 12, 31)
    assert ConsentLifetime(12, lapses_on).lapses_on(NEW_YEARS_EVE) == lapses_on
    assert not ConsentLifetime(12, date(2026, 12, 30)).lapsed("2025-12-31")
    assert ConsentLifetime(12, date(2026, 12, 31)).lapsed("2025-12-31")
    assert ConsentLifetime(12, date(2027, 1, 1)).lapsed("2025-12-31")
    # Across the boundary the other way: given in the old year, counted into the new one.
    assert ConsentLifetime(1, date(2026, 1, 30)).lapses_on("2025-12-31") == date(2026, 1, 31)
    # A short month's end is clamped: 31 January + 1 month is the last day of February.
    assert ConsentLifetime(1, date(2026, 3, 1)).lapses_on("2026-01-31") == date(2026, 2, 28)
    assert ConsentLifetime(1, date(2028, 3, 1)).lapses_on("2028-01-31") == date(2028, 2, 29)


def test_the_status_rule_takes_the_age_of_an_opt_in_and_never_of_an_opt_out():
    before, on = (
        _rule(ConsentLifetime(12, date(2026, 12, 30))),
        _rule(ConsentLifetime(12, date(2026, 12, 31))),
    )
    assert before.status_of(True, "3", policy.OPT_IN, False, TOLD, "2025-12-31") == policy.OPTED_IN
    assert on.status_of(True, "3", policy.OPT_IN, False, TOLD, "2025-12-31") == policy.NEEDS_RENEWAL
    assert on.status_of(True, "3", policy.OPT_OUT, False, TOLD, "2020-01-01") == policy.OPTED_OUT
    assert "lapsed on 2026-12-31" in on.renewal_reason(TOLD, "2025-12-31")


@given(
    given_on=st.dates(date(2000, 1, 1), date(2036, 12, 31)),
    today=st.dates(date(2000, 1, 1), date(2046, 12, 31)),
)
def test_an_unlimited_setting_never_lapses(given_on, today):
    rule = _rule(policy.UNLIMITED)
    assert not policy.UNLIMITED.lapsed(given_on.isoformat())
    assert policy.UNLIMITED.lapses_on(given_on) is None
    assert rule.status_of(True, "3", policy.OPT_IN, False, TOLD, given_on.isoformat()) == policy.OPTED_IN


@given(given_on=st.dates(date(2000, 1, 1), date(2030, 12, 31)), months=st.integers(1, 120))
def test_the_lapse_day_is_calendar_months_on_and_the_day_before_still_counts(given_on, months):
    lapses_on = given_on + relativedelta(months=months)
    assert ConsentLifetime(months, lapses_on).lapses_on(given_on) == lapses_on
    assert ConsentLifetime(months, lapses_on).lapsed(given_on.isoformat())
    assert not ConsentLifetime(months, lapses_on - timedelta(days=1)).lapsed(given_on.isoformat())


def test_decide_says_an_old_opt_in_lands_as_needs_renewal_and_a_new_one_renews_it():
    rule = _rule(ConsentLifetime(12, date(2026, 12, 31)))
    pupil = policy.PupilFacts("H801200001001", True, "3", date(2018, 1, 1))
    old = policy.Request(policy.OPT_IN, NEW_YEARS_EVE, "Jane Smith", told=TOLD)
    verdict = policy.decide(rule, pupil, None, old)
    assert (verdict.kind, verdict.status_after) == (policy.RECORD, policy.NEEDS_RENEWAL)
    assert "needs renewal" in verdict.message and "lapsed on 2026-12-31" in verdict.message
    history = [policy.PairEvent(1, policy.OPT_IN, "2025-12-31", "Jane Smith", False, False, TOLD)]
    again = policy.Request(policy.OPT_IN, date(2026, 12, 31), "Jane Smith", told=TOLD)
    verdict = policy.decide(rule, pupil, history, again)
    assert (verdict.kind, verdict.status_before, verdict.status_after) == (
        policy.RECORD, policy.NEEDS_RENEWAL, policy.OPTED_IN,
    )  # fmt: skip
    assert "renews" in verdict.message and "had lapsed" in verdict.message


# --- through the commands ---------------------------------------------------------------------------


def _school(cli):
    cli.upns = add_pupils(
        cli.url,
        [
            {"year_group": "3", "class_name": "3B", "forename": "Amelia", "surname": "Ashworth"},
            {"year_group": "3", "class_name": "3B", "forename": "Ben", "surname": "Bolam"},
            {"year_group": "4", "class_name": "4C", "forename": "Cara", "surname": "Carr"},
        ],
    )
    return cli


def _status(cli, upn: str, service: str) -> str:
    return next(row["status"] for row in cli.json("consent", "status", upn) if row["service"] == service)


def test_consent_older_than_the_setting_needs_renewal_everywhere_and_is_not_exported(hunwick_cli):
    school = _school(hunwick_cli)
    today = date.today()
    old, recent = today - relativedelta(months=25), today - relativedelta(months=23, days=-10)
    amelia, ben, cara = school.upns
    school.ok("consent", "optin", amelia, "My Maths", "--by", "Jane Ashworth", "--date", old.isoformat())
    school.ok("consent", "optin", ben, "My Maths", "--by", "Tom Bolam", "--date", recent.isoformat())
    school.ok("consent", "optout", cara, "My Maths", "--by", "Ann Carr", "--date", old.isoformat())
    # Unlimited (the default): nothing lapses.
    assert _status(school, amelia, "My Maths") == "opted-in"
    assert school.json("consent", "renewals", "--within", "3660") == []

    assert "consent months" in school.ok("init", "--consent-months", "24").stdout
    assert _status(school, amelia, "My Maths") == "needs-renewal"
    assert _status(school, ben, "My Maths") == "opted-in"
    assert _status(school, cara, "My Maths") == "opted-out"  # a withdrawal never lapses
    report = {row["upn"]: row["consent"]["My Maths"] for row in school.json("report", "consent")}
    assert report == {amelia: "needs-renewal", ben: "opted-in", cara: "opted-out"}
    offline = {(row["upn"], row["status"]) for row in school.json("report", "offline-alternatives")
               if row["service"] == "My Maths"}  # fmt: skip
    assert (amelia, "needs-renewal") in offline
    holding = school.json("pupil", "show", amelia)["services_holding_data"]
    basis = next(row["basis"] for row in holding if row["service"] == "My Maths")
    assert "needs renewal" in basis and "lapsed on" in basis
    exported = school.ok("export", "enrolment", "My Maths", "--format", "json").stdout
    assert "Bolam" in exported and "Ashworth" not in exported

    # What lapses: Amelia's already has; Ben's in about 40 days (within 60, not within 30).
    rows = school.json("consent", "renewals", "--within", "60")
    assert [(row["upn"], row["service"], row["status"]) for row in rows] == [
        (amelia, "My Maths", "needs-renewal"),
        (ben, "My Maths", "opted-in"),
    ]
    assert rows[0]["given_on"] == old.isoformat()
    assert rows[0]["lapses_on"] == (old + relativedelta(months=24)).isoformat()
    assert [row["upn"] for row in school.json("consent", "renewals", "--within", "30")] == [amelia]
    # Counted from another day, after Ben's lapses too.
    later = (today + relativedelta(months=2)).isoformat()
    assert len(school.json("consent", "renewals", "--within", "0", "--as-of", later)) == 2

    # A new opt-in renews it, and says so.
    renewed = school.ok("consent", "optin", amelia, "My Maths", "--by", "Jane Ashworth")
    assert "renews" in renewed.stderr and "lapsed" in renewed.stderr
    assert _status(school, amelia, "My Maths") == "opted-in"

    # Back to unlimited: 0.
    school.ok("init", "--consent-months", "0")
    assert _status(school, ben, "My Maths") == "opted-in"
    empty = school.ok("consent", "renewals")
    assert "lasts until it is withdrawn" in empty.stderr


def test_a_consent_period_out_of_range_is_refused(cli):
    cli.ok("init")
    for months in ("121", "-1"):
        result = cli.fails("init", "--consent-months", months)
        assert "from 1 to 120" in result.stderr
    assert "from 1 to 730" in cli.fails("init", "--reply-code-days", "0").stderr
