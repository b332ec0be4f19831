"""Reading consent back: one pupil's history and status, and what a subject-access request shows."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from cloudctl.db.models import ConsentEvent, Provider, ReplyCode, Service, ServiceVersion
from cloudctl.domain.consent import (
    NEEDS_RENEWAL,
    OPT_IN,
    OPTED_IN,
    ServiceRule,
    Standing,
    consent_service,
    pupil_services,
    standings,
    status_for,
)
from cloudctl.domain.pupils import get_pupil
from cloudctl.domain.services import categories_of, year_codes_of
from cloudctl.domain.upn_identity import pupil_by_upn


def consent_history(
    session: Session, upn: str, service_name: str | None = None, category: str | None = None
) -> list[dict]:
    """Every event for the pupil (named by their UPN or one it replaced), oldest first, with what the parent
    was told at the time."""
    pupil = pupil_by_upn(session, upn)[0]
    query = (
        select(ConsentEvent, Service, ServiceVersion, ReplyCode)
        .join(Service, ConsentEvent.service_id == Service.id)
        .join(ServiceVersion, ConsentEvent.service_version_id == ServiceVersion.id)
        .outerjoin(ReplyCode, ConsentEvent.reply_code_id == ReplyCode.id)
        .where(ConsentEvent.pupil_id == pupil.id)
    )
    if service_name is not None:
        query = query.where(ConsentEvent.service_id == consent_service(session, service_name, category).id)
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
            # The consent form the answer came back on (its reply code and the day it was issued), if any.
            **_form_evidence(form),
        }
        for event, service, version, form in rows
    ]


def _form_evidence(form: ReplyCode | None) -> dict:
    from cloudctl.vocab.reply_code import format_reply_code

    if form is None:
        return {"form": None, "form_code": None, "form_issued_on": None}
    code, issued_on = format_reply_code(form.code), str(form.issued_on)[:10]
    return {"form": f"{code} of {issued_on}", "form_code": code, "form_issued_on": issued_on}


def consent_status(session: Session, upn: str) -> list[dict]:
    """The pupil's standing (named by their UPN or one it replaced) with every service for pupils or
    parents."""
    pupil = pupil_by_upn(session, upn)[0]
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
    """Every service that holds, or may still hold, this pupil's data: the subject-access view.

    School-management and statutory services in use hold it without consent (for a pupil who has
    left, what they held up to then). A pupil service holds it from an opt-in until an opt-out,
    even when the consent now needs renewal or the pupil is no longer exported to it: the basis
    says which, so the school knows what to ask the provider.
    """
    pupil = get_pupil(session, upn)
    latest = standings(session, pupil_ids=[pupil.id])
    left = ""
    if not pupil.on_roll:
        left = (
            f" (held while on roll: the pupil left on {pupil.left_on})"
            if pupil.left_on
            else " (held while on roll)"
        )
    rows = []
    query = (
        select(Service, Provider)
        .outerjoin(Provider, Service.provider_id == Provider.id)
        .order_by(Service.category, Service.position)
    )
    for service, provider in session.exec(query):
        basis = None
        if service.category in ("management", "statutory") and service.status == "approved":
            why = "needed to run the school" if service.category == "management" else "legal obligation"
            if service.year_scope == "selected":
                basis = f"{why} (only if the pupil takes part){left}"
            elif service.year_scope == "years" and pupil.year_group in year_codes_of(service):
                basis = why + left
        elif service.category == "pupil":
            standing = latest.get((pupil.id, service.id))
            if standing is not None and standing.decision == OPT_IN:
                basis = _consent_basis(status_for(service, pupil, standing), standing, service)
        if basis is not None:
            rows.append(
                {
                    "service": service.name,
                    "category": service.category,
                    "provider": provider.name if provider else None,
                    "basis": basis,
                    "data_shared": categories_of(service),
                }
            )
    return rows


def _consent_basis(status: str, standing: Standing, service: Service) -> str:
    since = standing.effective_on
    if status == OPTED_IN:
        return "parent's consent"
    if status == NEEDS_RENEWAL:
        reason = ServiceRule.of(service).renewal_reason(standing.told, since)
        return f"parent's consent of {since}, which needs renewal: {reason}"
    why = "the service is retired" if service.status == "retired" else "the pupil is no longer eligible"
    return f"parent's consent of {since}; no longer sent ({why}): ask the provider to delete what it holds"


def subject_access(session: Session, upn: str) -> dict:
    """What a subject-access request asks: the pupil's record, every service that holds their data now,
    and their full consent history. A UPN that `pupil change-upn` replaced finds the pupil: a request may
    quote the UPN the school used when the data was sent."""
    from cloudctl.domain.pupils import show_pupil_record

    record = show_pupil_record(session, pupil_by_upn(session, upn)[0].upn)
    record["services_holding_data"] = services_holding_data(session, record["upn"])
    record["consent_history"] = consent_history(session, record["upn"])
    record["exports"] = exports_carrying(session, record["upn"])
    record["deletions"] = deletions_of(session, record["upn"])
    record["held_by"] = held_by(session, record["upn"])
    return record


def held_by(session: Session, upn: str) -> list[dict]:
    """Each provider the ledger says was sent the pupil's data, per service, and where that stands: held,
    held with a deletion requested, or deleted (confirmed). From `holdings`, as deletions and --changes."""
    from cloudctl.domain.holdings import holdings
    from cloudctl.domain.pupils import get_pupil

    pupil_id = get_pupil(session, upn).id
    names = dict(session.connection().execute(select(Service.id, Service.name)).all())
    rows = []
    for holding in holdings(session, pupil_ids=[pupil_id]).values():
        if holding.sent_at is None:
            continue  # deletions asked of a management service: listed under "deletions"
        status = ("deletion requested" if holding.open_requests else "held") if holding.held else "deleted"
        rows.append(
            {
                "service": names.get(holding.service_id, ""),
                "provider": holding.provider_name,
                "status": status,
                "last_sent": holding.sent_at[:10],
                "upns_sent": list(holding.upns_sent),
                "deletion_requested_on": holding.open_requests[-1].on_date if holding.open_requests else None,
                "deleted_on": holding.deleted_on,
            }
        )
    return sorted(rows, key=lambda row: (row["service"], row["provider"]))


def deletions_of(session: Session, upn: str) -> list[dict]:
    """Every deletion asked of a provider for the pupil, and every confirmation, oldest first."""
    from cloudctl.domain.deletions import pupil_deletions
    from cloudctl.domain.pupils import get_pupil

    return pupil_deletions(session, get_pupil(session, upn).id)


def exports_carrying(session: Session, upn: str) -> list[dict]:
    """Every recorded export that carried the pupil (Art. 15(1)(c): the recipients), oldest first."""
    from cloudctl.domain.export_ledger import pupil_exports
    from cloudctl.domain.pupils import get_pupil

    return pupil_exports(session, get_pupil(session, upn).id)
