"""Year codes, school year lists and the register's "Year Groups Enrolled" texts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cloudctl.errors import InvalidInput
from cloudctl.vocab.year_groups import (
    EYFS,
    NC_YEARS,
    YearGroups,
    format_year_codes,
    parse_year_code,
    parse_year_groups,
    parse_year_list,
    sort_codes,
)

FIXTURE = Path(__file__).parent / "data" / "hunwick-cloud-service-providers.txt"
PRIMARY = ("R", "1", "2", "3", "4", "5", "6")


def test_nc_years_are_in_curriculum_order() -> None:
    assert NC_YEARS == (
        "N1",
        "N2",
        "R",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "10",
        "11",
        "12",
        "13",
        "14",
    )
    assert EYFS == ("N1", "N2", "R")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Year 3", "3"),
        ("Y3", "3"),
        ("3", "3"),
        ("03", "3"),
        ("Yr 3", "3"),
        ("yr3", "3"),
        ("Yr. 3", "3"),
        ("Years 3", "3"),
        (" year  3 ", "3"),
        ("Year 14", "14"),
        ("Y10", "10"),
        ("R", "R"),
        ("r", "R"),
        ("Reception", "R"),
        ("RECEPTION", "R"),
        ("Rec", "R"),
        ("Year R", "R"),
        ("YR", "R"),
        ("yr r", "R"),
        ("N1", "N1"),
        ("n2", "N2"),
        ("N 1", "N1"),
        ("Nursery 1", "N1"),
        ("nursery2", "N2"),
    ],
)
def test_parse_year_code_accepts(text: str, expected: str) -> None:
    assert parse_year_code(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "Year",
        "Y",
        "0",
        "00",
        "15",
        "Year 15",
        "100",
        "N3",
        "N",
        "Nursery",
        "Year 1 0",
        "X3",
        "3a",
        "R1",
        "KS1",
    ],
)
def test_parse_year_code_refuses(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_year_code(text)
    message = str(caught.value)
    assert message.startswith(f'"{text}" is not a school year: use ')
    assert "N1, N2, R (Reception) or 1 to 14" in message and "Year 3" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("R,1-6", PRIMARY),
        ("N1,N2,R,1-6", ("N1", "N2", *PRIMARY)),
        ("7-11", ("7", "8", "9", "10", "11")),
        ("R-6", PRIMARY),
        ("R-2", ("R", "1", "2")),
        ("N1-R", EYFS),
        ("6, 5, 4, R", ("R", "4", "5", "6")),  # sorted
        ("1,1,1-2", ("1", "2")),  # deduplicated
        ("Year 3", ("3",)),
        ("Reception; Year 1", ("R", "1")),
        ("Y1 to Y6", ("1", "2", "3", "4", "5", "6")),
        ("Years 3 and 4", ("3", "4")),
        ("R \u2013 2", ("R", "1", "2")),  # en dash, as Word writes it
        ("3-3", ("3",)),
        ("EYFS, KS1", ("N1", "N2", "R", "1", "2")),
        ("2-3, 5", ("2", "3", "5")),
    ],
)
def test_parse_year_list_accepts(text: str, expected: tuple[str, ...]) -> None:
    assert parse_year_list(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r'^"" is not a list of school years: use, for example, R,1-6 or 7-11\.$'),
        ("  ", r"is not a list of school years"),
        ("R,,1", r'^"R,,1" is not a list of school years'),
        ("1,", r"is not a list of school years"),
        ("6-R", r'^"6-R" runs backwards: write the earlier year first'),
        ("1-2-3", r'^"1-2-3" is not a range of years'),
        ("1-", r'^"1-" is not a range of years'),
        ("R,15", r'^"15" is not a school year'),
        ("Q-3", r'^"Q" is not a school year'),
        ("KS1-KS2", r'^"KS1" is not a school year'),
    ],
)
def test_parse_year_list_refuses(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_year_list(text)


def test_sort_codes_canonicalises_deduplicates_and_orders() -> None:
    assert sort_codes(["10", "2", "R", "N2", "Year 2", "Reception"]) == ("N2", "R", "2", "10")
    assert sort_codes([]) == ()
    with pytest.raises(InvalidInput):
        sort_codes(["R", "Z"])


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (("R", "1", "2", "3"), "R-3"),
        (("N1", "N2", "R"), "N1-R"),
        (("2", "3", "5"), "2-3, 5"),
        (("5",), "5"),
        (("1", "3", "5"), "1, 3, 5"),
        (("3", "R", "2", "1"), "R-3"),
        (("N1", "R", "1", "9", "10", "11"), "N1, R-1, 9-11"),
        ((), ""),
        (NC_YEARS, "N1-14"),
    ],
)
def test_format_year_codes(codes: tuple[str, ...], expected: str) -> None:
    assert format_year_codes(codes) == expected


@pytest.mark.parametrize(
    "codes", [PRIMARY, EYFS, ("2", "3", "5"), ("N1", "R", "1", "9", "10", "11"), ("14",), NC_YEARS]
)
def test_format_then_parse_round_trips(codes: tuple[str, ...]) -> None:
    text = format_year_codes(codes)
    assert parse_year_list(text) == codes
    assert parse_year_groups(text, PRIMARY) == YearGroups("years", codes, text)


@pytest.mark.parametrize(
    ("text", "scope", "codes"),
    [
        ("All", "years", PRIMARY),
        ("all", "years", PRIMARY),
        ("All years", "years", PRIMARY),
        ("Y2 - Y6", "years", ("2", "3", "4", "5", "6")),
        ("Y1 to Y6", "years", ("1", "2", "3", "4", "5", "6")),
        ("Years 1-6", "years", ("1", "2", "3", "4", "5", "6")),
        ("Year 3", "years", ("3",)),
        ("R, Y1", "years", ("R", "1")),
        ("KS1", "years", ("1", "2")),
        ("Key Stage 2", "years", ("3", "4", "5", "6")),
        ("KS2", "years", ("3", "4", "5", "6")),
        ("EYFS", "years", ("N1", "N2", "R")),
        ("Reception", "years", ("R",)),
        ("R-3", "years", ("R", "1", "2", "3")),
        ("Selected Students", "selected", ()),
        ("Selected Children (Subject to individual consent)", "selected", ()),
        ("selected pupils", "selected", ()),
        ("Students taking part in swimming lessons", "selected", ()),
        ("Pupils taking part in the residential trip", "selected", ()),
        ("Children taking part in after-school club", "selected", ()),
        ("No children enrolled by school", "none", ()),
        ("None", "none", ()),
        ("", "none", ()),
        ("   ", "none", ()),
        (None, "none", ()),
    ],
)
def test_parse_year_groups(text: str | None, scope: str, codes: tuple[str, ...]) -> None:
    groups = parse_year_groups(text, PRIMARY)
    assert groups == YearGroups(scope, codes, text or "")


def test_all_means_the_schools_own_years() -> None:
    assert parse_year_groups("All", ("N2", "R", "1")).codes == ("N2", "R", "1")
    assert parse_year_groups("All", ("11", "7", "Year 8")).codes == ("7", "8", "11")


def test_all_without_school_years_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r'^Year groups "All" needs the school\'s own year groups'):
        parse_year_groups("All", ())


def test_text_is_kept_as_written() -> None:
    assert parse_year_groups("  Y2 - Y6 ", PRIMARY).text == "  Y2 - Y6 "


@pytest.mark.parametrize(
    "text",
    ["Everyone", "Year 15", "Y6 - Y2", "Selection", "Some", "taking part", "All of KS2", "R,,1", "KS6"],
)
def test_parse_year_groups_refuses(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_year_groups(text, PRIMARY)
    message = str(caught.value)
    assert message.startswith(f'Year groups "{text}" not recognised: use ')
    for form in ('"All"', '"Y2 - Y6"', '"EYFS"', '"Selected Students"', '"None"'):
        assert form in message


def test_every_year_groups_line_in_the_register() -> None:
    found = re.findall(r"^Year Groups Enrolled:(.*)$", FIXTURE.read_text(encoding="utf-8"), re.M)
    parsed = [parse_year_groups(text.strip(), PRIMARY) for text in found]
    years = ("1", "2", "3", "4", "5", "6")
    assert [(groups.text, groups.scope, groups.codes) for groups in parsed] == [
        ("Y2 - Y6", "years", years[1:]),
        ("All", "years", PRIMARY),
        ("All", "years", PRIMARY),
        ("Selected Students", "selected", ()),
        ("All", "years", PRIMARY),
        ("Y1 to Y6", "years", years),
        ("Selected Children (Subject to individual consent)", "selected", ()),
        ("All", "years", PRIMARY),
        ("All", "years", PRIMARY),
        ("All", "years", PRIMARY),
        ("All", "years", PRIMARY),
        ("No children enrolled by school", "none", ()),
        ("Students taking part in swimming lessons", "selected", ()),
        ("EYFS", "years", EYFS),
        ("", "none", ()),
    ]


# -- the phrases registers use, and the DfE's X ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("Y5/6", ("5", "6")),
        ("Years 7, 8 and 9", ("7", "8", "9")),
        ("KS1", ("1", "2")),
        ("KS2", ("3", "4", "5", "6")),
        ("Key Stage 1 and 2", ("1", "2", "3", "4", "5", "6")),
        ("Key Stages 1 & 2", ("1", "2", "3", "4", "5", "6")),
        ("KS1/2", ("1", "2", "3", "4", "5", "6")),
        ("Reception and KS1", ("R", "1", "2")),
        ("Early Years", ("N1", "N2", "R")),
        ("Early Years Foundation Stage", ("N1", "N2", "R")),
        ("whole school", PRIMARY),
        ("Whole School", PRIMARY),
        ("KS2 and Year 1", ("1", "3", "4", "5", "6")),
    ],
)
def test_register_phrases_are_read(text, codes):
    assert parse_year_groups(text, PRIMARY) == YearGroups("years", codes, text)


@pytest.mark.parametrize("text", ["Some pupils", "KS6", "Year 3 and", "5/", "Y5 to X", "Key Stage", "Y5/Y16"])
def test_text_that_cannot_be_read_is_refused_never_read_as_none(text):
    with pytest.raises(InvalidInput, match="not recognised"):
        parse_year_groups(text, PRIMARY)


@pytest.mark.parametrize("text", ["X", "x", "Year X", "NC Year X", " X "])
def test_the_dfe_code_x_is_a_year_code(text):
    assert parse_year_code(text) == "X"


def test_x_is_listed_last_and_never_inside_a_range():
    assert parse_year_list("X, R-6") == (*PRIMARY, "X")
    assert format_year_codes(("13", "14", "X")) == "13-14, X"
    assert parse_year_list(format_year_codes(("13", "14", "X"))) == ("13", "14", "X")
    with pytest.raises(InvalidInput, match="in a range"):
        parse_year_list("R-X")
    assert "X" not in NC_YEARS
