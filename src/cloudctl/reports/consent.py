"""Consent reports: the pupil-by-service matrix, and the teachers' offline-alternatives list.

Both read the pupils in scope and then only those pupils' events, so the report for
one class costs in proportion to the class, not the school.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session

from cloudctl.db.fast_read import fetch_rows
from cloudctl.domain.consent import (
    NEEDS_RENEWAL,
    NO_RESPONSE,
    OPTED_OUT,
    STATUSES,
    ServiceRule,
    consent_service,
    standings,
)
from cloudctl.domain.lookup import suggestion
from cloudctl.errors import NotFound, RuleRefused

# Above this many pupils, reading every event once beats a long IN (...) list.
_WHOLE_SCHOOL_THRESHOLD = 500


@dataclass
class ConsentMatrix:
    services: list[str]
    rows: list[dict]
    totals: list[dict]


_PUPIL_COLUMNS = "id, upn, forename, surname, preferred_forename, preferred_surname, class_name, year_group"


@dataclass(frozen=True)
class _Pupil:
    id: int
    upn: str
    forename: str
    surname: str
    class_name: str | None
    year_group: str


def resolve_class_name(session: Session, class_name: str) -> str:
    """The class as the MIS spells it, matched without regard to case."""
    rows = fetch_rows(session, "SELECT DISTINCT class_name FROM pupil WHERE on_roll = ?", [True])
    names = {name for (name,) in rows if name}
    wanted = " ".join(class_name.split()).casefold()
    matches = [name for name in names if name.casefold() == wanted]
    if len(matches) == 1:
        return matches[0]
    raise NotFound(
        f"No pupil on roll is in class {class_name}.{suggestion(class_name, names)} "
        "See the classes with: cloudctl pupil list"
    )


def _pupils(session: Session, class_name: str | None) -> list[_Pupil]:
    sql = f"SELECT {_PUPIL_COLUMNS} FROM pupil WHERE on_roll = ?"
    if class_name is None:
        rows = fetch_rows(session, sql, [True])
    else:
        # The exact spelling uses the class index; only a miss pays for matching without case.
        sql += " AND class_name = ?"
        rows = fetch_rows(session, sql, [True, " ".join(class_name.split())])
        if not rows:
            rows = fetch_rows(session, sql, [True, resolve_class_name(session, class_name)])
    pupils = [
        _Pupil(id_, upn, preferred_forename or forename, preferred_surname or surname, class_, year)
        for id_, upn, forename, surname, preferred_forename, preferred_surname, class_, year in rows
    ]
    pupils.sort(key=lambda pupil: (pupil.class_name or "", pupil.surname, pupil.forename, pupil.upn))
    return pupils


def _rules(session: Session, service_name: str | None) -> list[ServiceRule]:
    if service_name is not None:
        service = consent_service(session, service_name)
        if service.category != "pupil":
            raise RuleRefused(
                f"'{service.name}' is not a service for pupils or parents ({service.category}), and only "
                "those take consent. See the register's sections with: cloudctl service list"
            )
        return [ServiceRule.of(service)]
    return ServiceRule.for_pupil_services(session)


def _standings_for(session: Session, pupils, rules: list[ServiceRule]):
    service_ids = [rule.id for rule in rules]
    if len(pupils) > _WHOLE_SCHOOL_THRESHOLD:
        return standings(session, service_ids=service_ids)
    return standings(session, pupil_ids=[pupil.id for pupil in pupils], service_ids=service_ids)


def consent_matrix(session: Session, *, class_name: str | None = None, service_name: str | None = None):
    pupils = _pupils(session, class_name)
    rules = _rules(session, service_name)
    latest = _standings_for(session, pupils, rules)
    # Most cells have no event: their status follows from the year group alone. Start every pupil
    # from those, then apply the pupils' events; a whole school is a million cells.
    defaults: dict[str, dict[str, str]] = {}
    for pupil in pupils:
        if pupil.year_group not in defaults:
            defaults[pupil.year_group] = {rule.name: rule.default_status(pupil.year_group) for rule in rules}
    consent_of = {pupil.id: dict(defaults[pupil.year_group]) for pupil in pupils}
    year_of = {pupil.id: pupil.year_group for pupil in pupils}
    for pupil_id, service, status in latest.event_statuses(rules, year_of):
        consent_of[pupil_id][service] = status
    rows = [
        {
            "upn": pupil.upn,
            "forename": pupil.forename,
            "surname": pupil.surname,
            "class_name": pupil.class_name,
            "year_group": pupil.year_group,
            "consent": consent_of[pupil.id],
        }
        for pupil in pupils
    ]
    counts = Counter((name, status) for consent in consent_of.values() for name, status in consent.items())
    totals = [
        {
            "service": rule.name,
            **{status.replace("-", "_"): counts[(rule.name, status)] for status in STATUSES},
        }
        for rule in rules
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
                        "forename": pupil.forename,
                        "surname": pupil.surname,
                        "status": status,
                    }
                )
    rows.sort(key=lambda row: (row["service"], row["class_name"] or "", row["surname"], row["forename"]))
    return rows
