"""Services as plain records for output: the fields every list, show and export agrees on.

`service list` is the command people run most, so the records come from one SQL query and no ORM: loading
the SQLModel classes and compiling ORM queries would cost more than everything else the command does.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import text
from sqlmodel import Session

from cloudctl.domain.vocabulary import CATEGORY_ORDER
from cloudctl.vocab.data_categories import is_sensitive, is_special
from cloudctl.vocab.dates import add_months, format_date

# The school's interval when `cloudctl init` has not been run: SchoolSettings' default.
DEFAULT_REVIEW_MONTHS = 12

# Every service record's keys, in order: a CSV of an empty list still needs its header.
RECORD_KEYS = (
    "name", "provider", "category", "purpose", "data_shared", "data_shared_text", "special_category_data",
    "sensitive_data", "service_type", "year_groups", "selected_only", "year_groups_text", "status", "website",
    "controls", "last_assessed", "last_outcome", "review_due", "review_months", "lawful_basis",
    "special_category_condition", "storage_location", "storage_detail", "retention", "privacy_url", "owner",
    "other_fields",
)  # fmt: skip

# Each service with its provider and its latest assessment (the latest date; of two on a day, the later one).
_SELECT = """
SELECT s.id, s.name, p.name AS provider, s.category, s.purpose, s.data_categories, s.data_shared_text,
       s.service_type, s.year_codes, s.year_scope, s.year_groups_text, s.status, s.website, s.controls,
       s.review_months, s.lawful_basis, s.special_category_condition, s.storage_location, s.storage_detail,
       s.retention, s.privacy_url, s.owner, s.extra_fields, s.position,
       a.assessed_on, a.outcome, a.next_review
FROM service s
LEFT JOIN provider p ON p.id = s.provider_id
LEFT JOIN risk_assessment a ON a.id = (
    SELECT r.id FROM risk_assessment r WHERE r.service_id = s.id
    ORDER BY r.assessed_on DESC, r.id DESC LIMIT 1
)
"""


def review_date(assessed_on: date | None, next_review: date | None, months: int) -> date | None:
    """When a review falls due: the assessor's chosen date, else the assessment date plus the interval."""
    if assessed_on is None:
        return None
    if next_review is not None:
        return next_review
    return add_months(assessed_on, months)


def _as_date(value: object) -> date | None:
    # SQLite hands dates back as text, PostgreSQL as dates.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _record(row, school_months: int) -> dict:  # type: ignore[no-untyped-def]
    categories = json.loads(row.data_categories)
    assessed_on = _as_date(row.assessed_on)
    months = row.review_months or school_months
    return {
        "name": row.name,
        "provider": row.provider,
        "category": row.category,
        "purpose": row.purpose,
        "data_shared": categories,
        "data_shared_text": row.data_shared_text,
        # UK GDPR Art. 9 data (health), and everything needing extra care (SEN too).
        "special_category_data": [name for name in categories if is_special(name)],
        "sensitive_data": [name for name in categories if is_sensitive(name)],
        "service_type": row.service_type,
        "year_groups": [code for code in row.year_codes.split(",") if code],
        "selected_only": row.year_scope == "selected",
        "year_groups_text": row.year_groups_text,
        "status": row.status,
        "website": row.website,
        "controls": row.controls,
        "last_assessed": format_date(assessed_on),
        "last_outcome": row.outcome,
        "review_due": format_date(review_date(assessed_on, _as_date(row.next_review), months)),
        "review_months": months,
        "lawful_basis": row.lawful_basis,
        "special_category_condition": row.special_category_condition,
        "storage_location": row.storage_location,
        "storage_detail": row.storage_detail,
        "retention": row.retention,
        "privacy_url": row.privacy_url,
        "owner": row.owner,
        "other_fields": json.loads(row.extra_fields),
    }


def _records(session: Session, where: str, params: dict) -> list[dict]:
    connection = session.connection()
    school_months = connection.execute(
        text("SELECT review_months FROM school_settings WHERE id = 1")
    ).scalar()
    rows = connection.execute(text(f"{_SELECT} {where}"), params).all()
    rows.sort(key=lambda row: (CATEGORY_ORDER.index(row.category), row.position, row.id))
    return [_record(row, school_months or DEFAULT_REVIEW_MONTHS) for row in rows]


def list_service_records(
    session: Session, *, category: str | None = None, status: str | None = None, include_retired: bool = False
) -> list[dict]:
    """The register's services in its order; retired ones only when asked for (by --all or their status)."""
    clauses, params = [], {}
    if category is not None:
        clauses.append("s.category = :category")
        params["category"] = category
    if status is not None:
        clauses.append("s.status = :status")
        params["status"] = status
    elif not include_retired:
        clauses.append("s.status <> 'retired'")
    return _records(session, f"WHERE {' AND '.join(clauses)}" if clauses else "", params)


def show_service_record(session: Session, name: str, category: str | None = None) -> dict:
    from cloudctl.domain.services import get_service

    service = get_service(session, name, category)
    (record,) = _records(session, "WHERE s.id = :id", {"id": service.id})
    return record
