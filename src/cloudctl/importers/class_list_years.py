"""Pupils in years the school does not teach: refused with the way to change the school's years.

A Year 10 pupil in a Reception-Year 6 school's list is almost always a wrong column or a wrong file; if the
school really does teach that year (or has pupils not following national curriculum years, the DfE's X),
its years are changed once with `cloudctl init --years`, and the list imports.
"""

from __future__ import annotations

from cloudctl.vocab.year_groups import NOT_NC, format_year_codes


def year_words(code: str) -> str:
    if code == "R":
        return "Reception"
    if code == NOT_NC:
        return "X (not following national curriculum years)"
    return f"Nursery {code[1]}" if code.startswith("N") else f"Year {code}"


def not_taught_message(code: str, taught: tuple[str, ...]) -> str:
    return (
        f"{year_words(code)} is not a year this school teaches (its years are {format_year_codes(taught)}). "
        "Check the year column; if the school does teach it, add it to the school's years with: "
        f'cloudctl init --years "{format_year_codes((*taught, code))}"'
    )
