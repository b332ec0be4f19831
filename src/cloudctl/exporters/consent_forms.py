"""Printable consent forms: one A4 page per pupil, listing the services that pupil may be enrolled in.

Each form carries a reply code, issued and stored as the form is written (there is no preview: the forms
written are the forms issued). A form shows per service what the parent is told (the service's current
version), the provider's privacy-policy address when the register holds one, and the pupil's answer on
record, so a parent changes only what they mean to. `reprint_page` rebuilds an issued form exactly, from
the versions and the printed details stored with its code.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from datetime import date

from sqlmodel import Session, col, select

from cloudctl.db.models import Provider, Pupil, Service, ServiceVersion
from cloudctl.domain.consent import ServiceRule, display_name, pupils_for, standings
from cloudctl.domain.consent_policy import NEEDS_RENEWAL, OPTED_IN, OPTED_OUT
from cloudctl.domain.reply_codes import FormService, IssuedForm, form_by_code
from cloudctl.domain.reply_codes import issue_forms as issue_codes
from cloudctl.domain.service_versions import record_version
from cloudctl.domain.settings import get_settings
from cloudctl.errors import InvalidInput, RuleRefused

POLICY_STATEMENTS = (
    "We ask you to opt in to each service before we enrol your child. No reply means we will not enrol them.",
    "You may opt out of any service at any time by contacting the school office.",
    "Where you do not opt in, the school will do all it reasonably can to provide an offline alternative.",
)

# The answer on record, as the form words it (from the status ServiceRule works out).
ANSWERS = {OPTED_IN: "opted in", OPTED_OUT: "opted out", NEEDS_RENEWAL: "needs renewing"}
NO_ANSWER = "none"
ANSWER_WORDS = {
    "opted in": "You opted in",
    "opted out": "You opted out",
    "needs renewing": "You opted in before: please answer again",
    NO_ANSWER: "No answer yet",
}

# What a parent reads where the register does not yet say who provides a service.
NO_PROVIDER = "not yet recorded by the school"

CODES_COLUMNS = ("reply_code", "upn", "surname", "forename", "class", "issued_on")


class FormPlan:
    """One pupil's form before it is issued: the pupil, the services offered and what else is printed."""

    def __init__(self, pupil: Pupil, services: list[FormService], printed: dict) -> None:
        self.pupil = pupil
        self.services = services
        self.printed = printed


def form_plans(
    session: Session,
    *,
    class_name: str | None = None,
    upn: str | None = None,
    pupil_ids: set[int] | None = None,
) -> list[FormPlan]:
    """Whose forms to print and what each lists: the approved pupil services each pupil is eligible for.

    `pupil_ids`, when given, keeps only those pupils (`--missing-only` passes the pupils with no answer).
    """
    if (class_name is None) == (upn is None):
        raise InvalidInput("Say whose forms to print: --class CLASS or --upn UPN.")
    pupils = pupils_for(session, upn=upn, class_name=class_name)
    if upn is not None and not pupils[0].on_roll:
        raise RuleRefused(
            f"Pupil {pupils[0].upn} is no longer on roll (left {pupils[0].left_on}), so cannot be enrolled: "
            "there is no consent form to print."
        )
    if pupil_ids is not None:
        pupils = [pupil for pupil in pupils if pupil.id in pupil_ids]
    rows = session.exec(
        select(Service, Provider)
        .outerjoin(Provider, Service.provider_id == Provider.id)
        .where(Service.category == "pupil", Service.status == "approved")
        .order_by(Service.position)
    ).all()
    services = [(ServiceRule.of(service), service, provider) for service, provider in rows]
    versions = {service.id: record_version(session, service) for _, service, _ in services}
    latest = standings(session, pupil_ids=[pupil.id for pupil in pupils])
    school_name = get_settings(session).school_name or "The school"
    plans = []
    for pupil in pupils:
        offered = []
        for rule, service, provider in services:
            standing = latest.get((pupil.id, service.id))
            selected = standing is not None and standing.selected
            if not rule.eligible(pupil.on_roll, pupil.year_group, selected=selected):
                continue
            status = rule.status_for(pupil.on_roll, pupil.year_group, standing)
            offered.append(
                FormService(
                    service_id=service.id,  # type: ignore[arg-type]
                    version_id=versions[service.id].id,  # type: ignore[arg-type]
                    name=service.name,
                    provider=provider.name if provider else NO_PROVIDER,
                    privacy_url=service.privacy_url or None,
                    answer=ANSWERS.get(status, NO_ANSWER),
                )
            )
        printed = {
            "school_name": school_name,
            "pupil_name": display_name(pupil),
            "class_name": pupil.class_name or "",
            "year_group": pupil.year_group,
        }
        plans.append(FormPlan(pupil, offered, printed))
    return plans


def issue_forms(session: Session, plans: list[FormPlan], *, today: date, issued_by: str) -> list[IssuedForm]:
    """Issue a reply code for each plan, in the caller's transaction."""
    return issue_codes(
        session,
        [(plan.pupil, plan.services, plan.printed) for plan in plans],
        today=today,
        issued_by=issued_by,
    )


def pages_of(session: Session, issued: list[IssuedForm]) -> list[dict]:
    """What each issued form's page shows, from what its code stored: the versions the parent was told
    of and the details as printed. Forms first printed and forms reprinted come out the same."""
    version_ids = {version_id for form in issued for version_id in form.version_ids}
    versions = {
        version.id: version
        for version in session.exec(
            select(ServiceVersion).where(col(ServiceVersion.id).in_(sorted(version_ids)))
        )
    }
    pages = []
    for form in issued:
        services = []
        for entry in form.services:
            version = versions[entry.version_id]
            services.append(
                {
                    **asdict(entry),
                    "purpose": version.purpose,
                    "data_shared": json.loads(version.data_categories),
                    "answer_words": ANSWER_WORDS.get(entry.answer, ANSWER_WORDS[NO_ANSWER]),
                }
            )
        pages.append(
            {
                **form.form,
                "reply_code": form.shown,
                "issued_on": _long_date(form.issued_on),
                "expires_on": _long_date(form.expires_on),
                "services": services,
            }
        )
    return pages


def reprint_page(session: Session, code: str) -> list[dict]:
    """The page of the form a reply code was issued with, exactly as it was printed."""
    return pages_of(session, [form_by_code(session, code)])


def render_consent_forms(pages: list[dict], *, school_name: str) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("cloudctl", "templates"), autoescape=select_autoescape(default=True)
    )
    template = environment.get_template("consent_form.html.j2")
    return template.render(school_name=school_name, pages=pages, statements=POLICY_STATEMENTS)


def codes_csv(issued: list[IssuedForm], pupils: dict[int, Pupil]) -> str:
    """The codes issued, for the office's records: reply_code, upn, surname, forename, class, issued_on."""
    from cloudctl.exporters.csv_safe import write_csv

    buffer = io.StringIO()
    write_csv(
        buffer,
        CODES_COLUMNS,
        (
            {
                "reply_code": form.shown,
                "upn": pupils[form.pupil_id].upn,
                "surname": pupils[form.pupil_id].surname,
                "forename": pupils[form.pupil_id].forename,
                "class": pupils[form.pupil_id].class_name or "",
                "issued_on": form.issued_on.isoformat(),
            }
            for form in issued
        ),
    )
    return buffer.getvalue()


def _long_date(day: date) -> str:
    return day.strftime("%d %B %Y").lstrip("0")
