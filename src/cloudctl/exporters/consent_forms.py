"""Printable consent forms: one page per pupil, listing the services that pupil may be enrolled in."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from cloudctl.db.models import Provider, Service
from cloudctl.domain.consent import ServiceRule, display_name, pupils_for, standings
from cloudctl.domain.services import categories_of
from cloudctl.domain.settings import get_settings
from cloudctl.errors import InvalidInput, RuleRefused

POLICY_STATEMENTS = (
    "We ask you to opt in to each service before we enrol your child. No reply means we will not enrol them.",
    "You may opt out of any service at any time by contacting the school office.",
    "Where you do not opt in, the school will do all it reasonably can to provide an offline alternative.",
)

# What a parent reads where the register does not yet say who provides a service.
NO_PROVIDER = "not yet recorded by the school"


def form_pages(session: Session, *, class_name: str | None = None, upn: str | None = None) -> list[dict]:
    """What each pupil's page shows: the pupil, and the approved services they are eligible for."""
    if (class_name is None) == (upn is None):
        raise InvalidInput("Say whose forms to print: --class CLASS or --upn UPN.")
    pupils = pupils_for(session, upn=upn, class_name=class_name)
    if upn is not None and not pupils[0].on_roll:
        raise RuleRefused(
            f"Pupil {pupils[0].upn} is no longer on roll (left {pupils[0].left_on}), so cannot be enrolled: "
            "there is no consent form to print."
        )
    rows = session.exec(
        select(Service, Provider)
        .outerjoin(Provider, Service.provider_id == Provider.id)
        .where(Service.category == "pupil", Service.status == "approved")
        .order_by(Service.position)
    ).all()
    services = [(ServiceRule.of(service), service, provider) for service, provider in rows]
    latest = standings(session, pupil_ids=[pupil.id for pupil in pupils])
    pages = []
    for pupil in pupils:
        offered = []
        for rule, service, provider in services:
            standing = latest.get((pupil.id, service.id))
            selected = standing is not None and standing.selected
            if rule.eligible(pupil.on_roll, pupil.year_group, selected=selected):
                offered.append(
                    {
                        "name": service.name,
                        "provider": provider.name if provider else NO_PROVIDER,
                        "purpose": service.purpose,
                        "data_shared": categories_of(service),
                    }
                )
        pages.append(
            {
                "upn": pupil.upn,
                "pupil_name": display_name(pupil),
                "class_name": pupil.class_name or "",
                "year_group": pupil.year_group,
                "services": offered,
            }
        )
    return pages


def render_consent_forms(session: Session, pages: list[dict], *, today: date | None = None) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("cloudctl", "templates"), autoescape=select_autoescape(default=True)
    )
    template = environment.get_template("consent_form.html.j2")
    return template.render(
        school_name=get_settings(session).school_name or "The school",
        pages=pages,
        statements=POLICY_STATEMENTS,
        printed_on=(today or date.today()).strftime("%d %B %Y"),
    )
