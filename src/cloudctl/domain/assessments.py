"""Risk assessments (DPIAs): recorded as history, and the review dates that follow from them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from cloudctl.db.models import AssessmentEvent, RiskAssessment, SchoolSettings, Service, ServiceChange, utcnow
from cloudctl.domain.assessment_workflow import (
    awaiting_sign_off,
    needs_sign_off,
    parse_risk,
    required_role,
    sign_off_counts,
)
from cloudctl.domain.service_records import review_date
from cloudctl.domain.services import get_service
from cloudctl.domain.settings import get_settings
from cloudctl.domain.vocabulary import APPROVING_OUTCOMES, parse_outcome
from cloudctl.errors import InvalidInput, RuleRefused
from cloudctl.vocab.dates import check_event_date, check_future_date, format_date
from cloudctl.vocab.text import gate_name, gate_prose, gate_text


@dataclass(frozen=True)
class AssessmentRecorded:
    """What `record_assessment` did: the assessment (new, or the identical one already recorded) and why."""

    service: Service
    assessment: RiskAssessment
    recorded: bool
    message: str


_STATUS_WORDS = {
    "approved": "approved",
    "not-approved": "not approved",
    "awaiting-assessment": "awaiting assessment",
}


def record_assessment(
    session: Session,
    service_name: str,
    *,
    assessed_on: date,
    assessed_by: str | None,
    outcome: str,
    next_review: date | None = None,
    notes: str | None = None,
    reference: str | None = None,
    category: str | None = None,
    today: date | None = None,
    residual_risk: str | None = None,
    conditions: str | None = None,
    conditions_due: date | None = None,
) -> AssessmentRecorded:
    """Record a risk assessment as history, or nothing when the identical one (same service, date,
    outcome and assessor) is already recorded. The message says which, and what the service now is."""
    today = today or date.today()
    service = get_service(session, service_name, category)
    outcome = parse_outcome(gate_text(outcome, "outcome (--outcome)", required=True) or "")
    assessed_by = gate_name(assessed_by, "assessor's name (--by)", required=False)
    if assessed_by is None:
        raise InvalidInput("Say who carried out the assessment with --by NAME.")
    notes = gate_prose(notes, "notes (--notes)")
    reference = gate_text(reference, "reference (--reference)")
    residual_risk = parse_risk(residual_risk)
    conditions = gate_prose(conditions, "conditions (--conditions)")
    check_event_date(assessed_on, "assessment date", today)
    if conditions_due is not None:
        if conditions is None:
            raise InvalidInput(
                "--conditions-due needs the conditions it is for: give them with --conditions."
            )
        check_future_date(conditions_due, "date the conditions are due (--conditions-due)", today)
        if conditions_due < assessed_on:
            raise InvalidInput(
                f"The conditions cannot be due ({conditions_due.isoformat()}) before the assessment that "
                f"sets them ({assessed_on.isoformat()})."
            )
    if next_review is not None:
        check_future_date(next_review, "next review date", today)
        if next_review <= assessed_on:
            raise InvalidInput(
                f"The next review ({next_review.isoformat()}) must come after the assessment "
                f"({assessed_on.isoformat()})."
            )
    if service.status == "retired":
        raise RuleRefused(
            f"'{service.name}' is retired, so it is no longer assessed. Its history is kept: "
            f'cloudctl assess history "{service.name}".'
        )
    article = "an" if outcome[0] in "aeiou" else "a"
    what = (
        f"{article} {outcome} assessment of '{service.name}' ({service.category}) "
        f"on {assessed_on.isoformat()} by {assessed_by}"
    )
    same_day = session.exec(
        select(RiskAssessment).where(
            RiskAssessment.service_id == service.id,
            RiskAssessment.assessed_on == assessed_on,
            RiskAssessment.outcome == outcome,
            RiskAssessment.assessed_by == assessed_by,
        )
    ).all()
    for earlier in same_day:
        given_differs = any(
            given is not None and given != kept
            for given, kept in (
                (notes, earlier.notes),
                (reference, earlier.reference),
                (next_review, earlier.next_review),
                (residual_risk, earlier.residual_risk),
                (conditions, earlier.conditions),
                (conditions_due, earlier.conditions_due),
            )
        )
        if not given_differs:
            return AssessmentRecorded(
                service, earlier, False, f"Nothing recorded: {what} is already recorded."
            )
    # Not identical to any: a second assessment that day (a higher residual risk found, a condition added)
    # is recorded after the first and becomes the latest, so what it says (a sign-off needed) is heard.
    # Assessments are history: the first stays as it was.
    status_before = service.status
    assessment = RiskAssessment(
        service_id=service.id,
        assessed_on=assessed_on,
        assessed_by=assessed_by,
        outcome=outcome,
        next_review=next_review,
        notes=notes,
        reference=reference,
        residual_risk=residual_risk,
        conditions=conditions,
        conditions_due=conditions_due,
    )
    session.add(assessment)
    session.flush()
    latest = follow_latest_assessment(session, service)
    status = _STATUS_WORDS.get(service.status, service.status)
    message = f"Recorded {what}; "
    if latest is not None and latest.id != assessment.id:
        message += (
            f"the later assessment of {latest.assessed_on.isoformat()} ({latest.outcome}) still decides, so "
            f"the service stays {status}."
        )
    elif service.status == status_before:
        message += f"the service stays {status}."
    else:
        message += f"the service is now {status}."
    settings = get_settings(session)
    if awaiting_sign_off(session, assessment, settings):
        message += (
            " The residual risk is high, so the approval is pending sign-off: "
            f"'{service.name}' is not approved "
            f'until the {settings.sign_off_role} signs it off with cloudctl assess sign-off "{service.name}" '
            f"--by NAME --role {settings.sign_off_role}."
        )
    return AssessmentRecorded(service, assessment, True, message)


def follow_latest_assessment(session: Session, service: Service) -> RiskAssessment | None:
    """Set the status from the latest assessment, which an older one recorded late must not override.
    Returns that latest assessment."""
    latest = session.exec(
        select(RiskAssessment)
        .where(RiskAssessment.service_id == service.id)
        .order_by(RiskAssessment.assessed_on.desc(), RiskAssessment.id.desc())
    ).first()
    if latest is None or service.status == "retired":
        return latest
    approving = latest.outcome in APPROVING_OUTCOMES
    # A high-risk approval waits for the school's sign-off role (cloudctl.domain.assessment_workflow).
    if approving and needs_sign_off(latest):
        approving = not awaiting_sign_off(session, latest, get_settings(session))
    status = "approved" if approving else "not-approved"
    if service.status != status:
        service.status = status
        service.updated_at = utcnow()
        session.add(service)
        session.flush()
    return latest


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
    "service", "category", "step", "assessed_on", "assessed_by", "outcome", "residual_risk", "conditions",
    "conditions_due", "conditions_met", "signed_off", "next_review", "next_review_set", "changed_since",
    "reference", "notes", "recorded_at",
)  # fmt: skip


def assessment_history(
    session: Session, service_name: str, category: str | None = None
) -> tuple[Service, list]:
    """Every screening and assessment of a service, oldest first; each assessment with its conditions,
    sign-offs and what changed in the service since it (until the next one)."""
    from cloudctl.domain.service_changes import changes_since, describe

    service = get_service(session, service_name, category)
    assessments = session.exec(
        select(RiskAssessment)
        .where(RiskAssessment.service_id == service.id)
        .order_by(RiskAssessment.assessed_on, RiskAssessment.id)
    ).all()
    events = session.exec(
        select(AssessmentEvent).where(AssessmentEvent.service_id == service.id).order_by(AssessmentEvent.id)
    ).all()
    changes = list(
        session.exec(
            select(ServiceChange)
            .where(ServiceChange.service_id == service.id)
            .order_by(ServiceChange.changed_on, ServiceChange.id)
        )
    )
    settings = get_settings(session)
    rows = []
    empty = dict.fromkeys(HISTORY_KEYS)
    for event in events:
        if event.kind != "screening":
            continue
        answered_yes = [key for key, yes in json.loads(event.answers or "{}").items() if yes]
        rows.append(
            {
                **empty,
                "service": service.name,
                "category": service.category,
                "step": "screening",
                "assessed_on": event.occurred_on.isoformat(),
                "assessed_by": event.by_name,
                "outcome": event.verdict,
                "next_review_set": False,
                "notes": "yes: " + ", ".join(answered_yes) if answered_yes else "no question answered yes",
                "recorded_at": event.recorded_at.isoformat(timespec="seconds"),
            }
        )
    for index, assessment in enumerate(assessments):
        later = assessments[index + 1] if index + 1 < len(assessments) else None
        since = [
            change
            for change in changes_since(changes, assessment)
            if later is None or change not in changes_since(changes, later)
        ]
        own = [event for event in events if event.risk_assessment_id == assessment.id]
        met = [event for event in own if event.kind == "condition-met"]
        signed = [event for event in own if event.kind == "sign-off"]
        outcome = assessment.outcome
        if awaiting_sign_off(session, assessment, settings):
            outcome += f" (pending {settings.sign_off_role} sign-off)"
        rows.append(
            {
                "service": service.name,
                "category": service.category,
                "step": "assessment",
                "assessed_on": assessment.assessed_on.isoformat(),
                "assessed_by": assessment.assessed_by,
                "outcome": outcome,
                "residual_risk": assessment.residual_risk,
                "conditions": assessment.conditions,
                "conditions_due": format_date(assessment.conditions_due),
                "conditions_met": met[0].occurred_on.isoformat() if met else None,
                "signed_off": "; ".join(_signed_off(event, settings) for event in signed) or None,
                "next_review": review_due(service, assessment, settings).isoformat(),
                "next_review_set": assessment.next_review is not None,
                "changed_since": "; ".join(
                    f"{describe(c.field, c.before, c.after, c.effect)} ({c.changed_on.isoformat()})"
                    for c in since
                )
                or None,
                "reference": assessment.reference,
                "notes": assessment.notes,
                "recorded_at": assessment.recorded_at.isoformat(timespec="seconds"),
            }
        )
    rows.sort(key=lambda row: (row["assessed_on"], row["step"] == "assessment"))
    return service, rows


def _signed_off(event: AssessmentEvent, settings: SchoolSettings) -> str:
    """A sign-off as the evidence reads: who, in what role, when; and, where it does not count
    (`sign_off_counts`), the role the school required when it was given."""
    role = event.role
    if not sign_off_counts(event, settings):
        role += f"; the school then required the {required_role(event, settings)}"
    return f"{event.by_name} ({role}) {event.occurred_on.isoformat()}"
