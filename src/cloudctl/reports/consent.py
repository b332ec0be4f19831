"""Consent reports: the pupil-by-service matrix, and the teachers' offline-alternatives list.

Both read the pupils in scope and then only those pupils' events, so the report for
one class costs in proportion to the class, not the school.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from cloudctl.db.models import Pupil
from cloudctl.domain.consent import (
    NEEDS_RENEWAL,
    NO_RESPONSE,
    OPTED_OUT,
    STATUSES,
    ServiceRule,
    pupil_services,
    standings,
)
from cloudctl.domain.services import get_service
from cloudctl.errors import NotFound

# Above this many pupils, reading every event once beats a long IN (...) list.
_WHOLE_SCHOOL_THRESHOLD = 500


@dataclass
class ConsentMatrix:
    services: list[str]
    rows: list[dict]
    totals: list[dict]


def _pupils(session: Session, class_name: str | None):
    query = select(
        Pupil.id,
        Pupil.upn,
        Pupil.forename,
        Pupil.surname,
        Pupil.preferred_forename,
        Pupil.preferred_surname,
        Pupil.class_name,
        Pupil.year_group,
    ).where(Pupil.on_roll)
    if class_name is not None:
        query = query.where(func.lower(Pupil.class_name) == class_name.strip().lower())
    pupils = session.exec(query.order_by(Pupil.class_name, Pupil.surname, Pupil.forename, Pupil.upn)).all()
    if class_name is not None and not pupils:
        raise NotFound(f"No pupil on roll is in class {class_name}. See the classes: cloudctl pupil list")
    return pupils


def _rules(session: Session, service_name: str | None) -> list[ServiceRule]:
    if service_name is not None:
        service = get_service(session, service_name, "pupil")
        return [ServiceRule.of(service)]
    return [ServiceRule.of(service) for service in pupil_services(session) if service.status != "retired"]


def _standings_for(session: Session, pupils, rules: list[ServiceRule]):
    service_ids = [rule.id for rule in rules]
    if len(pupils) > _WHOLE_SCHOOL_THRESHOLD:
        return standings(session, service_ids=service_ids)
    return standings(session, pupil_ids=[pupil.id for pupil in pupils], service_ids=service_ids)


def consent_matrix(session: Session, *, class_name: str | None = None, service_name: str | None = None):
    pupils = _pupils(session, class_name)
    rules = _rules(session, service_name)
    latest = _standings_for(session, pupils, rules)
    counts = {rule.name: dict.fromkeys(STATUSES, 0) for rule in rules}
    rows = []
    for pupil in pupils:
        consent = {}
        for rule in rules:
            status = rule.status_for(True, pupil.year_group, latest.get((pupil.id, rule.id)))
            consent[rule.name] = status
            counts[rule.name][status] += 1
        rows.append(
            {
                "upn": pupil.upn,
                "forename": pupil.preferred_forename or pupil.forename,
                "surname": pupil.preferred_surname or pupil.surname,
                "class_name": pupil.class_name,
                "year_group": pupil.year_group,
                "consent": consent,
            }
        )
    totals = [
        {"service": name, **{status.replace("-", "_"): count for status, count in by_status.items()}}
        for name, by_status in counts.items()
    ]
    return ConsentMatrix([rule.name for rule in rules], rows, totals)


def offline_alternatives(session: Session, *, class_name: str | None = None) -> list[dict]:
    """For each service and class, the eligible pupils without a current opt-in."""
    pupils = _pupils(session, class_name)
    rules = [rule for rule in _rules(session, None) if rule.status == "approved"]
    latest = _standings_for(session, pupils, rules)
    rows = []
    for rule in rules:
        for pupil in pupils:
            standing = latest.get((pupil.id, rule.id))
            selected = standing is not None and standing.selected
            if not rule.eligible(True, pupil.year_group, selected=selected):
                continue
            status = rule.status_for(True, pupil.year_group, standing)
            if status in (NO_RESPONSE, OPTED_OUT, NEEDS_RENEWAL):
                rows.append(
                    {
                        "service": rule.name,
                        "class_name": pupil.class_name,
                        "upn": pupil.upn,
                        "forename": pupil.preferred_forename or pupil.forename,
                        "surname": pupil.preferred_surname or pupil.surname,
                        "status": status,
                    }
                )
    rows.sort(key=lambda row: (row["service"], row["class_name"] or "", row["surname"], row["forename"]))
    return rows
