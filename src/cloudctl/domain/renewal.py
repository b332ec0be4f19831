"""Renewal: the opt-ins that lapse (or have lapsed) under the school's `--consent-months`, for the next
round of forms.

Whether an opt-in has lapsed is the consent policy's to say (`ConsentLifetime`, an input of
`ServiceRule.status_of`); this module only lists, for each pupil on roll and service they may be enrolled
in, the standing opt-in and the day it lapses, when that day is within the days asked about. An opt-in
lapses at the START of its lapse day: consent given on 2025-12-31 for 12 months counts through 2026-12-30.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from cloudctl.domain.consent import OPT_IN, ConsentLifetime, ServiceRule, consent_lifetime
from cloudctl.vocab.dates import check_within


def consent_renewals(
    session: Session,
    *,
    within: int = 30,
    class_name: str | None = None,
    service_name: str | None = None,
    today: date | None = None,
) -> list[dict]:
    """Each pupil's opt-in that has lapsed or lapses within `within` days of today, soonest first.

    Empty when consent at the school lasts until withdrawn (the default).
    """
    from cloudctl.reports.consent import _pupils, _rules, _standings_for

    today = today or date.today()
    within = check_within(within)
    lifetime = consent_lifetime(session, today)
    if lifetime.unlimited:
        return []
    horizon = today + timedelta(days=within)
    pupils = _pupils(session, class_name)
    rules = [_with_lifetime(rule, lifetime) for rule in _rules(session, service_name)]
    latest = _standings_for(session, pupils, rules)
    rows = []
    for rule in rules:
        for pupil in pupils:
            standing = latest.get((pupil.id, rule.id))
            if standing is None or standing.decision != OPT_IN:
                continue
            if not rule.eligible(True, pupil.year_group, selected=standing.selected):
                continue
            lapses_on = lifetime.lapses_on(standing.effective_on)
            if lapses_on > horizon:
                continue
            rows.append(
                {
                    "upn": pupil.upn,
                    "forename": pupil.forename,
                    "surname": pupil.surname,
                    "class_name": pupil.class_name,
                    "service": rule.name,
                    "given_on": str(standing.effective_on),
                    "given_by": standing.given_by,
                    "lapses_on": lapses_on.isoformat(),
                    "status": rule.status_for(True, pupil.year_group, standing),
                }
            )
    rows.sort(key=lambda row: (row["lapses_on"], row["class_name"] or "", row["surname"], row["service"]))
    return rows


def _with_lifetime(rule: ServiceRule, lifetime: ConsentLifetime) -> ServiceRule:
    """The rule counted to the report's day (the status column agrees with the lapse date)."""
    from dataclasses import replace

    return replace(rule, lifetime=lifetime)
