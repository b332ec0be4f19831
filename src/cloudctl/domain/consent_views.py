"""Reading consent back: one pupil's history and status, and what a subject-access request shows."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from cloudctl.db.models import ConsentEvent, Provider, Service, ServiceVersion
from cloudctl.domain.consent import OPTED_IN, pupil_services, standings, status_for
from cloudctl.domain.pupils import get_pupil
from cloudctl.domain.services import categories_of, get_service, year_codes_of


def consent_history(session: Session, upn: str, service_name: str | None = None) -> list[dict]:
    """Every event for the pupil, oldest first, with what the parent was told at the time."""
    pupil = get_pupil(session, upn)
    query = (
        select(ConsentEvent, Service, ServiceVersion)
        .join(Service, ConsentEvent.service_id == Service.id)
        .join(ServiceVersion, ConsentEvent.service_version_id == ServiceVersion.id)
        .where(ConsentEvent.pupil_id == pupil.id)
    )
    if service_name is not None:
        query = query.where(ConsentEvent.service_id == get_service(session, service_name).id)
    rows = session.exec(query.order_by(ConsentEvent.effective_on, ConsentEvent.id)).all()
    return [
        {
            "upn": pupil.upn,
            "date": event.effective_on.isoformat(),
            "service": service.name,
            "decision": event.decision,
            "given_by": event.given_by,
            "relationship": event.relationship,
            "method": event.method,
            "recorded_by": event.recorded_by,
            "recorded_at": event.recorded_at.isoformat(timespec="seconds"),
            "note": event.note,
            "told_purpose": version.purpose,
            "told_data": json.loads(version.data_categories),
        }
        for event, service, version in rows
    ]


def consent_status(session: Session, upn: str) -> list[dict]:
    """The pupil's standing with every service for pupils or parents."""
    pupil = get_pupil(session, upn)
    latest = standings(session, pupil_ids=[pupil.id])
    rows = []
    for service in pupil_services(session):
        standing = latest.get((pupil.id, service.id))
        if service.status == "retired" and standing is None:
            continue
        rows.append(
            {
                "upn": pupil.upn,
                "service": service.name,
                "service_status": service.status,
                "status": status_for(service, pupil, standing),
                "since": standing.effective_on if standing else None,
                "given_by": standing.given_by if standing else None,
            }
        )
    return rows


def services_holding_data(session: Session, upn: str) -> list[dict]:
    """Every service that holds this pupil's data now: the school-management and statutory services in use,
    and pupil services while opted in. This is the subject-access view of where a child's data goes."""
    pupil = get_pupil(session, upn)
    latest = standings(session, pupil_ids=[pupil.id])
    rows = []
    query = (
        select(Service, Provider)
        .join(Provider, Service.provider_id == Provider.id)
        .where(Service.status != "retired")
        .order_by(Service.category, Service.position)
    )
    for service, provider in session.exec(query):
        if service.category in ("management", "statutory"):
            basis = "needed to run the school" if service.category == "management" else "legal obligation"
            in_years = service.year_scope == "years" and pupil.year_group in year_codes_of(service)
            if service.year_scope == "selected":
                basis += " (only if the pupil takes part)"
            holds = (
                pupil.on_roll
                and service.status == "approved"
                and (in_years or service.year_scope == "selected")
            )
        elif service.category == "pupil":
            status = status_for(service, pupil, latest.get((pupil.id, service.id)))
            holds = status == OPTED_IN
            basis = "parent's consent"
        else:
            holds = False
            basis = ""
        if holds:
            rows.append(
                {
                    "service": service.name,
                    "category": service.category,
                    "provider": provider.name,
                    "basis": basis,
                    "data_shared": categories_of(service),
                }
            )
    return rows


def subject_access(session: Session, upn: str) -> dict:
    """What a subject-access request asks: the pupil's record, every service that holds their data now,
    and their full consent history."""
    from cloudctl.domain.pupils import show_pupil_record

    record = show_pupil_record(session, upn)
    record["services_holding_data"] = services_holding_data(session, record["upn"])
    record["consent_history"] = consent_history(session, record["upn"])
    return record
