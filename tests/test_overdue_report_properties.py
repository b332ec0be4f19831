"""The overdue-assessments report reads lean (plain driver rows, dates parsed once, one pass: issue 12's
speed target). It must say exactly what a plain reading of the rules says: for random services,
assessments, changes and conditions, its rows equal those of a simple reference worked out here from ORM
objects, with dateutil's relativedelta for the review interval.

The rules the reference follows (docs/assessments.md): a service never assessed is never-assessed;
its latest assessment is the latest date, of two on a day the later recorded; a widening or changed
entry up to the report's date that is later than that assessment (a later day, or the same day recorded
after it) makes it changed-since-assessed, due on the day of the first such change or on the review date it
already had, whichever is earlier; otherwise the review
is due on the assessor's date, else the assessment date plus the service's (else the school's) interval,
overdue before the report's date and due soon up to `within` days after it; an open condition (not met)
is condition-overdue or condition-due-soon by its own date. Rows: never assessed first, then outdated,
then by state and most days overdue, then the register's order (section, position, id).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from cloudctl.db.engine import open_database
from cloudctl.db.location import sqlite_location
from cloudctl.db.models import (
    AssessmentEvent,
    Provider,
    RiskAssessment,
    SchoolSettings,
    Service,
    ServiceChange,
)
from cloudctl.domain.service_changes import describe
from cloudctl.domain.vocabulary import CATEGORY_ORDER
from cloudctl.reports.overdue import STATE_ORDER, _Reading, overdue_assessments

START = date(2024, 1, 1)
EFFECTS = ("widening", "narrowing", "changed", "first-recorded", "cleared")
FIELDS = ("data_shared", "year_groups", "provider", "storage_location", "lawful_basis")

# Few distinct days, moments and intervals, so that same-day assessments and changes (ordered by when they
# were recorded), reviews falling due on the report's date or its horizon, and ties in position and days
# overdue come up often.
days = st.integers(0, 6).map(lambda n: START + timedelta(days=n))
intervals = st.sampled_from([1, 3, 12])
moments = st.integers(0, 6).map(lambda n: datetime(2024, 3, 1, 9, tzinfo=UTC) + timedelta(minutes=7 * n))
assessments = st.fixed_dictionaries(
    {
        "assessed_on": days,
        "recorded_at": moments,
        "next_review": st.none() | days,
        "conditions": st.none() | st.just("Turn off messaging"),
        "conditions_due": st.none() | days,
        "met": st.booleans(),
    }
)
changes = st.fixed_dictionaries(
    {
        "changed_on": days,
        "recorded_at": moments,
        "field": st.sampled_from(FIELDS),
        "before": st.none() | st.sampled_from(["full name", "UK", "Y2 - Y6"]),
        "after": st.none() | st.sampled_from(["full name, date of birth", "elsewhere", "All"]),
        "effect": st.sampled_from(EFFECTS),
    }
)
services = st.fixed_dictionaries(
    {
        "category": st.sampled_from(CATEGORY_ORDER),
        "status": st.sampled_from(["approved", "awaiting-assessment", "retired"]),
        "position": st.integers(0, 3),
        "review_months": st.none() | intervals,
        "provider": st.booleans(),
        "assessments": st.lists(assessments, max_size=3),
        "changes": st.lists(changes, max_size=3),
    }
)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """An empty database migrated to head, copied for each example (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("overdue") / "template.db"
    open_database(sqlite_location(path)).dispose()
    return path


def _build(path: Path, register: list[dict], school_months: int) -> None:
    db = open_database(sqlite_location(path))
    with db.write() as session:
        session.add(SchoolSettings(id=1, school_name="Property Primary", review_months=school_months))
        provider = Provider(name="Provider Ltd")
        session.add(provider)
        session.flush()
        for index, entry in enumerate(register):
            service = Service(
                name=f"Service {index}",
                category=entry["category"],
                status=entry["status"],
                position=entry["position"],
                review_months=entry["review_months"],
                provider_id=provider.id if entry["provider"] else None,
            )
            session.add(service)
            session.flush()
            for made in entry["assessments"]:
                assessment = RiskAssessment(
                    service_id=service.id,
                    assessed_on=made["assessed_on"],
                    assessed_by="DPO",
                    outcome="approved",
                    next_review=made["next_review"],
                    recorded_at=made["recorded_at"],
                    conditions=made["conditions"],
                    conditions_due=made["conditions_due"],
                )
                session.add(assessment)
                session.flush()
                if made["met"]:
                    session.add(
                        AssessmentEvent(
                            service_id=service.id,
                            risk_assessment_id=assessment.id,
                            kind="condition-met",
                            occurred_on=made["assessed_on"],
                        )
                    )
            for change in entry["changes"]:
                session.add(ServiceChange(service_id=service.id, source="service edit", **change))
            session.flush()
    db.dispose()


def _reference(session, as_of: date, within: int) -> list[dict]:
    """The report worked out plainly from ORM objects."""
    school_months = session.get(SchoolSettings, 1).review_months
    horizon = as_of + timedelta(days=within)
    met = {e.risk_assessment_id for e in session.exec(select(AssessmentEvent)) if e.kind == "condition-met"}
    found = []
    for service in session.exec(select(Service).where(Service.status != "retired")):
        provider = session.get(Provider, service.provider_id) if service.provider_id else None
        made = session.exec(select(RiskAssessment).where(RiskAssessment.service_id == service.id)).all()
        latest = max(made, key=lambda a: (a.assessed_on, a.id), default=None)
        rows = []
        if latest is None:
            rows.append(("never-assessed", None, None, None))
        else:
            outdating = sorted(
                (
                    c
                    for c in session.exec(select(ServiceChange).where(ServiceChange.service_id == service.id))
                    if c.effect in ("widening", "changed")
                    and c.changed_on <= as_of
                    and (
                        c.changed_on > latest.assessed_on
                        or (c.changed_on == latest.assessed_on and c.recorded_at > latest.recorded_at)
                    )
                ),
                key=lambda c: (c.changed_on, c.id),
            )
            months = service.review_months or school_months
            due = latest.next_review or latest.assessed_on + relativedelta(months=months)
            if outdating:
                first = outdating[0].changed_on
                detail = "; ".join(
                    f"{describe(c.field, c.before, c.after, c.effect)} ({c.changed_on.isoformat()})"
                    for c in outdating
                )
                # Due on the change's day, or on the review date it had if that came first.
                rows.append(("changed-since-assessed", min(first, due), detail, first))
            else:
                if due < as_of:
                    rows.append(("overdue", due, None, None))
                elif due <= horizon:
                    rows.append(("due-soon", due, None, None))
            if latest.conditions and latest.conditions_due and latest.id not in met:
                if latest.conditions_due < as_of:
                    condition = ("condition-overdue", f"condition not met: {latest.conditions}")
                    rows.append((condition[0], latest.conditions_due, condition[1], None))
                elif latest.conditions_due <= horizon:
                    condition = ("condition-due-soon", f"condition open: {latest.conditions}")
                    rows.append((condition[0], latest.conditions_due, condition[1], None))
        for state, due, detail, changed_on in rows:
            days_overdue = (as_of - due).days if due else None
            found.append(
                (
                    (STATE_ORDER[state], -(days_overdue or 0)),
                    (CATEGORY_ORDER.index(service.category), service.position, service.id),
                    {
                        "service": service.name,
                        "category": service.category,
                        "provider": provider.name if provider else None,
                        "last_assessed": latest.assessed_on.isoformat() if latest else None,
                        "review_due": due.isoformat() if due else None,
                        "days_overdue": days_overdue,
                        "state": state,
                        "detail": detail,
                        "changed_on": changed_on.isoformat() if changed_on else None,
                        "status": service.status,
                    },
                )
            )
    found.sort(key=lambda item: (item[0], item[1]))
    return [row for _, _, row in found]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    register=st.lists(services, max_size=6),
    school_months=intervals,
    as_of=st.builds(
        lambda day, months: day + relativedelta(months=months), days, st.sampled_from([0, 1, 3, 12])
    ),
    within=st.sampled_from([0, 1, 7, 30]),
)
def test_the_lean_report_says_what_the_plain_rules_say(template, register, school_months, as_of, within):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cloudctl.db"
        shutil.copyfile(template, path)
        _build(path, register, school_months)
        db = open_database(sqlite_location(path))
        try:
            with db.read() as session:
                expected = _reference(session, as_of, within)
                assert overdue_assessments(session, as_of=as_of, within_days=within, today=as_of) == expected
        finally:
            db.dispose()


# The report's shortcut: a service with no outdating change and no open condition (none, no due date, or
# met) is shown from its assessment date, review date and interval alone, remembered for each such three
# (_Reading.plain). It must show what the full path (findings, then shown) shows for the same service,
# whether the driver gives the dates as text (SQLite) or as dates (PostgreSQL).
any_day = st.dates(date(2000, 1, 1), date(2040, 12, 31))


@settings(max_examples=300, deadline=None)
@given(
    assessed=any_day,
    next_review=st.none() | any_day,
    months=st.integers(1, 60),
    as_of=any_day,
    within=st.integers(0, 400),
    as_text=st.booleans(),
    condition=st.sampled_from(["none", "no due date", "met"]),
    conditions_due=any_day,
)
def test_the_plain_path_shows_what_the_full_path_shows(
    assessed, next_review, months, as_of, within, as_text, condition, conditions_due
):
    reading = _Reading(as_of, as_of + timedelta(days=within))
    conditions = None if condition == "none" else "Turn off messaging"
    due = None if condition == "no due date" else conditions_due
    full = reading.shown(
        reading.findings(assessed, next_review, months, None, conditions, due, condition == "met", None)
    )

    def raw(day):
        return day.isoformat() if as_text and day is not None else day

    plain = reading.plain(raw(assessed), raw(next_review), months)
    if not full:
        assert plain is None
    else:
        [(_, _, _, detail, changed_on, _)] = full
        assert (detail, changed_on) == (None, None)
        assert plain == (assessed.isoformat(), tuple(full))
