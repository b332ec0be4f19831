"""The minimised enrolment export: only the children, and only the fields, a provider may receive.

A pupil is exported when on roll, eligible for the service, and opted in with a
consent that covers the data the service receives now. The columns are exactly
the pupil fields the register's data categories allow, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from cloudctl.db.models import Pupil, Service
from cloudctl.domain.consent import OPTED_IN, ServiceRule, Standings, standings
from cloudctl.domain.export_ledger import FULL, SentPupil
from cloudctl.domain.services import categories_of, get_service
from cloudctl.errors import RuleRefused
from cloudctl.vocab.data_categories import lookup

# Column order of the export; "full_name" gives forename and surname.
COLUMN_ORDER = ("upn", "forename", "surname", "surname_initial", "dob", "gender", "year_group", "class_name")


def allowed_columns(categories: list[str]) -> list[str]:
    fields: set[str] = set()
    for name in categories:
        category = lookup(name)
        if category is None or category.pupil_field is None:
            continue
        if category.pupil_field == "full_name":
            fields.update(("forename", "surname"))
        else:
            fields.add(category.pupil_field)
    return [column for column in COLUMN_ORDER if column in fields]


def _value(pupil: Pupil, column: str) -> str | None:
    # Pupils are known by their preferred names at school and in the apps they use.
    forename = pupil.preferred_forename or pupil.forename
    surname = pupil.preferred_surname or pupil.surname
    if column == "forename":
        return forename
    if column == "surname":
        return surname
    if column == "surname_initial":
        return surname[:1].upper()
    if column == "dob":
        return pupil.dob.isoformat()
    return getattr(pupil, column)


@dataclass
class Selection:
    """What a full export of a service sends now: its columns, and its rows in file order.

    `pupil_ids` and `upns` run parallel to `rows`. `rule` and `standings` are what decided, kept
    so a caller (--changes, deletions) can say why a pupil is not in it without deciding again."""

    service: Service
    rule: ServiceRule
    columns: list[str]
    rows: list[dict] = field(default_factory=list)
    pupil_ids: list[int] = field(default_factory=list)
    upns: list[str] = field(default_factory=list)
    standings: Standings | None = None


def exportable_service(
    session: Session, service_name: str, category: str | None = None, *, removals_only: bool = False
) -> Service:
    """The service, if an enrolment export may be made for it; refused plainly otherwise. With
    `removals_only` (a --changes file, which for a service that is not approved only removes), a service
    that is not approved is allowed: nothing new is sent to it."""
    service = get_service(session, service_name, category)
    if service.category != "pupil":
        raise RuleRefused(
            f"'{service.name}' is not a service for pupils or parents, so it has no enrolment export: "
            "enrolment exports carry only children whose parents opted in."
        )
    if service.provider_id is None:
        raise RuleRefused(
            f"'{service.name}' has no provider in the register, so there is no one to send its pupils' data "
            f'to. Say who provides it first: cloudctl service edit "{service.name}" --category '
            f"{service.category} --provider NAME"
        )
    if service.status != "approved" and not removals_only:
        state = "is not approved" if service.status == "not-approved" else (
            f"is {service.status.replace('-', ' ')}, not approved"
        )  # fmt: skip
        raise RuleRefused(
            f"'{service.name}' {state}, so no pupil's data may be sent to it. Record an approving risk "
            "assessment first (cloudctl assess record; a high-risk approval also needs its sign-off: "
            "cloudctl assess sign-off). What its provider holds can still be removed: cloudctl export "
            f'enrolment "{service.name}" --changes, or cloudctl deletion request.'
        )
    return service


def selection(
    session: Session,
    service_name: str,
    category: str | None = None,
    *,
    allow_no_fields: bool = False,
    removals_only: bool = False,
) -> Selection:
    """The pupils a full export sends now (on roll, eligible, opted in with consent covering the
    service's data), with only the fields the register allows. The one place that selection is made.

    With `removals_only`, a service that is not approved is not refused: it is sent no one now (no rows),
    so a --changes file for it only removes what its provider holds."""
    service = exportable_service(session, service_name, category, removals_only=removals_only)
    columns = allowed_columns(categories_of(service))
    if not columns and not allow_no_fields:
        raise RuleRefused(
            f"The register lists no pupil fields that '{service.name}' receives "
            f"({service.data_shared_text or 'no data shared'}), so there is nothing to export."
        )
    rule = ServiceRule.of(service)
    chosen = Selection(service, rule, columns, standings=standings(session, service_ids=[service.id]))
    if not columns or service.status != "approved":
        return chosen
    pupils = session.exec(
        select(Pupil)
        .where(Pupil.on_roll)
        .order_by(Pupil.class_name, Pupil.surname, Pupil.forename, Pupil.upn)
    ).all()
    latest = chosen.standings
    for pupil in pupils:
        if rule.status_for(pupil.on_roll, pupil.year_group, latest.get((pupil.id, service.id))) == OPTED_IN:
            chosen.rows.append({column: _value(pupil, column) for column in columns})
            chosen.pupil_ids.append(pupil.id)
            chosen.upns.append(pupil.upn)
    return chosen


def enrolment_export(
    session: Session, service_name: str, category: str | None = None
) -> tuple[list[str], list]:
    """The columns and rows a provider may receive for this service."""
    chosen = selection(session, service_name, category)
    return chosen.columns, chosen.rows


def sent_pupils(chosen: Selection) -> list[SentPupil]:
    """The ledger's rows for a full export of this selection."""
    return [
        SentPupil(pupil_id, upn, FULL, row)
        for pupil_id, upn, row in zip(chosen.pupil_ids, chosen.upns, chosen.rows, strict=True)
    ]


def file_text(fmt: str, columns: list[str], rows: list[dict]) -> str:
    """The file as written: CSV through the formula guard, or JSON."""
    if fmt == "csv":
        import io

        from cloudctl.exporters.csv_safe import write_csv

        buffer = io.StringIO()
        write_csv(buffer, columns, rows)
        return buffer.getvalue()
    import json

    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
