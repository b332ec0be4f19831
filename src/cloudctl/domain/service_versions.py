"""Service versions: what parents were told about a service (its purpose and data) and from when.

A version is recorded when a service is added and whenever its purpose or data shared changes, so a
consent form dated before a change points at what the form said, not at what the service became.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, select

from cloudctl.db.models import Service, ServiceVersion, utcnow


def _matches(version: ServiceVersion, service: Service) -> bool:
    return (
        version.purpose == service.purpose
        and version.data_shared_text == service.data_shared_text
        and version.data_categories == service.data_categories
    )


def _versions_of(session: Session, service: Service) -> list[ServiceVersion]:
    return list(
        session.exec(
            select(ServiceVersion).where(ServiceVersion.service_id == service.id).order_by(ServiceVersion.id)
        )
    )


def record_version(session: Session, service: Service, *, since: datetime | None = None) -> ServiceVersion:
    """The version matching the service as it stands now, recorded if it is new."""
    versions = _versions_of(session, service)
    if versions and _matches(versions[-1], service):
        return versions[-1]
    version = ServiceVersion(
        service_id=service.id,
        purpose=service.purpose,
        data_shared_text=service.data_shared_text,
        data_categories=service.data_categories,
        recorded_at=since or utcnow(),
    )
    session.add(version)
    session.flush()
    return version


def record_state_before_change(session: Session, service: Service) -> None:
    """Before a service's purpose or data changes, make sure what it was is on record.

    A service added before versions were kept has none: its state as it stands is recorded
    as in force since the service was added.
    """
    if not _versions_of(session, service):
        record_version(session, service, since=service.created_at)


def version_in_force(session: Session, service: Service, on: date) -> ServiceVersion:
    """What a parent signing on this date was told: the newest version recorded on or before it.

    A form dated before the first version (a school keying in forms signed before it used cloudctl)
    gets the first version: the earliest the register knows of.
    """
    versions = _versions_of(session, service) or [record_version(session, service)]
    in_force = [version for version in versions if _as_date(version.recorded_at) <= on]
    return in_force[-1] if in_force else versions[0]


def _as_date(moment: datetime) -> date:
    return moment.date()
