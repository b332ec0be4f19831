"""A service's year groups must be years the school teaches: "Y9 - Y13" in a Reception-Year 6 school is a
typo or the wrong school's register, and would enrol nobody while reading as if it did.

Refused on `service add`, `service edit` and `register import` alike (the import names the line), as a
class list with a pupil in a year the school does not teach is refused (cloudctl.importers.class_list_years),
with the school's years and the two ways to mend it: give the years within them, or change the school's
years with `cloudctl init --years`. A key stage counts as the part of it the school teaches.

The other way round too: the school's years may not be narrowed (`cloudctl init --years`) while services
not retired enrol years it would no longer teach (check_services_within); the refusal names them, and the
services' years are mended first (`cloudctl service edit NAME --years ...`, or `service retire`). Retired
services keep the years they had.
"""

from __future__ import annotations

from sqlmodel import Session

from cloudctl.errors import InvalidInput, RuleRefused
from cloudctl.importers.class_list_years import year_words
from cloudctl.vocab.year_groups import format_year_codes, untaught_years


def check_taught_years(text: str, taught: tuple[str, ...], *, of: str = "") -> str:
    """The year-group text, if every year it names is one the school teaches; else InvalidInput."""
    outside = untaught_years(text, taught)
    if not outside:
        return text
    named = year_words(outside[0]) if len(outside) == 1 else f"years {format_year_codes(outside)}"
    school = format_year_codes(taught)
    whose = f" {of}" if of else ""
    raise InvalidInput(
        f'Year groups "{text.strip()}"{whose} name {named}, which this school does not teach (its years are '
        f'{school}). Give the years the service enrols within {school} (for example "All", a range such as '
        '"Y2 - Y6", or "Selected Students"); if the school does teach them, add them to its years first '
        f'with: cloudctl init --years "{format_year_codes((*taught, *outside))}"'
    )


# How many of the services in the way a refusal names (the rest are counted).
NAMED_AT_MOST = 5


def check_services_within(session: Session, taught: tuple[str, ...]) -> None:
    """Refuse (RuleRefused) the school's years becoming `taught` while services not retired enrol years
    outside them, naming the first few in the register's order with the years each names."""
    from sqlmodel import select

    from cloudctl.db.models import Service
    from cloudctl.domain.vocabulary import CATEGORY_ORDER

    services = session.exec(select(Service).where(Service.status != "retired")).all()
    outside = [
        service
        for service in sorted(services, key=lambda s: (CATEGORY_ORDER.index(s.category), s.position, s.id))
        if untaught_years(service.year_groups_text, taught)
    ]
    if not outside:
        return
    school = format_year_codes(taught)
    named = ", ".join(f'"{s.name}" ({s.year_groups_text.strip()})' for s in outside[:NAMED_AT_MOST])
    more = len(outside) - NAMED_AT_MOST
    count = "1 service" if len(outside) == 1 else f"{len(outside)} services"
    first = outside[0]
    # The example keeps the first service's years the school would still teach (else all it would teach).
    kept = [code for code in first.year_codes.split(",") if code in taught]
    example = format_year_codes(kept or taught)
    raise RuleRefused(
        f"The school's years were not changed to {school}: {count} not retired "
        f"{'enrols' if len(outside) == 1 else 'enrol'} years it would no longer teach: {named}"
        f"{f' and {more} more' if more > 0 else ''}. Give "
        f"{'that service' if len(outside) == 1 else 'each of them'} years within {school} first, for example "
        f'cloudctl service edit "{first.name}" --category {first.category} --years "{example}", or retire '
        "a service the school no longer uses (cloudctl service retire NAME); then change the school's years "
        "again."
    )
