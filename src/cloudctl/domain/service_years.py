"""A service's year groups must be years the school teaches: "Y9 - Y13" in a Reception-Year 6 school is a
typo or the wrong school's register, and would enrol nobody while reading as if it did.

Refused on `service add`, `service edit` and `register import` alike (the import names the line), as a
class list with a pupil in a year the school does not teach is refused (cloudctl.importers.class_list_years),
with the school's years and the two ways to mend it: give the years within them, or change the school's
years with `cloudctl init --years`. A key stage counts as the part of it the school teaches.
"""

from __future__ import annotations

from cloudctl.errors import InvalidInput
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
