"""Which services' risk assessments are overdue, due soon, or were never done."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from cloudctl.domain.assessments import latest_assessments, review_due
from cloudctl.domain.services import ordered_services
from cloudctl.domain.settings import get_settings
from cloudctl.vocab.dates import check_as_of, check_within, format_date

STATE_ORDER = {"never-assessed": 0, "overdue": 1, "due-soon": 2}


def overdue_assessments(
    session: Session, *, as_of: date, within_days: int = 30, today: date | None = None
) -> list[dict]:
    # Bounded, so that the date arithmetic below cannot overflow (as of 9999-12-31, within 10**12 days).
    check_as_of(as_of, today or date.today())
    check_within(within_days)
    settings = get_settings(session)
    latest = latest_assessments(session)
    horizon = as_of + timedelta(days=within_days)
    rows = []
    for service, provider in ordered_services(session):
        last = latest.get(service.id)
        due = review_due(service, last, settings)
        if due is None:
            state, days = "never-assessed", None
        elif due < as_of:
            state, days = "overdue", (as_of - due).days
        elif due <= horizon:
            state, days = "due-soon", (as_of - due).days
        else:
            continue
        rows.append(
            {
                "service": service.name,
                "category": service.category,
                "provider": provider.name if provider else None,
                "last_assessed": format_date(last.assessed_on if last else None),
                "review_due": format_date(due),
                "days_overdue": days,
                "state": state,
                # Last, as in the CSV: a column beyond the report's own.
                "status": service.status,
            }
        )
    # Never assessed first (nobody has looked at all), then the most overdue.
    rows.sort(key=lambda row: (STATE_ORDER[row["state"]], -(row["days_overdue"] or 0), row["service"]))
    return rows
