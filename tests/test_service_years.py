"""A service's year groups must be years the school teaches (its settings), on `service add`, `service edit`
and `register import` alike, as a class list with a pupil in a year the school does not teach is refused:
with the school's years and the two ways to mend it. A key stage counts as the part of it the school teaches.
"""

from __future__ import annotations

import pytest

from cloudctl.vocab.year_groups import untaught_years

PRIMARY = ("R", "1", "2", "3", "4", "5", "6")


@pytest.fixture
def school(cli):
    cli.ok("init", "--school", "Hunwick Primary School", "--years", "R,1-6")
    cli.ok("provider", "add", "Oxford University Press")
    cli.ok("service", "add", "My Maths", "-c", "pupil", "-p", "Oxford University Press", "--years", "Y2 - Y6")
    return cli


def years(cli) -> tuple[str, list[str]]:
    record = cli.json("service", "show", "My Maths")
    return record["year_groups_text"], record["year_groups"]


def test_an_edit_to_years_the_school_does_not_teach_is_refused(school):
    result = school.fails("service", "edit", "My Maths", "--years", "Y9 - Y13")
    assert 'Year groups "Y9 - Y13" name years 9-13, which this school does not teach' in result.stderr
    assert "(its years are R-6)" in result.stderr
    assert 'cloudctl init --years "R-6, 9-13"' in result.stderr
    assert years(school) == ("Y2 - Y6", ["2", "3", "4", "5", "6"])


@pytest.mark.parametrize(
    ("text", "named"),
    [("Y7", "Year 7"), ("R-8", "years 7-8"), ("KS3", "years 7-9"), ("N1, R", "Nursery 1"),
     ("Y1 to Y6, X", "X (not following national curriculum years)")],
)  # fmt: skip
def test_an_add_naming_a_year_not_taught_is_refused(school, text, named):
    result = school.fails(
        "service", "add", "Reading Eggs", "-c", "pupil", "-p", "Oxford University Press", "--years", text
    )
    assert f'Year groups "{text}" name {named}, which this school does not teach' in result.stderr


@pytest.mark.parametrize(
    "text", ["All", "Y1 to Y6", "EYFS", "KS2", "Reception and KS1", "Selected Students", "None", ""]
)
def test_years_within_the_school_and_its_key_stages_are_accepted(school, text):
    school.ok("service", "edit", "My Maths", "--years", text)


def test_once_the_school_teaches_them_the_years_are_accepted(school):
    school.ok("init", "--years", "R-6, 9-13")
    school.ok("service", "edit", "My Maths", "--years", "Y9 - Y13")
    assert years(school) == ("Y9 - Y13", ["9", "10", "11", "12", "13"])


def test_a_register_import_naming_years_not_taught_is_refused_with_the_line(school, tmp_path):
    path = tmp_path / "register.txt"
    path.write_text(
        "Hunwick Primary School\nCloud Service Providers\n\nServices for Pupils or Parents\n\n"
        "Reading Eggs\nService Provider: Blake eLearning\nPurpose: Reading\nData Shared: full name\n"
        "Year Groups Enrolled: Years 7, 8 and 9\n",
        encoding="utf-8",
    )
    result = school.fails("register", "import", str(path))
    assert "line 10" in result.stderr
    assert 'Year groups "Years 7, 8 and 9" of "Reading Eggs" name years 7-9' in result.stderr
    assert 'cloudctl init --years "R-9"' in result.stderr


@pytest.mark.parametrize(
    ("text", "outside"),
    [("Y9 - Y13", ("9", "10", "11", "12", "13")), ("EYFS", ()), ("Early Years", ()), ("KS3", ("7", "8", "9")),
     ("Key Stage 2 and 3", ("7", "8", "9")), ("KS1/2", ()), ("Y5/6", ()), ("R-8", ("7", "8")), ("All", ()),
     ("Selected Students", ()), ("No children enrolled by school", ()), ("", ()), ("R-6, X", ("X",))],
)  # fmt: skip
def test_the_years_outside(text, outside):
    assert untaught_years(text, PRIMARY) == outside


def test_a_key_stage_the_school_teaches_none_of_is_outside():
    assert untaught_years("EYFS", ("3", "4", "5", "6")) == ("N1", "N2", "R")
    assert untaught_years("KS1 and KS2", ("R", "1", "2")) == ("3", "4", "5", "6")
