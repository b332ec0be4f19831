"""The register document in and out: importing a published register, and publishing the database's."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from cloudctl.db.models import Provider, RegisterSection, RiskAssessment
from cloudctl.domain.assessments import follow_latest_assessment, latest_assessments
from cloudctl.domain.lookup import normalise_name
from cloudctl.domain.providers import ensure_provider
from cloudctl.domain.register_gate import WHAT, gate_document, refuse_control_characters
from cloudctl.domain.services import (
    OPTIONAL_TEXT_FIELDS,
    ServiceFields,
    add_service,
    edit_service,
    find_services,
    ordered_services,
)
from cloudctl.domain.settings import check_review_months, get_settings, school_years
from cloudctl.domain.vocabulary import CATEGORIES, CATEGORY_ORDER
from cloudctl.errors import CloudctlError, ImportRejected, InvalidInput, Problem
from cloudctl.importers.register_completeness import check_completeness
from cloudctl.importers.register_document import (
    RegisterDocument,
    RegisterEntry,
    parse_register_document,
)
from cloudctl.importers.register_document import (
    RegisterSection as DocumentSection,
)
from cloudctl.vocab.dates import check_event_date, parse_date

IMPORTED_BY = "Published register (imported)"
AWAITING_TEXT = "Awaiting Assessment (Not currently approved for use)"
NOT_APPROVED_SUFFIX = "(Not approved for use)"
WITH_CONDITIONS_SUFFIX = "(Approved with conditions)"

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
    "review_months",
    "privacy_policy",
    *OPTIONAL_TEXT_FIELDS,
}


@dataclass
class Change:
    """One part of the register an import adds, updates or leaves unchanged."""

    action: str  # added, updated, unchanged
    part: str  # document (the school's name, the title, the opening text), section, or entry
    service: str | None  # the entry's name
    category: str | None
    fields: list[str] = field(default_factory=list)

    def record(self) -> dict:
        return {
            "action": self.action,
            "part": self.part,
            "service": self.service,
            "category": self.category,
            "fields": self.fields,
        }


@dataclass
class RegisterImport:
    """What an import changed (or, in a dry run, would change), in the document's order, and its warnings."""

    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # How the file was read ("a CSV file, one row per service"), for the summary.
    shape: str = ""
    # The labels or columns that map to no field of cloudctl's, as written: kept with each service.
    kept_as_written: list[str] = field(default_factory=list)
    # Phrases of "data shared" that no data category recognises, and the services they come from.
    unrecognised_data: dict[str, list[str]] = field(default_factory=dict)
    # The document's own parts in words, for the summary: 'the title (was "A", now "B")'.
    other_changes: list[str] = field(default_factory=list)

    @property
    def entries(self) -> list[Change]:
        return [change for change in self.changes if change.part == "entry"]


@dataclass(frozen=True)
class RiskText:
    """What an entry's "Risk assessment date" says: a date, and whether the service was approved."""

    assessed_on: date | None
    outcome: str | None


def parse_risk_text(text: str, *, line: int, service: str, today: date | None = None) -> RiskText:
    lowered = text.lower()
    if not text.strip() or "awaiting" in lowered:
        return RiskText(None, None)
    date_part = text.split("(", 1)[0].strip()
    try:
        assessed_on = parse_date(date_part, what="risk assessment date")
        check_event_date(assessed_on, "risk assessment date", today or date.today())
    except InvalidInput as error:
        raise InvalidInput(f"line {line}, entry '{service}': {error.message}") from error
    if "not approved" in lowered:
        outcome = "rejected"
    elif re.search(r"\bwith\s+conditions\b", lowered):
        outcome = "approved-with-conditions"
    else:
        outcome = "approved"
    return RiskText(assessed_on, outcome)


def format_risk_text(assessed_on: date | None, outcome: str | None) -> str:
    if assessed_on is None:
        return AWAITING_TEXT
    # A date on the 1st publishes as its month, as registers write them ("March 2018").
    text = assessed_on.strftime("%B %Y") if assessed_on.day == 1 else f"{assessed_on.day} {assessed_on:%B %Y}"
    if outcome == "rejected":
        return f"{text} {NOT_APPROVED_SUFFIX}"
    if outcome == "approved-with-conditions":
        return f"{text} {WITH_CONDITIONS_SUFFIX}"
    return text


def format_review_months(months: int) -> str:
    """A service's own review interval as the register writes it: "6 months"."""
    return "1 month" if months == 1 else f"{months} months"


def parse_review_months(text: str) -> int | None:
    """A service's own review interval as a register writes it ("6 months", "6", "every 2 years"); None
    when blank (the school's interval applies, or what the service has stays); InvalidInput otherwise."""
    words = " ".join(text.lower().split())
    if not words:
        return None
    found = re.fullmatch(r"(?:every\s+)?(\d{1,4})\s*(months?|mths?|years?|yrs?)?", words)
    if found is None:
        raise InvalidInput(
            f'"{text.strip()[:40]}" is not a review interval: write a whole number of months, such as '
            '"6 months" or "24 months", or leave it empty for the school\'s interval.'
        )
    months = int(found.group(1)) * (12 if (found.group(2) or "").startswith("y") else 1)
    return check_review_months(months)


def _fields_from_entry(entry: RegisterEntry) -> ServiceFields:
    """The service's fields from an entry. A label the entry does not carry is None (left as it is); a label
    with nothing after it is "" (emptied), so a second import does not blank what the user filled in."""
    values = entry.fields
    data = values.get("data_shared")
    if data is None:
        data = values.get("potential_data_shared")
    extra = {label: value for label, value in values.items() if label not in _KNOWN_LABELS}
    # A register that never names providers (the service is the product) leaves the provider unset.
    provider = values.get("service_provider") or None
    return ServiceFields(
        provider=provider,
        purpose=values.get("purpose"),
        data_shared=data,
        service_type=values.get("service_type"),
        year_groups=values.get("year_groups_enrolled"),
        website=values.get("website"),
        controls=values.get("controls"),
        privacy_url=values.get("privacy_policy"),
        # Checked with the other problems first (_risk_problems), so this reads.
        review_months=parse_review_months(values.get("review_months") or ""),
        extra=extra,
        **{name: values.get(name) for name in OPTIONAL_TEXT_FIELDS},
    )


def import_register(session: Session, text: str) -> list[Change]:
    """The entries' changes only (see import_register_document for the whole)."""
    return import_register_document(session, text).entries


def import_register_document(
    session: Session, text: str, *, today: date | None = None, default_category: str | None = None
) -> RegisterImport:
    """Add or update every part of the document; the caller commits, or rolls back for a dry run.

    Nothing is written unless the whole document passes: the text gate on every line and value, the
    completeness check (a document cut short or with no entries is refused), and every date.
    `default_category` files the entries outside any section heading (a register without sections).
    """
    # Word's "Plain Text" writes a page break as a form feed: layout, not text, so it goes (the lines stay
    # numbered as an editor shows them). Every other control character is refused.
    text = text.replace("\f", "")
    refuse_control_characters(text)
    document = parse_register_document(text, default_category=default_category)
    return import_parsed_register(session, document, today=today)


def import_parsed_register(
    session: Session, document: RegisterDocument, *, today: date | None = None
) -> RegisterImport:
    """Import a register already read by one of the readers (document, text table, spreadsheet)."""
    try:
        return _import_parsed_register(session, document, today)
    except CloudctlError as error:
        if document.read_from:
            raise error.also_say(document.read_from) from None
        raise


def _import_parsed_register(
    session: Session, document: RegisterDocument, today: date | None
) -> RegisterImport:
    completeness = check_completeness(document)
    settings = get_settings(session)
    document, problems = gate_document(document, school_years(settings))
    problems = completeness.problems + problems + _risk_problems(document, today or date.today())
    if problems:
        raise ImportRejected(WHAT, sorted(problems, key=lambda problem: problem.line))

    result = RegisterImport(warnings=document.notes + completeness.warnings, shape=document.shape)
    result.kept_as_written = _kept_as_written(document)
    if document.has_front_matter:
        result.changes.append(_import_document_text(session, document, result))
    seen: set[tuple[str, str]] = set()
    # A section is published where its content last appeared (a repeated heading with nothing under it adds
    # nothing, so it does not move the section), so the published text ends as the document did.
    places: dict[str, int] = {}
    with_content: set[str] = set()
    for index, section in enumerate(document.sections):
        if section.intro or section.entries:
            with_content.add(section.category)
            places[section.category] = index
        elif section.category not in with_content:
            places[section.category] = index
    for section in document.sections:
        result.changes.append(_import_section_text(session, section, places[section.category], result))
        for entry in section.entries:
            key = (normalise_name(entry.name), section.category)
            if key in seen:
                raise InvalidInput(
                    f"line {entry.line}: '{entry.name}' appears twice in the section '{section.heading}'. "
                    "Each service may appear once in each section: merge the two entries."
                )
            seen.add(key)
            result.changes.append(_import_entry(session, section, entry))
            _note_unrecognised_data(entry, result)
    session.flush()
    return result


def _kept_as_written(document: RegisterDocument) -> list[str]:
    """Each label or column that fills no field of cloudctl's, as the school wrote it, once."""
    kept: dict[str, None] = {}
    for section in document.sections:
        for entry in section.entries:
            for key in entry.fields:
                if key not in _KNOWN_LABELS and key != "risk_assessment_date":
                    kept.setdefault(entry.written_labels.get(key) or key.replace("_", " ").capitalize())
    return list(kept)


def _note_unrecognised_data(entry: RegisterEntry, result: RegisterImport) -> None:
    from cloudctl.vocab.data_categories import unrecognised_phrases

    text = entry.fields.get("data_shared") or entry.fields.get("potential_data_shared") or ""
    for phrase in unrecognised_phrases(text):
        result.unrecognised_data.setdefault(phrase, []).append(entry.name)


def _risk_problems(document: RegisterDocument, today: date) -> list[Problem]:
    problems = []
    for section in document.sections:
        for entry in section.entries:
            text = entry.fields.get("risk_assessment_date", "")
            line = entry.field_lines.get("risk_assessment_date", entry.line)
            try:
                parse_risk_text(text, line=line, service=entry.name, today=today)
            except InvalidInput as error:
                reason = error.message.split(": ", 1)[1]  # parse_risk_text's own "line N, entry X: " is ours
                problems.append(Problem(line, "", "", f'the entry "{entry.name}": {reason}'))
            try:
                parse_review_months(entry.fields.get("review_months") or "")
            except InvalidInput as error:
                where = entry.field_lines.get("review_months", entry.line)
                problems.append(Problem(where, "", "", f'the entry "{entry.name}": {error.message}'))
    return problems


def _quoted(text: str) -> str:
    return f'"{text}"' if len(text) <= 60 else f'"{text[:57]}..."'


def _import_document_text(session: Session, document: RegisterDocument, result: RegisterImport) -> Change:
    """The school's name (only if not set), the title and the opening text: replaced, and said so."""
    settings = get_settings(session)
    changed = []
    if document.school_name and not settings.school_name:
        settings.school_name = document.school_name
        changed.append("school name")
        result.other_changes.append(f"the school's name (now {_quoted(document.school_name)})")
    if document.title and document.title != settings.register_title:
        result.other_changes.append(
            f"the title (was {_quoted(settings.register_title)}, now {_quoted(document.title)})"
        )
        settings.register_title = document.title
        changed.append("title")
    preamble = "\n\n".join(document.preamble)
    if preamble != settings.preamble:
        before = len([part for part in settings.preamble.split("\n\n") if part])
        result.other_changes.append(f"the opening text ({_replaced(before, len(document.preamble))})")
        settings.preamble = preamble
        changed.append("opening text")
    session.add(settings)
    return Change("updated" if changed else "unchanged", "document", None, None, changed)


def _paragraphs(count: int) -> str:
    return "no paragraph" if count == 0 else "1 paragraph" if count == 1 else f"{count} paragraphs"


def _replaced(before: int, after: int) -> str:
    if before == 0:
        return f"{_paragraphs(after)}, where there were none"
    if after == 0:
        return f"{_paragraphs(before)} removed"
    return f"{_paragraphs(before)} replaced by {_paragraphs(after)}"


def _import_section_text(
    session: Session, section: DocumentSection, position: int, result: RegisterImport
) -> Change:
    intro = "\n\n".join(section.intro)
    stored = session.get(RegisterSection, section.category)
    if section.implicit and stored is not None:
        # The document has no heading for this section: its heading and place stay as they are, and its
        # text replaces the introduction only where the document has some.
        if section.intro and stored.intro != intro:
            before = len([part for part in stored.intro.split("\n\n") if part])
            result.other_changes.append(
                f'the introduction of "{stored.heading}" ({_replaced(before, len(section.intro))})'
            )
            stored.intro = intro
            session.add(stored)
            return Change("updated", "section", None, section.category, ["introduction"])
        return Change("unchanged", "section", None, section.category, [])
    if stored is None:
        session.add(
            RegisterSection(
                category=section.category, heading=section.heading, intro=intro, position=position
            )
        )
        session.flush()
        result.other_changes.append(
            f'the section "{section.heading}" (new, with {_paragraphs(len(section.intro))} of introduction)'
        )
        return Change("added", "section", None, section.category, ["heading", "introduction"])
    changed = []
    if not section.intro and not section.entries:
        # A heading with nothing under it (a document ending there) says nothing about the section's text.
        intro = stored.intro
    if stored.heading != section.heading:
        result.other_changes.append(f'the heading "{stored.heading}" (now "{section.heading}")')
        stored.heading = section.heading
        changed.append("heading")
    if stored.intro != intro:
        before = len([part for part in stored.intro.split("\n\n") if part])
        result.other_changes.append(
            f'the introduction of "{section.heading}" ({_replaced(before, len(section.intro))})'
        )
        stored.intro = intro
        changed.append("introduction")
    if stored.position != position:
        # Publishing keeps the document's order: a prose-only section moved last could read as cut short.
        result.other_changes.append(f'the place of "{section.heading}" among the sections')
        stored.position = position
        changed.append("position")
    session.add(stored)
    return Change("updated" if changed else "unchanged", "section", None, section.category, changed)


def _import_entry(session: Session, section: DocumentSection, entry: RegisterEntry) -> Change:
    fields = _fields_from_entry(entry)
    risk = parse_risk_text(entry.fields.get("risk_assessment_date", ""), line=entry.line, service=entry.name)
    try:
        if fields.provider is not None:
            ensure_provider(session, fields.provider)
        existing = find_services(session, entry.name, section.category)
        if existing:
            service, changed = edit_service(
                session, entry.name, fields, category=section.category, source="register import"
            )
            change = Change(
                "updated" if changed else "unchanged", "entry", service.name, section.category, changed
            )
        else:
            service = add_service(session, entry.name, section.category, fields, provider_required=False)
            change = Change("added", "entry", service.name, section.category)
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
    for entries in by_category.values():
        _same_labels(entries)
    sections = []
    # The order of the school's own document, where it was imported; the usual order otherwise.
    place = {category: index for index, category in enumerate(CATEGORY_ORDER)}
    for category in sorted(
        CATEGORY_ORDER, key=lambda c: (stored[c].position if c in stored else place[c], place[c])
    ):
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


def _same_labels(entries: list[RegisterEntry]) -> None:
    """Every entry of a section written with the same labels, empty where it has nothing to say: an entry
    without a label the others carry reads back as a document cut short (see register_completeness)."""
    labels = [label for entry in entries for label in entry.fields]
    for entry in entries:
        for label in dict.fromkeys(labels):
            entry.fields.setdefault(label, "")


def _entry_for(service, provider: Provider | None, latest: RiskAssessment | None) -> RegisterEntry:
    # A service whose provider is not known yet publishes "Service Provider:" with nothing after it.
    fields: dict[str, str] = {
        "service_provider": provider.name if provider else "",
        "website": service.website or "",
    }
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
    if service.review_months is not None:
        # Only a service's own interval: one that follows the school's says nothing of its own.
        fields["review_months"] = format_review_months(service.review_months)
    fields.update(json.loads(service.extra_fields))
    fields["risk_assessment_date"] = format_risk_text(
        latest.assessed_on if latest else None, latest.outcome if latest else None
    )
    return RegisterEntry(name=service.name, fields=fields, line=0)
