"""Class lists as schools' MIS exports write them: valid UPNs, fictional pupils, several header styles.

Deterministic (a seeded random generator), so a test or the benchmark gets the same file every time. Used by
the pupil tests, the crash-safety test and benchmarks/pupil_import.py.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from cloudctl.vocab.upn import make_upn

# The date these lists are "exported" on: pupils' ages and year groups fit it. Pass --as-of with it.
AS_OF = date(2026, 9, 1)
LA = 801

GIRLS = (
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Freya",
    "Florence",
    "Willow",
    "Grace",
    "Zoë",
    "Siân",
    "Chloé",
    "Renée",
    "Aoife",
    "Ffion",
    "Priya",
    "Fatima",
    "Hana",
    "Zuzanna",
    "Inés",
    "Ellie",
)
BOYS = (
    "Oliver",
    "George",
    "Harry",
    "Noah",
    "Jack",
    "Leo",
    "Arthur",
    "Muhammad",
    "Oscar",
    "Charlie",
    "Noël",
    "Seán",
    "Rhys",
    "Dafydd",
    "Aarav",
    "Yusuf",
    "Kacper",
    "Tomás",
)
SURNAMES = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Thomas",
    "Clarke",
    "Jackson",
    "Wood",
    "Harris",
    "Edwards",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Hughes",
    "Moore",
    "Clark",
    "King",
    "Harrison",
    "Lewis",
    "Baker",
    "Lee",
    "Allen",
    "Morris",
    "Khan",
    "O'Brien",
    "Smith-Jones",
    "Nowak",
    "Begum",
    "Ahmed",
    "Murphy",
    "Kelly",
    "Price",
    "Bennett",
    "Griffiths",
)
PREFERRED = {"Oliver": "Olly", "Amelia": "Millie", "Harry": "Haz", "Florence": "Flo", "Charlie": "Chaz"}
YEARS = ("R", "1", "2", "3", "4", "5", "6")
_OFFSET = {"N1": -2, "N2": -1, "R": 0, **{str(year): year for year in range(1, 15)}}


@dataclass(frozen=True)
class FakePupil:
    upn: str
    forename: str
    surname: str
    dob: date
    gender: str  # M or F
    year: str  # NC code
    class_name: str
    admission_number: str
    preferred_forename: str = ""
    preferred_surname: str = ""


def upn_for(index: int, *, temporary: bool = False) -> str:
    """A valid UPN, different for every index up to ten million (temporary ones up to 23,000)."""
    if temporary:
        return make_upn(LA, 9000 + index // 2300, 26, index % 2300, temporary=True)
    return make_upn(LA, (index // 1000) % 10000, 10 + index // 10_000_000, index % 1000)


def dob_range(year: str, as_of: date = AS_OF) -> tuple[date, date]:
    """The dates of birth of a year group in the school year that starts in as_of's September."""
    start = as_of.year if as_of.month >= 9 else as_of.year - 1
    born = start - 5 - _OFFSET[year]
    return date(born, 9, 1), date(born + 1, 8, 31)


def class_for(year: str, index: int) -> str:
    return f"{year}{'ABC'[index % 2]}" if year != "R" else ("Robins", "Wrens")[index % 2]


def make_pupils(
    count: int, *, seed: int = 1, start: int = 0, years: Iterable[str] = YEARS
) -> Iterator[FakePupil]:
    """`count` fictional pupils spread over the years, each with a different valid UPN."""
    rng = random.Random(seed)
    years = tuple(years)
    for index in range(start, start + count):
        year = years[index % len(years)]
        first, last = dob_range(year)
        gender = rng.choice("MF")
        forename = rng.choice(BOYS if gender == "M" else GIRLS)
        yield FakePupil(
            upn=upn_for(index),
            forename=forename,
            surname=rng.choice(SURNAMES),
            dob=first + timedelta(days=rng.randrange((last - first).days + 1)),
            gender=gender,
            year=year,
            class_name=class_for(year, index // len(years)),
            admission_number=f"{index + 1:06d}",
            preferred_forename=PREFERRED.get(forename, "") if rng.random() < 0.3 else "",
        )


def pupil_list(count: int, **kwargs) -> list[FakePupil]:
    return list(make_pupils(count, **kwargs))


def with_changes(pupil: FakePupil, **changes) -> FakePupil:
    return replace(pupil, **changes)


# -- writing them as each MIS would -------------------------------------------------------------------


def _year_words(year: str) -> str:
    return "Reception" if year == "R" else f"Year {year}"


def _gender_word(gender: str) -> str:
    return {"M": "Male", "F": "Female"}.get(gender, gender)


STYLES: dict[str, tuple[list[str], Callable[[FakePupil], list[str]]]] = {
    # SIMS: a report built in the MIS, legal names, UK dates, "Year 3", admission numbers with zeros.
    "sims": (
        [
            "Adno",
            "UPN",
            "Legal Surname",
            "Legal Forename",
            "Preferred Forename",
            "Gender",
            "DOB",
            "Year Taught In",
            "Reg Group",
        ],
        lambda p: [
            p.admission_number,
            p.upn,
            p.surname,
            p.forename,
            p.preferred_forename,
            p.gender,
            p.dob.strftime("%d/%m/%Y"),
            _year_words(p.year),
            p.class_name,
        ],
    ),
    # Arbor: first name first, dates with month names, words for gender and year.
    "arbor": (
        [
            "First Name",
            "Preferred First Name",
            "Last Name",
            "UPN",
            "Date of Birth",
            "Gender",
            "Year",
            "Registration Form",
        ],
        lambda p: [
            p.forename,
            p.preferred_forename,
            p.surname,
            p.upn,
            p.dob.strftime("%d %b %Y"),
            _gender_word(p.gender),
            _year_words(p.year),
            p.class_name,
        ],
    ),
    # Bromcom: "Legal Last Name", ISO dates, NC Year as "Y3", Sex, Tutor Group.
    "bromcom": (
        [
            "UPN",
            "Legal Last Name",
            "Forename",
            "Preferred Surname",
            "Date of Birth",
            "Sex",
            "NC Year",
            "Tutor Group",
            "Admission Number",
        ],
        lambda p: [
            p.upn,
            p.surname,
            p.forename,
            p.preferred_surname,
            p.dob.isoformat(),
            p.gender,
            "R" if p.year == "R" else f"Y{p.year}",
            p.class_name,
            p.admission_number,
        ],
    ),
    # Wonde: snake_case; "forename" and "surname" are the names pupils go by, beside the legal ones.
    "wonde": (
        [
            "mis_id",
            "upn",
            "legal_surname",
            "legal_forename",
            "surname",
            "forename",
            "date_of_birth",
            "gender",
            "year_group",
            "registration_group",
        ],
        lambda p: [
            p.admission_number,
            p.upn,
            p.surname,
            p.forename,
            p.preferred_surname or p.surname,
            p.preferred_forename or p.forename,
            p.dob.isoformat(),
            p.gender,
            p.year,
            p.class_name,
        ],
    ),
    # One "Surname Forename" column, as some SIMS reports write the name.
    "single-name": (
        ["UPN", "Surname Forename", "DOB", "Year", "Form"],
        lambda p: [p.upn, f"{p.surname} {p.forename}", p.dob.strftime("%d/%m/%Y"), p.year, p.class_name],
    ),
}
NOTES = ("", "Total: {count} pupils", "Report printed from the MIS")


def class_list_rows(pupils: Iterable[FakePupil], style: str = "sims") -> Iterator[list[str]]:
    heading, cells = STYLES[style]
    yield list(heading)
    for pupil in pupils:
        yield cells(pupil)


def class_list_csv(
    pupils: Iterable[FakePupil],
    style: str = "sims",
    *,
    delimiter: str = ",",
    newline: str = "\r\n",
    notes: Iterable[str] = (),
) -> str:
    """The CSV text of a class list, with optional note rows after the last pupil."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    count = 0
    for row in class_list_rows(pupils, style):
        writer.writerow(row)
        count += 1
    for note in notes:
        writer.writerow([note.format(count=count - 1)])
    return out.getvalue()


def write_class_list(
    path: Path,
    pupils: Iterable[FakePupil],
    style: str = "sims",
    *,
    encoding: str = "utf-8",
    bom: bool = False,
    delimiter: str = ",",
    newline: str = "\r\n",
    notes: Iterable[str] = (),
) -> Path:
    """Write a class list file, streaming, so a million pupils never sit in memory."""
    with path.open("w", encoding="utf-8-sig" if bom else encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator=newline)
        count = 0
        for row in class_list_rows(pupils, style):
            writer.writerow(row)
            count += 1
        for note in notes:
            writer.writerow([note.format(count=count - 1)])
    return path


def write_csv_text(path: Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write text exactly as given (no newline translation), for hand-made bad files."""
    path.write_bytes(text.encode(encoding))
    return path
