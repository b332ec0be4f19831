"""The register document in and out: importing a published register, and publishing the database's."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from cloudctl.db.models import Provider, RegisterSection, RiskAssessment
from cloudctl.domain.assessments import follow_latest_assessment, latest_assessments
from cloudctl.domain.providers import ensure_provider
from cloudctl.domain.services import (
    OPTIONAL_TEXT_FIELDS,
    ServiceFields,
    add_service,
    edit_service,
    find_services,
    ordered_services,
)
from cloudctl.domain.settings import get_settings
from cloudctl.domain.vocabulary import CATEGORIES, CATEGORY_ORDER
from cloudctl.errors import InvalidInput
from cloudctl.importers.register_document import (
    RegisterDocument,
    RegisterEntry,
    parse_register_document,
)
from cloudctl.importers.register_document import (
    RegisterSection as DocumentSection,
)
from cloudctl.vocab.dates import parse_date

IMPORTED_BY = "Published register (imported)"
AWAITING_TEXT = "Awaiting Assessment (Not currently approved for use)"
NOT_APPROVED_SUFFIX = "(Not approved for use)"

# Document labels that map onto service columns; anything else is kept in extra_fields.
_KNOWN_LABELS = {
    "service_provider",
    "website",
    "purpose",
    "data_shared",
    "potential_data_shared",
    "controls",
    "service_type",
    "year_groups_enrolled",
    "risk_assessment_date",
    "privacy_policy",
    *OPTIONAL_TEXT_FIELDS,
}


@dataclass
class Change:
    action: str  # added, updated, unchanged
    service: str
    category: str
    fields: list[str] = field(default_factory=list)

    def record(self) -> dict:
        return {
            "action": self.action,
            "service": self.service,
            "category": self.category,
            "fields": self.fields,
        }


@dataclass(frozen=True)
class RiskText:
    """What an entry's "Risk assessment date" says: a date, and whether the service was approved."""

    assessed_on: date | None
    outcome: str | None


def parse_risk_text(text: str, *, line: int, service: str) -> RiskText:
    lowered = text.lower()
    if not text.strip() or "awaiting" in lowered:
        return RiskText(None, None)
    date_part = text.split("(", 1)[0].strip()
    try:
        assessed_on = parse_date(date_part, what="risk assessment date")
    except InvalidInput as error:
        raise InvalidInput(f"line {line}, entry '{service}': {error.message}") from error
    outcome = "rejected" if "not approved" in lowered else "approved"
    return RiskText(assessed_on, outcome)


def format_risk_text(assessed_on: date | None, outcome: str | None) -> str:
    if assessed_on is None:
        return AWAITING_TEXT
    # A date on the 1st publishes as its month, as registers write them ("March 2018").
    text = assessed_on.strftime("%B %Y") if assessed_on.day == 1 else f"{assessed_on.day} {assessed_on:%B %Y}"
    return f"{text} {NOT_APPROVED_SUFFIX}" if outcome == "rejected" else text


def _fields_from_entry(section: DocumentSection, entry: RegisterEntry) -> ServiceFields:
    values = entry.fields
    data = values.get("data_shared")
    if data is None:
        data = values.get("potential_data_shared", "")
    extra = {label: value for label, value in values.items() if label not in _KNOWN_LABELS}
    return ServiceFields(
        provider=values["service_provider"],
        purpose=values.get("purpose", ""),
        data_shared=data,
        service_type=values.get("service_type", ""),
        year_groups=values.get("year_groups_enrolled", ""),
        website=values.get("website", ""),
        controls=values.get("controls", ""),
        privacy_url=values.get("privacy_policy"),
        extra=extra,
        **{name: values.get(name) for name in OPTIONAL_TEXT_FIELDS},
    )


def import_register(session: Session, text: str) -> list[Change]:
    """Add or update every entry of the document; the caller commits, or rolls back for a dry run."""
    document = parse_register_document(text)
    settings = get_settings(session)
    if document.school_name and not settings.school_name:
        settings.school_name = document.school_name
    settings.register_title = document.title or settings.register_title
    settings.preamble = "\n\n".join(document.preamble)
    session.add(settings)
    for section in document.sections:
        stored = session.get(RegisterSection, section.category) or RegisterSection(category=section.category)
        stored.heading, stored.intro = section.heading, "\n\n".join(section.intro)
        session.add(stored)
    session.flush()

    changes = []
    seen: set[tuple[str, str]] = set()
    for section in document.sections:
        for entry in section.entries:
            key = (entry.name.casefold(), section.category)
            if key in seen:
                raise InvalidInput(
                    f"line {entry.line}: '{entry.name}' appears twice in the section '{section.heading}'. "
                    "Each service may appear once in each section: merge the two entries."
                )
            seen.add(key)
            changes.append(_import_entry(session, section, entry))
    return changes


def _import_entry(session: Session, section: DocumentSection, entry: RegisterEntry) -> Change:
    fields = _fields_from_entry(section, entry)
    risk = parse_risk_text(entry.fields.get("risk_assessment_date", ""), line=entry.line, service=entry.name)
    try:
        ensure_provider(session, fields.provider)
        existing = find_services(session, entry.name, section.category)
        if existing:
            service, changed = edit_service(session, entry.name, fields, category=section.category)
            change = Change("updated" if changed else "unchanged", service.name, section.category, changed)
        else:
            service = add_service(session, entry.name, section.category, fields)
            change = Change("added", service.name, section.category)
    except InvalidInput as error:
        raise InvalidInput(f"line {entry.line}, entry '{entry.name}': {error.message}") from error
    if risk.assessed_on is not None:
        already = session.exec(
            select(RiskAssessment.id).where(
                RiskAssessment.service_id == service.id, RiskAssessment.assessed_on == risk.assessed_on
            )
        ).first()
        if already is None:
            session.add(
                RiskAssessment(
                    service_id=service.id,
                    assessed_on=risk.assessed_on,
                    assessed_by=IMPORTED_BY,
                    outcome=risk.outcome,
                    notes="Date as written in the published register.",
                )
            )
            session.flush()
            follow_latest_assessment(session, service)
            if change.action == "unchanged":
                change.action = "updated"
            change.fields.append("risk assessment")
    session.flush()
    return change


def build_register_document(session: Session) -> RegisterDocument:
    """The register as a document, from the database: what `register publish` renders."""
    settings = get_settings(session)
    stored = {section.category: section for section in session.exec(select(RegisterSection)).all()}
    latest = latest_assessments(session)
    by_category: dict[str, list[RegisterEntry]] = {category: [] for category in CATEGORY_ORDER}
    for service, provider in ordered_services(session):
        by_category[service.category].append(_entry_for(service, provider, latest.get(service.id)))
    sections = []
    for category in CATEGORY_ORDER:
        section = stored.get(category)
        if section is None and not by_category[category]:
            continue
        sections.append(
            DocumentSection(
                category=category,
                heading=section.heading if section else CATEGORIES[category],
                intro=[part for part in (section.intro.split("\n\n") if section else []) if part],
                entries=by_category[category],
            )
        )
    return RegisterDocument(
        school_name=settings.school_name,
        title=settings.register_title,
        preamble=[part for part in settings.preamble.split("\n\n") if part],
        sections=sections,
    )


def _entry_for(service, provider: Provider, latest: RiskAssessment | None) -> RegisterEntry:
    fields: dict[str, str] = {"service_provider": provider.name}
    if service.website:
        fields["website"] = service.website
    if service.category == "other":
        fields["potential_data_shared"] = service.data_shared_text
        fields["controls"] = service.controls or ""
        if service.purpose:
            fields["purpose"] = service.purpose
        if service.service_type:
            fields["service_type"] = service.service_type
        if service.year_groups_text:
            fields["year_groups_enrolled"] = service.year_groups_text
    else:
        fields["purpose"] = service.purpose
        fields["data_shared"] = service.data_shared_text
        fields["service_type"] = service.service_type
        fields["year_groups_enrolled"] = service.year_groups_text
        if service.controls:
            fields["controls"] = service.controls
    for name in OPTIONAL_TEXT_FIELDS:
        if getattr(service, name):
            fields[name] = getattr(service, name)
    if service.privacy_url:
        fields["privacy_policy"] = service.privacy_url
    fields.update(json.loads(service.extra_fields))
    fields["risk_assessment_date"] = format_risk_text(
        latest.assessed_on if latest else None, latest.outcome if latest else None
    )
    return RegisterEntry(name=service.name, fields=fields, line=0)
