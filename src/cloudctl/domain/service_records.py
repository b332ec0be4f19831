"""Services as plain records for output: the fields every list, show and export agrees on."""

from __future__ import annotations

import json

from sqlmodel import Session

from cloudctl.db.models import Provider, RiskAssessment, SchoolSettings, Service
from cloudctl.domain.assessments import latest_assessments, review_due
from cloudctl.domain.services import categories_of, get_service, ordered_services, year_codes_of
from cloudctl.domain.settings import get_settings
from cloudctl.vocab.dates import format_date


def service_record(
    service: Service, provider: Provider, latest: RiskAssessment | None, settings: SchoolSettings
) -> dict:
    return {
        "name": service.name,
        "provider": provider.name,
        "category": service.category,
        "purpose": service.purpose,
        "data_shared": categories_of(service),
        "data_shared_text": service.data_shared_text,
        "service_type": service.service_type,
        "year_groups": list(year_codes_of(service)),
        "selected_only": service.year_scope == "selected",
        "year_groups_text": service.year_groups_text,
        "status": service.status,
        "website": service.website,
        "controls": service.controls,
        "last_assessed": format_date(latest.assessed_on if latest else None),
        "last_outcome": latest.outcome if latest else None,
        "review_due": format_date(review_due(service, latest, settings)),
        "review_months": service.review_months or settings.review_months,
        "lawful_basis": service.lawful_basis,
        "storage_location": service.storage_location,
        "storage_detail": service.storage_detail,
        "retention": service.retention,
        "privacy_url": service.privacy_url,
        "owner": service.owner,
        "other_fields": json.loads(service.extra_fields),
    }


def list_service_records(
    session: Session, *, category: str | None = None, status: str | None = None, include_retired: bool = False
) -> list[dict]:
    settings = get_settings(session)
    latest = latest_assessments(session)
    rows = ordered_services(session, category=category, status=status, include_retired=include_retired)
    return [service_record(service, provider, latest.get(service.id), settings) for service, provider in rows]


def show_service_record(session: Session, name: str, category: str | None = None) -> dict:
    service = get_service(session, name, category)
    provider = session.get(Provider, service.provider_id)
    latest = latest_assessments(session).get(service.id)
    return service_record(service, provider, latest, get_settings(session))
