"""Providers: the companies and bodies behind the register's services."""

from __future__ import annotations

from sqlmodel import Session, func, select

from cloudctl.db.models import Provider, Service
from cloudctl.domain.lookup import normalise_name, suggestion
from cloudctl.errors import Conflict, InvalidInput, NotFound
from cloudctl.vocab.text import gate_name, gate_prose, gate_text


def clean_name(name: str | None, what: str) -> str:
    """A name through the text gate: one line, no control characters, at most NAME_LIMIT characters."""
    return gate_name(name, f"{what} name")


def clean_url(url: str | None, what: str = "website") -> str | None:
    if url is None:
        return None
    url = gate_text(url, what)
    if not url:
        return None
    url = url.removeprefix("<").removesuffix(">").strip()
    if not url.lower().startswith(("http://", "https://")):
        raise InvalidInput(f'The {what} "{url}" is not a web address: give it as https://example.com/...')
    return url


def clean_notes(notes: str | None) -> str | None:
    return gate_prose(notes, "provider's notes")


def find_provider(session: Session, name: str) -> Provider | None:
    key = normalise_name(clean_name(name, "provider"))
    for provider in session.exec(select(Provider)).all():
        if normalise_name(provider.name) == key:
            return provider
    return None


def get_provider(session: Session, name: str) -> Provider:
    provider = find_provider(session, name)
    if provider is None:
        names = session.exec(select(Provider.name)).all()
        raise NotFound(
            f"There is no provider called '{name}'.{suggestion(name, names)} "
            "See them all with: cloudctl provider list"
        )
    return provider


def add_provider(
    session: Session, name: str, *, website: str | None = None, notes: str | None = None
) -> Provider:
    name = clean_name(name, "provider")
    if find_provider(session, name) is not None:
        raise Conflict(
            f"A provider called '{name}' is already in the register. Change it with: provider edit"
        )
    provider = Provider(name=name, website=clean_url(website), notes=clean_notes(notes))
    session.add(provider)
    session.flush()
    return provider


def ensure_provider(session: Session, name: str) -> tuple[Provider, bool]:
    """The provider of that name, created if new; the flag says whether it was created."""
    provider = find_provider(session, name)
    if provider is not None:
        return provider, False
    return add_provider(session, name), True


def edit_provider(
    session: Session,
    name: str,
    *,
    new_name: str | None = None,
    website: str | None = None,
    notes: str | None = None,
) -> Provider:
    provider = get_provider(session, name)
    if new_name is not None:
        new_name = clean_name(new_name, "provider")
        other = find_provider(session, new_name)
        if other is not None and other.id != provider.id:
            raise Conflict(f"A provider called '{new_name}' already exists: choose another name.")
        provider.name = new_name
    if website is not None:
        provider.website = clean_url(website)
    if notes is not None:
        provider.notes = clean_notes(notes)
    session.add(provider)
    session.flush()
    return provider


def remove_provider(session: Session, name: str) -> Provider:
    provider = get_provider(session, name)
    using = session.exec(select(Service.name).where(Service.provider_id == provider.id)).all()
    if using:
        listed = ", ".join(f"'{service}'" for service in sorted(set(using)))
        raise Conflict(
            f"The provider '{provider.name}' cannot be removed: the register's services use it ({listed}). "
            "Move them to another provider first (service edit NAME --provider OTHER). A retired service "
            "keeps its provider, so that its history still says who received the data."
        )
    session.delete(provider)
    session.flush()
    return provider


def list_providers(session: Session) -> list[dict]:
    counts = dict(
        session.exec(
            select(Service.provider_id, func.count())
            .where(Service.status != "retired")
            .group_by(Service.provider_id)
        ).all()
    )
    providers = session.exec(select(Provider).order_by(Provider.name)).all()
    return [provider_record(provider, counts.get(provider.id, 0)) for provider in providers]


def provider_record(provider: Provider, service_count: int | None = None) -> dict:
    record = {"name": provider.name, "website": provider.website, "notes": provider.notes}
    if service_count is not None:
        record["services"] = service_count
    return record
