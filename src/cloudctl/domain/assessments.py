"""Risk assessments (DPIAs): recorded as history, and the review dates that follow from them."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from cloudctl.db.models import RiskAssessment, SchoolSettings, Service, utcnow
from cloudctl.domain.service_records import review_date
from cloudctl.domain.services import get_service
from cloudctl.domain.settings import get_settings
from cloudctl.domain.vocabulary import APPROVING_OUTCOMES, parse_outcome
from cloudctl.errors import InvalidInput, RuleRefused


def record_assessment(
    session: Session,
    service_name: str,
    *,
    assessed_on: date,
    assessed_by: str,
    outcome: str,
    next_review: date | None = None,
    notes: str | None = None,
    reference: str | None = None,
    category: str | None = None,
    today: date | None = None,
) -> tuple[Service, RiskAssessment]:
    service = get_service(session, service_name, category)
    outcome = parse_outcome(outcome)
    assessed_by = " ".join(assessed_by.split())
    if not assessed_by:
        raise InvalidInput("Say who carried out the assessment with --by NAME.")
    if assessed_on > (today or date.today()):
        raise InvalidInput(
            f"The assessment date {assessed_on.isoformat()} is in the future: record an assessment once "
            "it has been carried out."
        )
    if next_review is not None and next_review <= assessed_on:
        raise InvalidInput(
            f"The next review ({next_review.isoformat()}) must come after the assessment "
            f"({assessed_on.isoformat()})."
        )
    if service.status == "retired":
        raise RuleRefused(
            f"'{service.name}' is retired, so it is no longer assessed. Its history is kept: "
            f'cloudctl assess history "{service.name}".'
        )
    assessment = RiskAssessment(
        service_id=service.id,
        assessed_on=assessed_on,
        assessed_by=assessed_by,
        outcome=outcome,
        next_review=next_review,
        notes=(notes or "").strip() or None,
        reference=(reference or "").strip() or None,
    )
    session.add(assessment)
    session.flush()
    follow_latest_assessment(session, service)
    return service, assessment


def follow_latest_assessment(session: Session, service: Service) -> None:
    """Set the status from the latest assessment, which an older one recorded late must not override."""
    latest = session.exec(
        select(RiskAssessment)
        .where(RiskAssessment.service_id == service.id)
        .order_by(RiskAssessment.assessed_on.desc(), RiskAssessment.id.desc())
    ).first()
    if latest is None or service.status == "retired":
        return
    status = "approved" if latest.outcome in APPROVING_OUTCOMES else "not-approved"
    if service.status != status:
        service.status = status
        service.updated_at = utcnow()
        session.add(service)
        session.flush()


def latest_assessments(session: Session) -> dict[int, RiskAssessment]:
    """Each service's most recent assessment: the latest date, then the latest recorded."""
    latest: dict[int, RiskAssessment] = {}
    for assessment in session.exec(
        select(RiskAssessment).order_by(RiskAssessment.assessed_on, RiskAssessment.id)
    ):
        latest[assessment.service_id] = assessment
    return latest


def review_due(service: Service, latest: RiskAssessment | None, settings: SchoolSettings) -> date | None:
    """The assessor's chosen review date, else the assessment date plus the service's or school's interval."""
    if latest is None:
        return None
    return review_date(
        latest.assessed_on, latest.next_review, service.review_months or settings.review_months
    )


# The keys of each row of an assessment history, for the header of an empty CSV.
HISTORY_KEYS = (
    "service", "category", "assessed_on", "assessed_by", "outcome", "next_review", "next_review_set",
    "reference", "notes", "recorded_at",
)  # fmt: skip


def assessment_history(
    session: Session, service_name: str, category: str | None = None
) -> tuple[Service, list]:
    service = get_service(session, service_name, category)
    assessments = session.exec(
        select(RiskAssessment)
        .where(RiskAssessment.service_id == service.id)
        .order_by(RiskAssessment.assessed_on, RiskAssessment.id)
    ).all()
    settings = get_settings(session)
    rows = []
    for assessment in assessments:
        rows.append(
            {
                "service": service.name,
                "category": service.category,
                "assessed_on": assessment.assessed_on.isoformat(),
                "assessed_by": assessment.assessed_by,
                "outcome": assessment.outcome,
                "next_review": review_due(service, assessment, settings).isoformat(),
                "next_review_set": assessment.next_review is not None,
                "reference": assessment.reference,
                "notes": assessment.notes,
                "recorded_at": assessment.recorded_at.isoformat(timespec="seconds"),
            }
        )
    return service, rows
