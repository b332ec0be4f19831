"""The section for parents that `register publish --format html --parents-section` adds: each service for
pupils with its privacy-policy link and the date the school last assessed it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from cloudctl.domain.assessments import latest_assessments
from cloudctl.domain.register import format_risk_text
from cloudctl.domain.services import ordered_services


@dataclass(frozen=True)
class ParentLink:
    service: str
    provider: str
    privacy_url: str | None  # None: not recorded yet (the page says so)
    assessed: str  # "March 2018", or awaiting assessment


def parents_section(session: Session) -> list[ParentLink]:
    """The pupil services in the register's order (retired ones left out)."""
    latest = latest_assessments(session)
    links = []
    for service, provider in ordered_services(session, category="pupil"):
        last = latest.get(service.id)
        links.append(
            ParentLink(
                service=service.name,
                provider=provider.name,
                privacy_url=service.privacy_url,
                assessed=format_risk_text(last.assessed_on if last else None, last.outcome if last else None),
            )
        )
    return links
