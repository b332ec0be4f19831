"""Which services' risk assessments are overdue, due soon, outdated by a change to the service, or were
never done; and which assessments' conditions are past their due date.

The facts come from four plain queries (services with their providers and latest assessments, the changes
that outdate an assessment, the conditions met, the school's review interval); the rules are
cloudctl.domain.service_records.review_date (when a review falls due) and
cloudctl.domain.service_changes.changes_since (what outdates an assessment). A service whose latest
assessment is outdated is listed as changed-since-assessed, its review due on the day of the first change
after it or on the review date it already had, whichever is earlier.

The queries go straight to the driver (cloudctl.db.fast_read.fetch_rows): on a trust's register of
thousands of services, SQLAlchemy's per-value type processing of the result (dates, datetimes) cost more
than the queries themselves (benchmarks/overdue_report.py, issue 12's 1.5x target). Each date is parsed
once, here (_day, _moment); the rules then see real dates and datetimes, as they would from the ORM.
Most services have no outdating change and no open condition: what they show depends on their assessment
date, review date and interval alone, so it is worked out once for each such three (_Reading.plain, which
tests/test_overdue_report_properties.py holds to what the full path shows), and each day is written out
once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from sqlmodel import Session

from cloudctl.db.fast_read import fetch_rows
from cloudctl.db.gc_pauses import without_gc_pauses
from cloudctl.db.models import SchoolSettings
from cloudctl.domain.service_changes import OUTDATING, changes_since, describe
from cloudctl.domain.service_records import review_date
from cloudctl.domain.vocabulary import CATEGORY_ORDER
from cloudctl.vocab.dates import check_as_of, check_within

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

# Each service not retired, with its provider (if any) and its latest assessment (if any): the latest
# date, of two on a day the later recorded. In the register's position order (the report's last tie-break).
SERVICES_SQL = """
SELECT s.id, s.name, s.category, s.status, s.review_months, p.name,
       a.id, a.assessed_on, a.next_review, a.recorded_at, a.conditions, a.conditions_due
FROM service s
LEFT JOIN provider p ON p.id = s.provider_id
LEFT JOIN risk_assessment a ON a.id = (
    SELECT r.id FROM risk_assessment r WHERE r.service_id = s.id
    ORDER BY r.assessed_on DESC, r.id DESC LIMIT 1
)
WHERE s.status <> ?
ORDER BY s.position, s.id
"""
# The changes that can outdate an assessment (widening or changed), oldest first.
CHANGES_SQL = """
SELECT c.service_id, c.changed_on, c.recorded_at, c.field, c.before, c.after, c.effect
FROM service_change c WHERE c.effect IN (?, ?) ORDER BY c.changed_on, c.id
"""
CONDITIONS_MET_SQL = "SELECT risk_assessment_id FROM assessment_event WHERE kind = ?"
SCHOOL_MONTHS_SQL = "SELECT review_months FROM school_settings WHERE id = ?"


def _day(value: object) -> date | None:
    # SQLite hands dates back as ISO text, PostgreSQL as dates.
    return date.fromisoformat(value[:10]) if value.__class__ is str else value  # type: ignore[index,return-value]


def _moment(value: object) -> datetime:
    # SQLite hands date-times back as ISO text, PostgreSQL as datetimes.
    return datetime.fromisoformat(value) if value.__class__ is str else value  # type: ignore[arg-type,return-value]


class Change(NamedTuple):
    """An outdating change, with what changes_since and describe read of it."""

    changed_on: date
    recorded_at: datetime
    field: str
    before: str | None
    after: str | None
    effect: str


class Assessed(NamedTuple):
    """What changes_since reads of an assessment."""

    assessed_on: date
    recorded_at: datetime


def _outdating_changes(session: Session, as_of: date) -> dict[int, list[Change]]:
    changes: dict[int, list[Change]] = defaultdict(list)
    for service_id, changed_on, recorded_at, field, before, after, effect in fetch_rows(
        session, CHANGES_SQL, sorted(OUTDATING)
    ):
        day = _day(changed_on)
        if day <= as_of:  # type: ignore[operator]
            changes[service_id].append(Change(day, _moment(recorded_at), field, before, after, effect))  # type: ignore[arg-type]
    return changes


def _school_review_months(session: Session) -> int:
    """The school's interval between reviews (get_settings(session).review_months, read lean)."""
    found = fetch_rows(session, SCHOOL_MONTHS_SQL, (1,))
    return found[0][0] if found else SchoolSettings.model_fields["review_months"].default


def _conditions_met(session: Session) -> set[int]:
    return {row[0] for row in fetch_rows(session, CONDITIONS_MET_SQL, ("condition-met",))}


@without_gc_pauses
def overdue_assessments(
    session: Session, *, as_of: date, within_days: int = 30, today: date | None = None
) -> list[dict]:
    # Bounded, so that the date arithmetic below cannot overflow (as of 9999-12-31, within 10**12 days).
    check_as_of(as_of, today or date.today())
    check_within(within_days)
    reading = _Reading(as_of, as_of + timedelta(days=within_days))
    school_months = _school_review_months(session)
    changes = _outdating_changes(session, as_of)
    met = _conditions_met(session)
    section_rank = {category: rank for rank, category in enumerate(CATEGORY_ORDER)}
    # What a service with no outdating change and no open condition shows depends only on its assessment
    # date, review date and interval, as the driver gave them: worked out once for each such three.
    plain: dict[tuple, tuple | None] = {}
    found_rows: list[tuple[int, dict]] = []
    append = found_rows.append
    # One pass over plain rows: no ORM objects, each date parsed once (None stays None).
    for (
        service_id, name, category, status, review_months, provider,
        assessment_id, assessed_on, next_review, recorded_at, conditions, conditions_due,
    ) in fetch_rows(session, SERVICES_SQL, ("retired",)):  # fmt: skip
        if assessment_id is None:
            last_assessed, shown = None, NEVER_ASSESSED
        elif service_id not in changes and (not conditions or conditions_due is None or assessment_id in met):
            key = (assessed_on, next_review, review_months or school_months)
            known = plain.get(key, _UNKNOWN)
            if known is _UNKNOWN:
                known = plain[key] = reading.plain(*key)
            if known is None:
                continue  # not listed: its review falls due after the horizon
            last_assessed, shown = known  # type: ignore[misc]
        else:
            assessed = _day(assessed_on)
            last_assessed = _last_assessed(assessed_on, assessed)  # type: ignore[arg-type]
            shown = reading.shown(
                reading.findings(
                    assessed,  # type: ignore[arg-type]
                    None if next_review is None else _day(next_review),
                    review_months or school_months,
                    recorded_at,
                    conditions,
                    None if conditions_due is None else _day(conditions_due),
                    assessment_id in met,
                    changes.get(service_id),
                )
            )
        for state, review_due, days, detail, changed_on, order in shown:
            append(
                (
                    order + section_rank[category],
                    {
                        "service": name,
                        "category": category,
                        "provider": provider,
                        "last_assessed": last_assessed,
                        "review_due": review_due,
                        "days_overdue": days,
                        "state": state,
                        "detail": detail,
                        "changed_on": changed_on,
                        "status": status,
                    },
                )
            )
    # Never assessed first (nobody has looked at all), then outdated, then the most overdue; within each,
    # the register's order: by section, then position and id (the rows' order: the sort is stable).
    found_rows.sort(key=itemgetter(0))
    return [row for _, row in found_rows]


def _last_assessed(raw: object, assessed: date) -> str:
    # The driver's text where it is text (SQLite), else the date written out (PostgreSQL).
    return raw[:10] if raw.__class__ is str else assessed.isoformat()  # type: ignore[index]


_UNKNOWN = object()

# The sort key (state, most days overdue first, section) packed in one integer: sorting integers is several
# times faster than sorting tuples. Days lie within +-(date.max - date.min).days < 2**22 and sections
# number fewer than 8, so each part keeps to its own bits and the integers order as the tuples would.
_DAYS_BITS, _SECTION_BITS = 23, 3
assert len(CATEGORY_ORDER) <= 1 << _SECTION_BITS


def _order_key(state: str, days: int, section_rank: int) -> int:
    state_and_days = (STATE_ORDER[state] << _DAYS_BITS) + (1 << (_DAYS_BITS - 1)) - days
    return (state_and_days << _SECTION_BITS) + section_rank


# A service never assessed, as shown: (state, review_due, days_overdue, detail, changed_on, sort key).
NEVER_ASSESSED = (("never-assessed", None, None, None, None, _order_key("never-assessed", 0, 0)),)


class _Reading:
    """One report's rules (as of a day, looking ahead to `horizon`), with what it works out more than once
    remembered: review dates, days written out (date.isoformat is slow), changes described."""

    def __init__(self, as_of: date, horizon: date) -> None:
        self.as_of = as_of
        self.horizon = horizon
        # review_date, remembered: many services share an assessment date and interval.
        self.due_of = lru_cache(maxsize=None)(review_date)
        self.days: dict[date, tuple[str, int]] = {}
        self.described: dict[tuple, str] = {}

    def review(self, due: date) -> tuple[str, date] | None:
        """The review's state and due date when the report lists it: overdue, or due soon (by the
        horizon); None when it falls due after."""
        if due < self.as_of:
            return ("overdue", due)
        if due <= self.horizon:
            return ("due-soon", due)
        return None

    def findings(
        self,
        assessed_on: date,
        next_review: date | None,
        months: int,
        recorded_at: object,
        conditions: str | None,
        conditions_due: date | None,
        condition_met: bool,
        changes: list[Change] | None,
    ) -> list[tuple]:
        """(state, due, detail, changed_on) for each thing the report says about one assessed service: its
        latest assessment (assessed_on ... condition_met) and the outdating changes to it."""
        found = []
        # recorded_at (as the driver gave it) is parsed only where there are changes to compare it with.
        since = changes_since(changes, Assessed(assessed_on, _moment(recorded_at))) if changes else ()  # type: ignore[arg-type]
        if since:
            # The review falls due on the day the service changed, or on the review date it already had if
            # that came first: a change never hides a review already overdue.
            first = since[0].changed_on
            due = min(first, self.due_of(assessed_on, next_review, months))
            detail = "; ".join(f"{self.describe(c)} ({self.day(c.changed_on)[0]})" for c in since)
            found.append(("changed-since-assessed", due, detail, first))
        else:
            review = self.review(self.due_of(assessed_on, next_review, months))
            if review is not None:
                found.append((*review, None, None))
        if conditions and conditions_due is not None and not condition_met:
            if conditions_due < self.as_of:
                found.append(("condition-overdue", conditions_due, f"condition not met: {conditions}", None))
            elif conditions_due <= self.horizon:
                found.append(("condition-due-soon", conditions_due, f"condition open: {conditions}", None))
        return found

    def plain(self, assessed_on: object, next_review: object, months: int) -> tuple | None:
        """(last_assessed, what `shown` gives) of an assessed
        service with no outdating change and no open condition, from its assessment date, review date and
        interval as the driver gave them; None when the report does not list it. What findings and shown
        give for it (tests/test_overdue_report_properties.py), without their lists."""
        if assessed_on.__class__ is str:  # SQLite: text
            last_assessed = assessed_on[:10]  # type: ignore[index]
            assessed = date.fromisoformat(last_assessed)
        else:  # PostgreSQL: a date
            assessed = assessed_on  # type: ignore[assignment]
            last_assessed = assessed.isoformat()
        next_day = None if next_review is None else _day(next_review)
        review = self.review(review_date(assessed, next_day, months))
        if review is None:
            return None
        state, due = review
        review_due, days = self.day(due)
        return last_assessed, ((state, review_due, days, None, None, _order_key(state, days, 0)),)

    def shown(self, found: list[tuple]) -> list[tuple]:
        """Each finding as a row shows it: (state, review_due, days_overdue, detail, changed_on, sort key
        but the section)."""
        shown = []
        for state, due, detail, changed_on in found:
            review_due, days = self.day(due)
            shown.append(
                (
                    state,
                    review_due,
                    days,
                    detail,
                    None if changed_on is None else self.day(changed_on)[0],
                    _order_key(state, days, 0),
                )
            )
        return shown

    def day(self, day: date) -> tuple[str, int]:
        """The day written out, and how many days before the report's date it is."""
        known = self.days.get(day)
        if known is None:
            known = self.days[day] = (day.isoformat(), (self.as_of - day).days)
        return known

    def describe(self, change: Change) -> str:
        key = (change.field, change.before, change.after, change.effect)
        said = self.described.get(key)
        if said is None:
            said = self.described[key] = describe(*key)
        return said
