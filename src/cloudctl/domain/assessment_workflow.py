"""The risk assessment as a workflow: screening, the assessment (residual risk, conditions), conditions
met, and sign-off. Each step is a recorded event in the service's assessment history.

The rules, in one place:

- Screening (ICO, "When do we need to do a DPIA?" and its list of processing likely to result in high
  risk): every question is answered yes or no. A full DPIA is required when any of `STANDALONE` is yes
  (the ICO requires a DPIA for these on their own), or when two or more questions are yes (the others on
  the ICO's list need a DPIA in combination with any other criterion; two criteria is the EDPB's rule).
- An approval whose residual risk is high needs a sign-off by the role the school sets (DPO unless
  `cloudctl init --sign-off-role` says otherwise). The assessment is recorded as "approved pending
  sign-off" and the service is not approved until that sign-off is recorded.
- A sign-off counts when it was given by the role the school required AT THE TIME it was recorded
  (`sign_off_counts`, the one rule the service's status and `assess history` both ask): a later change of
  the setting neither undoes a valid sign-off nor validates one by another role. The setting keeps no
  history, so each sign-off records the role required then (in the event's `verdict`).
- A condition is open from the assessment until `assess condition-met`; past its due date it is overdue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from cloudctl.db.models import AssessmentEvent, RiskAssessment, SchoolSettings, Service
from cloudctl.domain.settings import get_settings
from cloudctl.domain.vocabulary import APPROVING_OUTCOMES
from cloudctl.errors import InvalidInput, NothingToDo, RuleRefused
from cloudctl.vocab.dates import check_event_date
from cloudctl.vocab.text import gate_name, gate_text

# The screening questions: key, and the question as the command prints it.
QUESTIONS: dict[str, str] = {
    "special-category": "Special-category or criminal-offence data (health, SEN, religion, ethnicity)?",
    "children": "Profiling children, marketing to them, or an online service offered directly to them?",
    "new-technology": "New technology, or a new use of existing technology (including AI)?",
    "outside-uk": "Personal data stored or accessed outside the UK?",
    "matching": "Combining, comparing or matching data from more than one source?",
    "monitoring": "Systematic monitoring of pupils (filtering and monitoring logs, CCTV, keystrokes)?",
    "large-scale": "Large scale (the whole school or trust, or many pupils' records)?",
    "denial": "Deciding access to a service or benefit (automatically, or on special-category data)?",
    "biometric": "Biometric or genetic data (fingerprints, face recognition)?",
    "tracking": "Tracking pupils' location or behaviour (online or offline)?",
    "invisible": "Invisible processing: data not obtained from the pupil or parent, with no privacy notice?",
}
# Each of these answered yes requires a full DPIA on its own.
STANDALONE = ("children", "matching", "denial")
RULE = (
    "A full DPIA is required when any of " + ", ".join(STANDALONE) + " is yes (the ICO requires one for "
    "these on their own), or when two or more questions are yes (the rest need one in combination)."
)
REQUIRED, NOT_REQUIRED = "full-dpia-required", "full-dpia-not-required"
ROLES = ("DPO", "headteacher", "governor")
RISKS = ("low", "medium", "high")
_YES, _NO = {"yes", "y", "true"}, {"no", "n", "false"}


def parse_answers(text: str) -> dict[str, bool]:
    """`special-category=yes,children=no,...`: every question answered once, yes or no."""
    text = gate_text(text, "screening answers (--answers)", required=True) or ""
    answers: dict[str, bool] = {}
    valid = ", ".join(QUESTIONS)
    for item in (part.strip() for part in text.replace(";", ",").split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip().lower()
        if key not in QUESTIONS:
            raise InvalidInput(f'"{key}" is not a screening question. The questions are: {valid}.')
        if not sep or value not in _YES | _NO:
            raise InvalidInput(f'Answer "{key}" with yes or no, like {key}=yes.')
        if key in answers:
            raise InvalidInput(f'"{key}" is answered twice: answer each question once.')
        answers[key] = value in _YES
    missing = [key for key in QUESTIONS if key not in answers]
    if missing:
        raise InvalidInput(
            f"Every screening question needs an answer; not answered: {', '.join(missing)}. "
            f"Give them like --answers {missing[0]}=no."
        )
    return {key: answers[key] for key in QUESTIONS}


def screening_verdict(answers: dict[str, bool]) -> tuple[str, str]:
    """The verdict and why, from complete answers (a pure function of them)."""
    yes = [key for key in QUESTIONS if answers.get(key)]
    alone = [key for key in yes if key in STANDALONE]
    if alone:
        return REQUIRED, f"{', '.join(alone)} answered yes: a full DPIA is required."
    if len(yes) >= 2:
        return REQUIRED, f"{len(yes)} questions answered yes ({', '.join(yes)}): a full DPIA is required."
    if yes:
        return NOT_REQUIRED, f"Only {yes[0]} answered yes: a full DPIA is not required; keep the screening."
    return NOT_REQUIRED, "No question answered yes: a full DPIA is not required; keep the screening."


@dataclass(frozen=True)
class StepRecorded:
    service: Service
    event: AssessmentEvent | None
    message: str


def _service(session: Session, name: str, category: str | None) -> Service:
    from cloudctl.domain.services import get_service

    service = get_service(session, name, category)
    if service.status == "retired":
        raise RuleRefused(
            f"'{service.name}' is retired, so it is no longer assessed. Its history is kept: "
            f'cloudctl assess history "{service.name}".'
        )
    return service


def screen_service(
    session: Session,
    name: str,
    answers_text: str,
    *,
    on: date | None = None,
    by: str | None = None,
    category: str | None = None,
    today: date | None = None,
) -> StepRecorded:
    today = today or date.today()
    service = _service(session, name, category)
    answers = parse_answers(answers_text)
    by = gate_name(by, "screener's name (--by)", required=False)
    on = check_event_date(on or today, "screening date", today)
    verdict, why = screening_verdict(answers)
    latest = session.exec(
        select(AssessmentEvent)
        .where(AssessmentEvent.service_id == service.id, AssessmentEvent.kind == "screening")
        .order_by(AssessmentEvent.id.desc())  # type: ignore[union-attr]
    ).first()
    if (
        latest is not None
        and latest.occurred_on == on
        and latest.by_name == by
        and json.loads(latest.answers or "{}") == answers
    ):
        # The same screening again (same day, screener and answers): it stands already.
        raise NothingToDo(
            f"Nothing recorded: '{service.name}' was already screened on {on.isoformat()} with these "
            f"answers{' by ' + by if by else ''}. {why}"
        )
    event = AssessmentEvent(
        service_id=service.id,
        kind="screening",
        occurred_on=on,
        by_name=by,
        answers=json.dumps(answers),
        verdict=verdict,
    )
    session.add(event)
    session.flush()
    return StepRecorded(service, event, f"Screened '{service.name}' on {on.isoformat()}. {why} {RULE}")


def latest_assessment(session: Session, service: Service) -> RiskAssessment | None:
    return session.exec(
        select(RiskAssessment)
        .where(RiskAssessment.service_id == service.id)
        .order_by(RiskAssessment.assessed_on.desc(), RiskAssessment.id.desc())
    ).first()


def events_of(session: Session, assessment: RiskAssessment, kind: str) -> list[AssessmentEvent]:
    return list(
        session.exec(
            select(AssessmentEvent)
            .where(AssessmentEvent.risk_assessment_id == assessment.id, AssessmentEvent.kind == kind)
            .order_by(AssessmentEvent.id)
        )
    )


def needs_sign_off(assessment: RiskAssessment) -> bool:
    """An approval whose residual risk is high."""
    return assessment.outcome in APPROVING_OUTCOMES and assessment.residual_risk == "high"


def required_role(event: AssessmentEvent, settings: SchoolSettings) -> str:
    """The role the school required when this sign-off was recorded. A sign-off recorded before cloudctl
    kept it (none has it) is taken to be under the setting as it stands: the best there is to go on."""
    return event.verdict or settings.sign_off_role


def sign_off_counts(event: AssessmentEvent, settings: SchoolSettings) -> bool:
    """Whether a sign-off completes a high-risk approval: given by the role required when it was recorded."""
    return event.kind == "sign-off" and event.role == required_role(event, settings)


def awaiting_sign_off(session: Session, assessment: RiskAssessment, settings: SchoolSettings) -> bool:
    """Whether this approval still waits for a sign-off that counts (`sign_off_counts`)."""
    if not needs_sign_off(assessment):
        return False
    return not any(sign_off_counts(event, settings) for event in events_of(session, assessment, "sign-off"))


def parse_role(text: str) -> str:
    text = gate_text(text, "role (--role)", required=True) or ""
    for role in ROLES:
        if text.strip().lower() == role.lower():
            return role
    raise InvalidInput(f'"{text}" is not a sign-off role: use one of {", ".join(ROLES)}.')


def parse_risk(text: str | None) -> str | None:
    if text is None:
        return None
    text = (gate_text(text, "residual risk (--residual-risk)") or "").strip().lower()
    if text not in RISKS:
        raise InvalidInput(f'"{text}" is not a residual risk: use one of {", ".join(RISKS)}.')
    return text


def _assessed(session: Session, service: Service, what: str) -> RiskAssessment:
    assessment = latest_assessment(session, service)
    if assessment is None:
        raise RuleRefused(
            f"'{service.name}' has no risk assessment to {what}: "
            "record one first with cloudctl assess record."
        )
    return assessment


def sign_off(
    session: Session,
    name: str,
    *,
    by: str,
    role: str,
    on: date | None = None,
    category: str | None = None,
    today: date | None = None,
) -> StepRecorded:
    """A sign-off of the service's latest assessment. The one by the school's sign-off role completes a
    high-risk approval; others are recorded too (a headteacher's countersignature)."""
    from cloudctl.domain.assessments import follow_latest_assessment

    today = today or date.today()
    service = _service(session, name, category)
    by = gate_name(by, "name of who signs off (--by)", required=True)
    role = parse_role(role)
    on = check_event_date(on or today, "sign-off date", today)
    assessment = _assessed(session, service, "sign off")
    if on < assessment.assessed_on:
        raise InvalidInput(
            f"The sign-off ({on.isoformat()}) cannot come before the assessment it signs off "
            f"({assessment.assessed_on.isoformat()})."
        )
    settings = get_settings(session)
    for event in events_of(session, assessment, "sign-off"):
        # The same person and role again changes nothing, unless the role required has changed since: then
        # the sign-off given again is judged under today's requirement, so it is recorded.
        if (
            event.role == role
            and event.by_name == by
            and required_role(event, settings) == settings.sign_off_role
        ):
            return StepRecorded(
                service,
                None,
                f"Nothing recorded: {by} ({role}) already signed off the assessment of "
                f"{assessment.assessed_on.isoformat()} on {event.occurred_on.isoformat()}.",
            )
    event = AssessmentEvent(
        service_id=service.id,
        risk_assessment_id=assessment.id,
        kind="sign-off",
        occurred_on=on,
        by_name=by,
        role=role,
        # The role the school requires now: what this sign-off is judged by, whatever the setting becomes.
        verdict=settings.sign_off_role,
    )
    session.add(event)
    session.flush()
    follow_latest_assessment(session, service)
    message = (
        f"Recorded the sign-off by {by} ({role}) on {on.isoformat()} of the assessment of "
        f"{assessment.assessed_on.isoformat()}"
    )
    if awaiting_sign_off(session, assessment, settings):
        message += (
            f"; it still needs a sign-off by the {settings.sign_off_role}, "
            f"so '{service.name}' stays not approved."
        )
    elif needs_sign_off(assessment):
        message += f"; '{service.name}' is now approved."
    else:
        message += "."
    return StepRecorded(service, event, message)


def condition_met(
    session: Session,
    name: str,
    *,
    on: date,
    category: str | None = None,
    today: date | None = None,
) -> StepRecorded:
    today = today or date.today()
    service = _service(session, name, category)
    check_event_date(on, "date the condition was met (--date)", today)
    assessment = _assessed(session, service, "meet a condition of")
    if not assessment.conditions:
        raise RuleRefused(
            f"The latest assessment of '{service.name}' ({assessment.assessed_on.isoformat()}) "
            "set no conditions."
        )
    met = events_of(session, assessment, "condition-met")
    if met:
        # Already standing: a repeat is not a failure (exit 0), and nothing is written.
        raise NothingToDo(
            f"Nothing recorded: the condition was already met on {met[0].occurred_on.isoformat()} (the "
            f"conditions of the assessment of {assessment.assessed_on.isoformat()} of '{service.name}')."
        )
    if on < assessment.assessed_on:
        raise InvalidInput(
            f"The condition cannot be met ({on.isoformat()}) before the assessment that set it "
            f"({assessment.assessed_on.isoformat()})."
        )
    event = AssessmentEvent(
        service_id=service.id, risk_assessment_id=assessment.id, kind="condition-met", occurred_on=on
    )
    session.add(event)
    session.flush()
    return StepRecorded(
        service,
        event,
        f"Recorded that the conditions of the assessment of {assessment.assessed_on.isoformat()} of "
        f"'{service.name}' were met on {on.isoformat()}.",
    )
