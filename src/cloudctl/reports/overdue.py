"""Which services' risk assessments are overdue, due soon, outdated by a change to the service, or were
never done; and which assessments' conditions are past their due date.

The facts come from four plain queries (services with their providers, the assessments, the changes
that outdate an assessment, the conditions met); the rules are cloudctl.domain.assessments.review_due
(when a review falls due) and cloudctl.domain.service_changes.changes_since (what outdates an
assessment). A service whose latest assessment is outdated is listed as changed-since-assessed, its
review due on the day of the first change after it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlmodel import Session

from cloudctl.db.models import AssessmentEvent, Provider, RiskAssessment, Service, ServiceChange
from cloudctl.domain.service_changes import OUTDATING, changes_since, describe
from cloudctl.domain.service_records import review_date
from cloudctl.domain.settings import get_settings
from cloudctl.domain.vocabulary import CATEGORY_ORDER
from cloudctl.vocab.dates import check_as_of, check_within, format_date

STATE_ORDER = {
    "never-assessed": 0,
    "changed-since-assessed": 1,
    "overdue": 2,
    "condition-overdue": 3,
    "due-soon": 4,
    "condition-due-soon": 5,
}
# The keys of each row, in order ("status" last, as in the CSV: a column beyond the report's own).
OVERDUE_KEYS = (
    "service", "category", "provider", "last_assessed", "review_due", "days_overdue", "state", "detail",
    "changed_on", "status",
)  # fmt: skip


def _services(session: Session) -> list:
    """Each service not retired, with its provider (if any) and its latest assessment (if any): the latest
    date, of two on a day the later recorded."""
    s, p, a = Service.__table__.c, Provider.__table__.c, RiskAssessment.__table__.alias("a")
    latest = (
        select(RiskAssessment.__table__.c.id)
        .where(RiskAssessment.__table__.c.service_id == s.id)
        .order_by(RiskAssessment.__table__.c.assessed_on.desc(), RiskAssessment.__table__.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(
            s.id,
            s.name,
            s.category,
            s.status,
            s.review_months,
            s.position,
            p.name.label("provider"),
            a.c.id.label("assessment_id"),
            a.c.assessed_on,
            a.c.next_review,
            a.c.recorded_at,
            a.c.conditions,
            a.c.conditions_due,
        )
        .select_from(
            Service.__table__.outerjoin(Provider.__table__, s.provider_id == p.id).outerjoin(
                a, a.c.id == latest
            )
        )
        .where(s.status != "retired")
    )
    return session.connection().execute(query).all()


def _outdating_changes(session: Session, as_of: date) -> dict[int, list]:
    c = ServiceChange.__table__.c
    query = (
        select(c.service_id, c.changed_on, c.recorded_at, c.field, c.before, c.after, c.effect)
        .where(c.effect.in_(sorted(OUTDATING)), c.changed_on <= as_of)
        .order_by(c.changed_on, c.id)
    )
    changes: dict[int, list] = defaultdict(list)
    for row in session.connection().execute(query):
        changes[row.service_id].append(row)
    return changes


def _conditions_met(session: Session) -> set[int]:
    e = AssessmentEvent.__table__.c
    query = select(e.risk_assessment_id).where(e.kind == "condition-met")
    return set(session.connection().execute(query).scalars())


def overdue_assessments(
    session: Session, *, as_of: date, within_days: int = 30, today: date | None = None
) -> list[dict]:
    # Bounded, so that the date arithmetic below cannot overflow (as of 9999-12-31, within 10**12 days).
    check_as_of(as_of, today or date.today())
    check_within(within_days)
    settings = get_settings(session)
    changes = _outdating_changes(session, as_of)
    met = _conditions_met(session)
    horizon = as_of + timedelta(days=within_days)
    # review_date, remembered: many services share an assessment date and interval.
    due_of = lru_cache(maxsize=None)(review_date)
    school_months = settings.review_months
    rows = []
    for service in _services(session):
        last = service if service.assessment_id is not None else None
        found = _findings(service, last, changes, met, due_of, school_months, as_of, horizon)
        for state, due, detail, changed_on in found:
            rows.append(
                {
                    "service": service.name,
                    "category": service.category,
                    "provider": service.provider,
                    "last_assessed": format_date(last.assessed_on if last else None),
                    "review_due": format_date(due),
                    "days_overdue": (as_of - due).days if due is not None else None,
                    "state": state,
                    "detail": detail,
                    "changed_on": format_date(changed_on),
                    "status": service.status,
                    "_order": (CATEGORY_ORDER.index(service.category), service.position, service.id),
                }
            )
    # Never assessed first (nobody has looked at all), then outdated, then the most overdue; within each, the
    # register's order.
    rows.sort(key=lambda r: (STATE_ORDER[r["state"]], -(r["days_overdue"] or 0), r["_order"]))
    for r in rows:
        del r["_order"]
    return rows


def _findings(
    service, last, changes, met, due_of, school_months: int, as_of: date, horizon: date
) -> list[tuple]:
    """(state, due, detail, changed_on) for each thing the report says about one service."""
    if last is None:
        return [("never-assessed", None, None, None)]
    found = []
    since = changes_since(changes.get(service.id, []), last)
    if since:
        # The review falls due on the day the service changed.
        first = since[0].changed_on
        detail = "; ".join(
            f"{describe(c.field, c.before, c.after, c.effect)} ({c.changed_on.isoformat()})" for c in since
        )
        found.append(("changed-since-assessed", first, detail, first))
    else:
        due = due_of(last.assessed_on, last.next_review, service.review_months or school_months)
        if due < as_of:
            found.append(("overdue", due, None, None))
        elif due <= horizon:
            found.append(("due-soon", due, None, None))
    if last.conditions and last.conditions_due is not None and last.assessment_id not in met:
        if last.conditions_due < as_of:
            found.append(
                ("condition-overdue", last.conditions_due, f"condition not met: {last.conditions}", None)
            )
        elif last.conditions_due <= horizon:
            found.append(
                ("condition-due-soon", last.conditions_due, f"condition open: {last.conditions}", None)
            )
    return found
