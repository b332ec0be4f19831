"""National curriculum year codes and the year-group texts found in registers.

Codes are stored in one canonical form ("N1", "N2", "R", "1".."14", and the DfE's "X" for a pupil not
following national curriculum years) and always kept in curriculum order (X last), so a range such as R-2
means R, 1, 2 and output reads the way staff expect. X is never inside a range: a school that has such
pupils lists it, e.g. "R,1-6,X".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cloudctl.errors import InvalidInput

NC_YEARS: tuple[str, ...] = ("N1", "N2", "R", *(str(year) for year in range(1, 15)))
EYFS: tuple[str, ...] = ("N1", "N2", "R")
# The DfE's year-group code for a pupil not following national curriculum years (some special schools).
NOT_NC = "X"
YEAR_CODES: tuple[str, ...] = (*NC_YEARS, NOT_NC)
_ORDER = {code: index for index, code in enumerate(YEAR_CODES)}

# Key stages a register may name instead of years. KS3-5 are included for secondary schools.
KEY_STAGES: dict[str, tuple[str, ...]] = {
    "eyfs": EYFS,
    "ks1": ("1", "2"),
    "ks2": ("3", "4", "5", "6"),
    "ks3": ("7", "8", "9"),
    "ks4": ("10", "11"),
    "ks5": ("12", "13"),
}

_CODE_FORMS = (
    "N1, N2, R (Reception) or 1 to 14, written for example as Year 3, Y3, Yr 3, 03, Year R or Nursery 1, "
    "or X (not following national curriculum years)"
)

# An optional "Year"/"Years"/"Yr"/"Y" prefix, then the year itself. "YR" is Year R: the regex
# backtracks from the "yr" prefix to "y" + "r", so it needs no special case.
_CODE = re.compile(
    r"(?:(?:nc\s*)?(?:years?|yrs?|y))?\.?\s*(?P<year>reception|rec|r|nursery\s*[12]|n\s*[12]|\d{1,2}|x)",
    re.IGNORECASE | re.ASCII,
)
_STAGE = re.compile(
    r"(?:key\s*stages?|ks)\s*(?P<n>[1-5])|eyfs|early\s*years(?:\s+foundation\s+stage)?(?:\s*\(eyfs\))?",
    re.I,
)
# After a key stage, a bare number is another key stage: "Key Stage 1 and 2", "KS1/2".
_STAGE_NUMBER = re.compile(r"[1-5]")
# Items in a list are separated by commas, semicolons, "&", "+", "/" ("Y5/6") or "and"; a range by a dash
# or "to".
_ITEM_SEP = re.compile(r"\s*(?:[,;&+/]|\band\b)\s*", re.IGNORECASE)
_RANGE_SEP = re.compile(r"\s*(?:[-\u2013\u2014]|\bto\b)\s*", re.IGNORECASE)


def parse_year_code(text: str) -> str:
    """One pupil's year, in any common spelling, as its canonical code."""
    match = _CODE.fullmatch(text.strip()) if isinstance(text, str) else None
    if match:
        year = re.sub(r"\s+", "", match["year"].upper())
        if year in ("R", "REC", "RECEPTION"):
            return "R"
        if year == NOT_NC:
            return NOT_NC
        if year.startswith("N"):
            return "N" + year[-1]  # "N1" or "NURSERY1"
        if year.lstrip("0") in _ORDER:  # "03" is year 3; "0" and "00" are not a year
            return year.lstrip("0")
    raise InvalidInput(f'"{text}" is not a school year: use {_CODE_FORMS}.')


def sort_codes(codes: Iterable[str]) -> tuple[str, ...]:
    """Canonicalise, deduplicate and put codes in curriculum order (N1, N2, R, 1 ... 14)."""
    return tuple(sorted({parse_year_code(code) for code in codes}, key=_ORDER.__getitem__))


def _parse_item(item: str) -> tuple[str, ...]:
    """One list item: a key stage, a range ("R-6", "Y1 to Y6") or a single year."""
    if stage := _STAGE.fullmatch(item):
        return KEY_STAGES[f"ks{stage['n']}" if stage["n"] else "eyfs"]
    ends = _RANGE_SEP.split(item)
    if len(ends) == 1:
        return (parse_year_code(item),)
    if len(ends) != 2 or not all(ends):
        raise InvalidInput(f'"{item}" is not a range of years: write it as, for example, R-6 or Y1 to Y6.')
    first, last = (_ORDER[parse_year_code(end)] for end in ends)
    if NOT_NC in (YEAR_CODES[first], YEAR_CODES[last]):
        raise InvalidInput(
            f'"{item}" puts X (not following national curriculum years) in a range: list X on its own, '
            "for example R-6, X."
        )
    if first > last:
        raise InvalidInput(f'"{item}" runs backwards: write the earlier year first, for example R-6.')
    return NC_YEARS[first : last + 1]


def parse_year_list(text: str) -> tuple[str, ...]:
    """A set of years such as a school's "R,1-6" or "N1,N2,R,1-6", in curriculum order."""
    items = _ITEM_SEP.split(text.strip()) if isinstance(text, str) else []
    if not any(items) or not all(items):
        raise InvalidInput(f'"{text}" is not a list of school years: use, for example, R,1-6 or 7-11.')
    codes: list[str] = []
    after_stage = False
    for item in items:
        if after_stage and _STAGE_NUMBER.fullmatch(item):
            codes += KEY_STAGES[f"ks{item}"]
            continue
        after_stage = bool(_STAGE.fullmatch(item))
        codes += _parse_item(item)
    return sort_codes(codes)


def format_year_codes(codes: Iterable[str]) -> str:
    """Compact human form that parse_year_list reads back: ("R","1","2","3") -> "R-3"."""
    runs: list[list[str]] = []
    for code in sort_codes(codes):
        if runs and code != NOT_NC and _ORDER[code] == _ORDER[runs[-1][-1]] + 1:
            runs[-1].append(code)
        else:
            runs.append([code])
    return ", ".join(run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)


@dataclass(frozen=True)
class YearGroups:
    """Who a register entry enrols: listed years, individually selected pupils, or nobody."""

    scope: str  # "years" | "selected" | "none"
    codes: tuple[str, ...]
    text: str  # as written in the register, kept so nothing the school wrote is lost


_NONE = re.compile(r"none|n/a|no (?:children|pupils|students)(?: enrolled(?: by (?:the )?school)?)?", re.I)
_SELECTED = re.compile(r"selected\b.*|(?:students|pupils|children) taking part\b.*", re.I | re.S)
_ALL = re.compile(r"all(?: years| year groups| pupils| children| students)?|whole school", re.I)

_GROUP_FORMS = (
    '"All" or "Whole school", a year or range such as "Year 3", "Y2 - Y6", "Y1 to Y6", "Y5/6", '
    '"Years 7, 8 and 9" or "R, Y1", a stage ("EYFS", "Early Years", "KS1", "Key Stage 1 and 2", '
    '"Reception and KS1"), "Selected Students", "Pupils taking part in ...", or "None"'
)


def parse_year_groups(text: str | None, school_years: tuple[str, ...]) -> YearGroups:
    """Read a register's "Year Groups Enrolled" text; "All" means every year the school has."""
    original = text or ""
    cleaned = " ".join(original.split())
    if not cleaned or _NONE.fullmatch(cleaned):
        return YearGroups("none", (), original)
    if _SELECTED.fullmatch(cleaned):
        # Enrolment is decided pupil by pupil, so no year is implied.
        return YearGroups("selected", (), original)
    if _ALL.fullmatch(cleaned):
        if not school_years:
            # Refuse rather than enrol nobody (or everybody) without saying so.
            raise InvalidInput(
                f'Year groups "{original}" needs the school\'s own year groups: '
                "set them first, for example R,1-6."
            )
        return YearGroups("years", sort_codes(school_years), original)
    try:
        return YearGroups("years", parse_year_list(cleaned), original)
    except InvalidInput:
        raise InvalidInput(f'Year groups "{original}" not recognised: use {_GROUP_FORMS}.') from None


def untaught_years(text: str | None, school_years: tuple[str, ...]) -> tuple[str, ...]:
    """The years a register's year-group text names that the school does not teach, in curriculum order.

    A key stage stands for the part of it the school teaches ("EYFS" in a Reception-Year 6 school is its
    Reception), so a stage is outside only when the school teaches none of it. "All", selected pupils and
    nobody are never outside. The text is one `parse_year_groups` has read.
    """
    cleaned = " ".join((text or "").split())
    if (
        not school_years
        or not cleaned
        or any(pattern.fullmatch(cleaned) for pattern in (_NONE, _SELECTED, _ALL))
    ):
        return ()
    taught = set(school_years)
    outside: list[str] = []
    after_stage = False
    for item in _ITEM_SEP.split(cleaned):
        if after_stage and _STAGE_NUMBER.fullmatch(item):
            codes, stage = KEY_STAGES[f"ks{item}"], True
        else:
            stage = after_stage = bool(_STAGE.fullmatch(item))
            codes = _parse_item(item)
        if stage and taught & set(codes):
            continue
        outside += [code for code in codes if code not in taught]
    return sort_codes(outside)
