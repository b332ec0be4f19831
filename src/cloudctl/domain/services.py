"""Services: the register's entries, each in one category, provided by one provider."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, func, select

from cloudctl.db.models import Provider, Service, utcnow
from cloudctl.domain.lookup import normalise_name, suggestion
from cloudctl.domain.providers import clean_name, clean_url, ensure_provider, find_provider, get_provider
from cloudctl.domain.service_versions import record_state_before_change, record_version
from cloudctl.domain.settings import get_settings, school_years
from cloudctl.domain.vocabulary import CATEGORY_ORDER, parse_category
from cloudctl.errors import Ambiguous, Conflict, InvalidInput, NotFound
from cloudctl.vocab.data_categories import parse_data_shared
from cloudctl.vocab.text import NAME_LIMIT, gate_name, gate_prose, gate_text
from cloudctl.vocab.year_groups import parse_year_groups

# Optional fields that real registers carry beyond the published document.
OPTIONAL_TEXT_FIELDS = (
    "lawful_basis", "special_category_condition", "storage_location", "storage_detail", "retention", "owner",
)  # fmt: skip
STORAGE_LOCATIONS = ("UK", "EEA", "elsewhere")
# The free-text fields that may run to several lines (the text gate's prose); every other field is one line.
PROSE_FIELDS = frozenset({"purpose", "data_shared", "controls"})
# Each text field as messages name it.
FIELD_NAMES = {
    "provider": "provider name",
    "purpose": "purpose",
    "data_shared": "data shared",
    "service_type": "service type",
    "year_groups": "year groups",
    "website": "website",
    "controls": "controls",
    "lawful_basis": "lawful basis",
    "special_category_condition": "Art. 9 condition",
    "storage_location": "storage location",
    "storage_detail": "storage detail",
    "retention": "retention",
    "privacy_url": "privacy policy address",
    "owner": "owner",
}
_DERIVED = {"data_categories", "year_scope", "year_codes"}
_CHANGE_LABELS = {
    "provider_id": "provider",
    "data_shared_text": "data shared",
    "year_groups_text": "year groups",
    "review_months": "review interval",
    "privacy_url": "privacy policy",
    "extra_fields": "other fields",
}


@dataclass
class ServiceFields:
    """What a user may set on a service; None means 'leave as it is'."""

    provider: str | None = None
    purpose: str | None = None
    data_shared: str | None = None
    service_type: str | None = None
    year_groups: str | None = None
    website: str | None = None
    controls: str | None = None
    review_months: int | None = None
    lawful_basis: str | None = None
    special_category_condition: str | None = None
    storage_location: str | None = None
    storage_detail: str | None = None
    retention: str | None = None
    privacy_url: str | None = None
    owner: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def gate_field(name: str, value: str | None, *, of: str = "") -> str | None:
    """One field of ServiceFields through the text gate. None stays None ("leave it as it is"); empty text
    is "" ("clear it"). `of` names the service in the message, e.g. 'of "My Maths"'."""
    if value is None:
        return None
    what = f"{FIELD_NAMES[name]} {of}".strip()
    if name in PROSE_FIELDS:
        return gate_prose(value, what) or ""
    if name in ("provider", "owner"):
        return gate_name(value, what, required=name == "provider") or ""
    return gate_text(value, what) or ""


def gate_extra(label: str, value: str, *, of: str = "") -> tuple[str, str]:
    """A field beyond cloudctl's own (kept as written): its label one line, its value prose."""
    key = gate_text(label, f"label {of}".strip(), limit=NAME_LIMIT, required=True)
    return key, gate_prose(value, f'"{key.replace("_", " ")}" {of}'.strip()) or ""


def gate_fields(fields: ServiceFields, *, of: str = "") -> ServiceFields:
    """Every text field through the text gate, before anything is stored."""
    gated = {name: gate_field(name, getattr(fields, name), of=of) for name in FIELD_NAMES}
    extra = dict(gate_extra(label, value, of=of) for label, value in fields.extra.items())
    return ServiceFields(**gated, review_months=fields.review_months, extra=extra)


def categories_of(service: Service) -> list[str]:
    return json.loads(service.data_categories)


def year_codes_of(service: Service) -> tuple[str, ...]:
    return tuple(code for code in service.year_codes.split(",") if code)


def _all_services(session: Session, *, include_retired: bool = True) -> Sequence[Service]:
    query = select(Service)
    if not include_retired:
        query = query.where(Service.status != "retired")
    return session.exec(query).all()


def find_services(session: Session, name: str, category: str | None = None) -> list[Service]:
    key = normalise_name(clean_name(name, "service"))
    matches = [service for service in _all_services(session) if normalise_name(service.name) == key]
    if category is not None:
        matches = [service for service in matches if service.category == category]
    return matches


def get_service(session: Session, name: str, category: str | None = None) -> Service:
    """The one service with this name (and category); a clear error for none or several."""
    if category is not None:
        category = parse_category(category)
    matches = find_services(session, name, category)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        names = [service.name for service in _all_services(session)]
        in_category = f" in the {category} category" if category else ""
        raise NotFound(
            f"There is no service called '{name}'{in_category}.{suggestion(name, names)} "
            "See them all with: cloudctl service list --all"
        )
    listed = "; ".join(f"{service.name} (--category {service.category})" for service in matches)
    raise Ambiguous(f"'{name}' is in the register more than once: {listed}. Say which with --category.")


def _apply_fields(session: Session, service: Service, fields: ServiceFields) -> list[str]:
    """Validate and set the given fields; returns the names of the fields that changed."""
    changed: list[str] = []
    fields = gate_fields(fields)

    def put(attribute: str, value: object) -> None:
        if getattr(service, attribute) != value:
            setattr(service, attribute, value)
            changed.append(attribute)

    if fields.provider is not None:
        provider = get_provider(session, fields.provider)
        put("provider_id", provider.id)
    if fields.purpose is not None:
        put("purpose", fields.purpose.strip())
    if fields.data_shared is not None:
        put("data_shared_text", fields.data_shared.strip())
        put("data_categories", json.dumps(parse_data_shared(fields.data_shared)))
    if fields.service_type is not None:
        put("service_type", fields.service_type.strip())
    if fields.year_groups is not None:
        from cloudctl.domain.service_years import check_taught_years

        taught = school_years(get_settings(session))
        groups = parse_year_groups(fields.year_groups, taught)
        check_taught_years(fields.year_groups, taught)
        put("year_groups_text", fields.year_groups.strip())
        put("year_scope", groups.scope)
        put("year_codes", ",".join(groups.codes))
    if fields.website is not None:
        put("website", clean_url(fields.website))
    if fields.controls is not None:
        put("controls", fields.controls.strip() or None)
    if fields.review_months is not None:
        from cloudctl.domain.settings import check_review_months

        put("review_months", check_review_months(fields.review_months))
    for name in OPTIONAL_TEXT_FIELDS:
        value = getattr(fields, name)
        if value is not None:
            if name == "storage_location":
                value = _storage_location(value)
            put(name, value.strip() or None)
    if fields.privacy_url is not None:
        put("privacy_url", clean_url(fields.privacy_url, "privacy policy address"))
    if fields.extra:
        # A label given with nothing after it clears that field.
        merged = {
            key: value for key, value in {**json.loads(service.extra_fields), **fields.extra}.items() if value
        }
        put("extra_fields", json.dumps(merged, sort_keys=True))
    if changed:
        service.updated_at = utcnow()
    # Say what changed as a person would: derived columns follow the text they come from.
    return [_CHANGE_LABELS.get(name, name.replace("_", " ")) for name in changed if name not in _DERIVED]


def _storage_location(value: str) -> str:
    for location in STORAGE_LOCATIONS:
        if value.strip().lower() == location.lower():
            return location
    if not value.strip():
        return ""
    raise InvalidInput(
        f'"{value}" is not a storage location: use UK, EEA or elsewhere, and put the detail '
        "(the country, the safeguards for a transfer) in --storage-detail."
    )


def add_service(
    session: Session,
    name: str,
    category: str,
    fields: ServiceFields,
    *,
    create_provider: bool = False,
    provider_required: bool = True,
) -> Service:
    """Add a service. An import of a register that never names providers passes provider_required=False:
    the provider is then left unset (shown as missing) for `service edit --provider` to fill in."""
    name = clean_name(name, "service")
    category = parse_category(category)
    if fields.provider is None and provider_required:
        raise InvalidInput("A service needs its provider: give it with --provider NAME.")
    if find_services(session, name, category):
        raise Conflict(
            f"'{name}' is already in the {category} category of the register. Change it with: service edit"
        )
    if fields.provider is None:
        pass
    elif create_provider:
        ensure_provider(session, fields.provider)
    elif find_provider(session, fields.provider) is None:
        names = session.exec(select(Provider.name)).all()
        raise NotFound(
            f"There is no provider called '{fields.provider}'.{suggestion(fields.provider, names)} "
            "Add it with --create-provider, or first with: cloudctl provider add NAME"
        )
    position = session.exec(select(func.coalesce(func.max(Service.position), 0))).one() + 1
    service = Service(
        name=name, category=category, provider_id=None, status="awaiting-assessment", position=position
    )
    _apply_fields(session, service, fields)
    session.add(service)
    session.flush()
    record_version(session, service)
    return service


def edit_service(
    session: Session,
    name: str,
    fields: ServiceFields,
    *,
    category: str | None = None,
    new_name: str | None = None,
    new_category: str | None = None,
    source: str = "service edit",
    today: date | None = None,
) -> tuple[Service, list[str]]:
    from cloudctl.domain.service_changes import facts_of, record_changes

    service = get_service(session, name, category)
    facts_before = facts_of(service)
    told_parents = fields.purpose is not None or fields.data_shared is not None
    if told_parents:
        record_state_before_change(session, service)
    changed = _apply_fields(session, service, fields)
    if told_parents and {"purpose", "data shared"} & set(changed):
        session.flush()
        record_version(session, service)
    target_name = clean_name(new_name, "service") if new_name is not None else service.name
    target_category = parse_category(new_category) if new_category is not None else service.category
    if (target_name, target_category) != (service.name, service.category):
        clash = [
            other for other in find_services(session, target_name, target_category) if other.id != service.id
        ]
        if clash:
            raise Conflict(
                f"'{target_name}' is already in the {target_category} category: choose another name."
            )
        if target_name != service.name:
            changed.append("name")
        if target_category != service.category:
            changed.append("category")
        service.name, service.category = target_name, target_category
        service.updated_at = utcnow()
    # What matters to the risk assessment (more data, more pupils, another provider, another section...) is
    # kept as history.
    record_changes(session, service, facts_before, changed_on=today or date.today(), source=source)
    session.add(service)
    session.flush()
    return service, changed


def retire_service(session: Session, name: str, category: str | None = None) -> Service:
    service = get_service(session, name, category)
    if service.status == "retired":
        raise Conflict(f"'{service.name}' ({service.category}) is already retired.")
    service.status = "retired"
    service.updated_at = utcnow()
    session.add(service)
    session.flush()
    return service


def refresh_year_groups(session: Session, years: tuple[str, ...]) -> None:
    """Re-read every service's year-group text after the school's years change ("All" follows them)."""
    for service in _all_services(session):
        groups = parse_year_groups(service.year_groups_text, years)
        service.year_scope, service.year_codes = groups.scope, ",".join(groups.codes)
        session.add(service)
    session.flush()


def ordered_services(
    session: Session,
    *,
    category: str | None = None,
    status: str | None = None,
    include_retired: bool = False,
) -> list[tuple[Service, Provider | None]]:
    # An outer join: a service whose provider is not known yet is listed (with no provider), not dropped.
    query = select(Service, Provider).outerjoin(Provider, Service.provider_id == Provider.id)
    if category is not None:
        query = query.where(Service.category == category)
    if status is not None:
        query = query.where(Service.status == status)
    elif not include_retired:
        query = query.where(Service.status != "retired")
    rows = session.exec(query).all()
    return sorted(rows, key=lambda row: (CATEGORY_ORDER.index(row[0].category), row[0].position, row[0].id))
