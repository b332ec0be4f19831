"""`cloudctl pupil import`: class lists as MIS exports write them, re-imports, leavers, and bad files."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import replace
from datetime import date

import pytest

from tests.helpers.class_lists import (
    AS_OF,
    NOTES,
    class_list_rows,
    pupil_list,
    upn_for,
    write_class_list,
    write_csv_text,
)

AS_OF_TEXT = AS_OF.isoformat()


@pytest.fixture
def cli(cli):
    """The shared fixture, with the database created, so a refusal can be compared with it."""
    cli.ok("pupil", "list")
    return cli


def import_file(cli, path, *extra):
    return cli.ok("pupil", "import", str(path), "--as-of", AS_OF_TEXT, *extra)


def held(cli) -> dict[str, dict]:
    """Every pupil in the database (on roll or not), by UPN."""
    return {pupil["upn"]: pupil for pupil in cli.json("pupil", "list", "--include-left")}


def expected_record(pupil) -> dict:
    return {
        "upn": pupil.upn,
        "upn_temporary": False,
        "forename": pupil.forename,
        "surname": pupil.surname,
        "preferred_forename": pupil.preferred_forename or None,
        "dob": pupil.dob.isoformat(),
        "year_group": pupil.year,
        "class_name": pupil.class_name,
        "on_roll": True,
        "left_on": None,
    }


def subset(record: dict, keys) -> dict:
    return {key: record[key] for key in keys}


# -- files that import -----------------------------------------------------------------------------


def test_sims_export_with_crlf_and_trailing_notes(cli, tmp_path):
    pupils = pupil_list(30)
    path = write_class_list(tmp_path / "sims.csv", pupils, "sims", notes=NOTES)
    assert b"\r\n" in path.read_bytes()
    result = import_file(cli, path)
    assert "30 added" in result.stderr
    found = held(cli)
    assert len(found) == 30
    for pupil in pupils:
        record = found[pupil.upn]
        assert subset(record, expected_record(pupil)) == expected_record(pupil)
        assert record["gender"] == pupil.gender
        assert record["admission_number"] == pupil.admission_number  # leading zeros kept
    assert found[pupils[0].upn]["admission_number"] == "000001"


@pytest.mark.parametrize("style", ["sims", "arbor", "bromcom", "wonde", "single-name"])
def test_each_mis_style_imports_the_same_pupils(cli, tmp_path, style):
    pupils = pupil_list(21, seed=5)
    import_file(cli, write_class_list(tmp_path / f"{style}.csv", pupils, style))
    found = held(cli)
    for pupil in pupils:
        expected = expected_record(pupil)
        if style in ("bromcom", "single-name"):
            expected["preferred_forename"] = None  # these exports carry no preferred forename
        assert subset(found[pupil.upn], expected) == expected


def test_wonde_plain_names_are_the_preferred_ones(cli, tmp_path):
    pupil = replace(pupil_list(1)[0], forename="Alexander", preferred_forename="Alex", surname="Smith")
    import_file(cli, write_class_list(tmp_path / "wonde.csv", [pupil], "wonde"))
    record = held(cli)[pupil.upn]
    assert (record["forename"], record["preferred_forename"]) == ("Alexander", "Alex")
    # Wonde repeats the legal surname as "surname": that is not a second name.
    assert record["preferred_surname"] is None


def test_windows_1252_with_accented_names(cli, tmp_path):
    names = ["Zoë", "Siân", "Chloé", "Noël", "Renée"]
    pupils = [replace(pupil, forename=name) for pupil, name in zip(pupil_list(5), names, strict=True)]
    path = write_class_list(tmp_path / "excel.csv", pupils, "sims", encoding="cp1252")
    assert "Zoë".encode("cp1252") in path.read_bytes()
    result = import_file(cli, path)
    assert "5 added" in result.stderr
    assert sorted(pupil["forename"] for pupil in held(cli).values()) == sorted(names)


def test_utf8_with_a_byte_order_mark(cli, tmp_path):
    pupils = [replace(pupil, surname="Łukasiewicz") for pupil in pupil_list(4)]
    path = write_class_list(tmp_path / "bom.csv", pupils, "bromcom", bom=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    import_file(cli, path)
    assert {pupil["surname"] for pupil in held(cli).values()} == {"Łukasiewicz"}


def test_semicolons(cli, tmp_path):
    pupils = pupil_list(8)
    import_file(cli, write_class_list(tmp_path / "semi.csv", pupils, "bromcom", delimiter=";"))
    assert set(held(cli)) == {pupil.upn for pupil in pupils}


def test_excel_unicode_text_tab_separated_utf16(cli, tmp_path):
    pupils = [replace(pupil_list(3)[0], forename="Siân")]
    path = write_class_list(tmp_path / "unicode.txt", pupils, "arbor", encoding="utf-16", delimiter="\t")
    import_file(cli, path)
    assert [pupil["forename"] for pupil in held(cli).values()] == ["Siân"]


def test_year_and_date_spellings(cli, tmp_path):
    spellings = [
        ("Year 3", "3", "03/04/2018", "2018-04-03"),
        ("Y3", "3", "2018-04-03", "2018-04-03"),
        ("3", "3", "3 April 2018", "2018-04-03"),
        ("R", "R", "03-04-21", "2021-04-03"),
        ("Reception", "R", "3 Apr 2021", "2021-04-03"),
        ("Rec", "R", "03/04/2021 00:00", "2021-04-03"),
        ("Year R", "R", "03.04.2021", "2021-04-03"),
        ("N1", "N1", "2023-04-03", "2023-04-03"),
        ("N2", "N2", "03/04/2022", "2022-04-03"),
        ("Year 10", "10", "03/04/2011", "2011-04-03"),
    ]
    lines = ["UPN,Surname,Forename,DOB,Year"]
    lines += [f"{upn_for(index)},Smith,Ann,{dob},{year}" for index, (year, _, dob, _) in enumerate(spellings)]
    cli.ok("init", "--years", "N1-11")  # pupils in years the school does not teach are refused
    import_file(cli, write_csv_text(tmp_path / "spellings.csv", "\n".join(lines) + "\n"))
    found = held(cli)
    for index, (_, code, _, iso) in enumerate(spellings):
        assert (found[upn_for(index)]["year_group"], found[upn_for(index)]["dob"]) == (code, iso)


def test_columns_in_any_order_extra_columns_and_a_title_above_the_heading(cli, tmp_path):
    text = (
        "Class list for Hunwick Primary School\r\n"
        "Printed 01/09/2026\r\n"
        "\r\n"
        "Ethnicity,d.o.b.,REG GROUP,first_name,Medical notes,last name,Unique Pupil Number,NC Year,Sex\r\n"
        f'WBRI,04/05/2019,3B,Ann,"Asthma, mild",Smith,{upn_for(1)},3,Female\r\n'
        f'WBRI,05/06/2019,3B,"Jo ""JJ""",,"Smith, Jnr",{upn_for(2)},3,X\r\n'
    )
    import_file(cli, write_csv_text(tmp_path / "any-order.csv", text))
    found = held(cli)
    assert subset(found[upn_for(1)], ["forename", "surname", "class_name", "gender", "dob"]) == {
        "forename": "Ann",
        "surname": "Smith",
        "class_name": "3B",
        "gender": "F",
        "dob": "2019-05-04",
    }
    assert (found[upn_for(2)]["forename"], found[upn_for(2)]["surname"]) == ('Jo "JJ"', "Smith, Jnr")
    assert found[upn_for(2)]["gender"] == "X"  # other genders are kept as given
    assert "Asthma" not in str(found)  # columns cloudctl has no use for are not kept


def test_single_name_column_with_a_comma_for_a_surname_with_spaces(cli, tmp_path):
    text = (
        "UPN,Surname Forename,DOB,Year\n"
        f'{upn_for(1)},"Van Der Berg, Anna",01/02/2019,3\n'
        f"{upn_for(2)},Smith Mary,01/02/2019,3\n"
    )
    import_file(cli, write_csv_text(tmp_path / "names.csv", text))
    found = held(cli)
    assert (found[upn_for(1)]["surname"], found[upn_for(1)]["forename"]) == ("Van Der Berg", "Anna")
    assert (found[upn_for(2)]["surname"], found[upn_for(2)]["forename"]) == ("Smith", "Mary")


def test_temporary_upns_are_accepted_and_flagged(cli, tmp_path):
    pupils = pupil_list(3)
    pupils[1] = replace(pupils[1], upn=upn_for(5, temporary=True))
    result = import_file(cli, write_class_list(tmp_path / "temp.csv", pupils))
    assert "1 pupil(s) have a temporary UPN" in result.stderr and "change-upn" in result.stderr
    found = held(cli)
    assert found[upn_for(5, temporary=True)]["upn_temporary"] is True
    assert found[pupils[0].upn]["upn_temporary"] is False


def test_lower_case_and_spaced_upns_are_tidied(cli, tmp_path):
    text = f"UPN,Surname,Forename,DOB,Year\n  {upn_for(7).lower()} ,  Smith ,  Ann   Marie ,01/02/2019,3\n"
    import_file(cli, write_csv_text(tmp_path / "tidy.csv", text))
    assert subset(held(cli)[upn_for(7)], ["surname", "forename"]) == {
        "surname": "Smith",
        "forename": "Ann Marie",
    }


def test_encoding_option_overrides_detection(cli, tmp_path):
    path = write_class_list(
        tmp_path / "latin.csv", [replace(pupil_list(1)[0], forename="Zoë")], encoding="cp1252"
    )
    import_file(cli, path, "--encoding", "latin-1")
    assert [pupil["forename"] for pupil in held(cli).values()] == ["Zoë"]


def test_dry_run_writes_nothing_and_lists_the_changes(cli, tmp_path):
    pupils = pupil_list(6)
    import_file(cli, write_class_list(tmp_path / "first.csv", pupils))
    changed = [*pupils[:4], replace(pupils[4], class_name="6Z", surname="Newname"), *pupil_list(1, start=50)]
    path = write_class_list(tmp_path / "second.csv", changed)
    before = cli.snapshot()
    result = cli.ok("pupil", "import", str(path), "--as-of", AS_OF_TEXT, "--dry-run", "--format", "json")
    assert cli.snapshot() == before
    rows = {(row["action"], row["upn"]): row for row in __import__("json").loads(result.stdout)}
    assert rows[("updated", pupils[4].upn)]["fields"] == ["surname", "class_name"]
    assert rows[("updated", pupils[4].upn)]["line"] == 6
    assert ("added", upn_for(50)) in rows
    assert ("leaving", pupils[5].upn) in rows
    assert len(rows) == 3
    assert "1 to add, 1 to update, 0 coming back on roll, 1 leaving the roll, 4 unchanged" in result.stderr
    assert "Nothing was written" in result.stderr


# -- importing again -------------------------------------------------------------------------------


def test_an_unchanged_file_rewrites_nothing(cli, tmp_path):
    path = write_class_list(tmp_path / "list.csv", pupil_list(40))
    import_file(cli, path)
    before = cli.snapshot()
    result = import_file(cli, path)
    assert "0 added, 0 updated, 0 back on roll, 0 left the roll, 40 unchanged" in result.stderr
    assert cli.snapshot() == before  # not even updated_at moved


def test_reimport_updates_names_class_and_year(cli, tmp_path):
    cli.ok("init", "--years", "R-7")  # a Year 6 pupil moves up to Year 7
    pupils = pupil_list(10)
    import_file(cli, write_class_list(tmp_path / "july.csv", pupils))
    created = {upn: record for upn, record in held(cli).items()}
    # September: everyone moves up a year and class; one pupil changes surname.
    moved = [
        replace(
            pupil,
            year=str(int(pupil.year) + 1) if pupil.year != "R" else "1",
            class_name=f"new-{pupil.class_name}",
        )
        for pupil in pupils
    ]
    moved[3] = replace(moved[3], surname="Okafor", preferred_forename="Tee")
    result = import_file(cli, write_class_list(tmp_path / "september.csv", moved))
    assert "0 added, 10 updated" in result.stderr
    found = held(cli)
    for pupil in moved:
        assert subset(found[pupil.upn], expected_record(pupil)) == expected_record(pupil)
    assert set(found) == set(created)


def test_a_pupil_missing_from_a_full_import_leaves_and_comes_back(cli, tmp_path):
    pupils = pupil_list(6)
    import_file(cli, write_class_list(tmp_path / "all.csv", pupils))
    result = cli.ok(
        "pupil", "import", str(write_class_list(tmp_path / "fewer.csv", pupils[2:])), "--as-of", "2026-10-20"
    )
    assert "2 left the roll (leaving date 2026-10-20)" in result.stderr
    on_roll = cli.json("pupil", "list")
    assert {pupil["upn"] for pupil in on_roll} == {pupil.upn for pupil in pupils[2:]}
    found = held(cli)
    assert len(found) == 6  # leavers are kept, never deleted
    assert subset(found[pupils[0].upn], ["on_roll", "left_on"]) == {"on_roll": False, "left_on": "2026-10-20"}
    # Importing without them again leaves them as they are.
    again = cli.ok("pupil", "import", str(tmp_path / "fewer.csv"), "--as-of", "2026-11-01")
    assert "0 left the roll" in again.stderr
    assert held(cli)[pupils[0].upn]["left_on"] == "2026-10-20"
    # A pupil who comes back is on roll again, and their record is the one they had.
    back = import_file(cli, tmp_path / "all.csv")
    assert "2 back on roll" in back.stderr
    assert subset(held(cli)[pupils[0].upn], ["on_roll", "left_on"]) == {"on_roll": True, "left_on": None}


def test_partial_import_takes_nobody_off_roll(cli, tmp_path):
    pupils = pupil_list(14)
    import_file(cli, write_class_list(tmp_path / "all.csv", pupils))
    one_class = [replace(pupil, surname="Changed") for pupil in pupils if pupil.class_name == "1A"]
    assert one_class
    result = import_file(cli, write_class_list(tmp_path / "1a.csv", one_class), "--partial")
    assert f"0 added, {len(one_class)} updated" in result.stderr
    assert "nobody was taken off the roll" in result.stderr
    found = held(cli)
    assert all(pupil["on_roll"] for pupil in found.values())
    assert {found[pupil.upn]["surname"] for pupil in one_class} == {"Changed"}


def test_partial_import_brings_a_returning_pupil_back(cli, tmp_path):
    pupils = pupil_list(4)
    import_file(cli, write_class_list(tmp_path / "all.csv", pupils))
    import_file(cli, write_class_list(tmp_path / "three.csv", pupils[1:]))
    import_file(cli, write_class_list(tmp_path / "one.csv", pupils[:1]), "--partial")
    assert all(pupil["on_roll"] for pupil in held(cli).values())


def test_a_file_without_an_optional_column_leaves_that_field_alone(cli, tmp_path):
    pupils = pupil_list(5)
    import_file(cli, write_class_list(tmp_path / "sims.csv", pupils, "sims"))
    # The single-name report has no admission number, gender or preferred name columns.
    result = import_file(cli, write_class_list(tmp_path / "names.csv", pupils, "single-name"))
    assert "5 unchanged" in result.stderr
    found = held(cli)
    assert [found[pupil.upn]["admission_number"] for pupil in pupils] == [p.admission_number for p in pupils]


def test_a_permanent_upn_for_a_temporary_one_is_refused_until_change_upn(cli, tmp_path):
    pupils = pupil_list(5)
    temporary = upn_for(3, temporary=True)
    first = [replace(pupils[0], upn=temporary), *pupils[1:]]
    import_file(cli, write_class_list(tmp_path / "autumn.csv", first))
    path = write_class_list(tmp_path / "spring.csv", pupils)
    result = cli.fails("pupil", "import", str(path), "--as-of", AS_OF_TEXT)
    assert "line 2" in result.stderr
    assert f"cloudctl pupil change-upn {temporary} {pupils[0].upn}" in result.stderr
    cli.ok("pupil", "change-upn", temporary, pupils[0].upn)
    result = import_file(cli, path)
    assert "0 added" in result.stderr and "0 left the roll" in result.stderr


def test_created_at_survives_an_update_and_timestamps_read_back(cli, tmp_path):
    from sqlmodel import Session, create_engine, select

    from cloudctl.db.models import Pupil

    pupils = pupil_list(3)
    import_file(cli, write_class_list(tmp_path / "a.csv", pupils))
    engine = create_engine(cli.url)
    with Session(engine) as session:
        before = {pupil.upn: (pupil.created_at, pupil.updated_at) for pupil in session.exec(select(Pupil))}
    import_file(cli, write_class_list(tmp_path / "b.csv", [replace(pupils[0], surname="New"), *pupils[1:]]))
    with Session(engine) as session:
        after = {
            pupil.upn: (pupil.created_at, pupil.updated_at, pupil.dob)
            for pupil in session.exec(select(Pupil))
        }
    engine.dispose()
    assert after[pupils[0].upn][0] == before[pupils[0].upn][0]
    assert after[pupils[0].upn][1] > before[pupils[0].upn][1]
    assert after[pupils[1].upn][:2] == before[pupils[1].upn]
    assert after[pupils[1].upn][2] == pupils[1].dob
    assert after[pupils[1].upn][0].tzinfo is not None  # read back as aware UTC, as the ORM wrote it


def test_writes_in_chunks_are_rolled_back_when_a_late_row_is_bad(cli, tmp_path, monkeypatch):
    from cloudctl.domain import pupils as pupils_module

    monkeypatch.setattr(pupils_module, "CHUNK", 5)  # so rows are written before the bad one is read
    import_file(cli, write_class_list(tmp_path / "start.csv", pupil_list(7)))
    rows = list(class_list_rows(pupil_list(30), "sims"))
    rows[2][3] = "Renamed"  # an update early on
    rows[29][6] = "31/02/2019"
    result = cli.fails("pupil", "import", str(write_rows(tmp_path / "late.csv", rows)), "--as-of", AS_OF_TEXT)
    assert "line 30" in result.stderr


# -- files that are refused ------------------------------------------------------------------------


def write_rows(path, rows, delimiter=","):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return write_csv_text(path, out.getvalue())


def sims_rows(count=6):
    """Heading (line 1) and pupils: rows[n] is on line n + 1. Columns: Adno, UPN, Legal Surname,
    Legal Forename, Preferred Forename, Gender, DOB, Year Taught In, Reg Group."""
    return [list(row) for row in class_list_rows(pupil_list(count), "sims")]


def _set(line, column, value):
    def mutate(rows):
        rows[line - 1][column] = value

    return mutate


def _duplicate(rows):
    rows[4][1] = rows[1][1]


def _drop_column(*columns):
    def mutate(rows):
        for row in rows:
            for column in sorted(columns, reverse=True):
                del row[column]

    return mutate


def _short_row(rows):
    del rows[2][-2:]


def _long_row(rows):
    rows[2].insert(3, "Jnr")


def _note_in_the_middle(rows):
    rows.insert(3, ["Class 3B starts here"])


BAD_FILES = {
    "wrong check letter": (
        _set(3, 1, "Z801200001001"),
        ["line 3", "'UPN'", "wrong check letter", "Z801200001001"],
    ),
    "UPN too short": (_set(2, 1, "H80120000100"), ["line 2", "13 characters"]),
    "UPN blank": (_set(4, 1, ""), ["line 4", "UPN is blank"]),
    "UPN with a letter O": (_set(2, 1, "H8012000O1001"), ["line 2", "digits in characters 2 to 12"]),
    "UPN twice": (_duplicate, ["line 5", "also on line 2"]),
    "birth in the future": (_set(2, 6, "01/01/2030"), ["line 2", "'DOB'", "in the future", "01/01/2030"]),
    "younger than 2": (_set(3, 6, "01/06/2025"), ["line 3", "younger than 2 on 2026-09-01"]),
    "older than 19": (_set(4, 6, "01/01/2000"), ["line 4", "older than 19"]),
    "impossible date": (_set(2, 6, "31/02/2016"), ["line 2", "not a date", "31/02/2016"]),
    "US date": (_set(2, 6, "04/13/2016"), ["line 2", "not a date", "day first"]),
    "month without a day": (_set(5, 6, "April 2016"), ["line 5", "needs the day"]),
    "unknown year group": (
        _set(2, 7, "Year 15"),
        ["line 2", "'Year Taught In'", "not a school year", "Year 15"],
    ),
    "blank year group": (_set(6, 7, ""), ["line 6", "year group is blank"]),
    "row with too few cells": (_short_row, ["line 3", "7 cells but the heading row has 9"]),
    "row with too many cells": (
        _long_row,
        ["line 3", "10 cells but the heading row has 9", "comma in a name"],
    ),
    "blank surname": (_set(2, 2, "  "), ["line 2", "'Legal Surname'", "surname is blank"]),
    "blank forename": (_set(3, 3, ""), ["line 3", "forename is blank"]),
    "name far too long": (
        _set(2, 3, "A" * 150),
        ["line 2", "'Legal Forename'", "150 characters long", "at most 100", "run together"],
    ),
    "a note between pupils": (_note_in_the_middle, ["line 4", "not a pupil", "Class 3B starts here"]),
    "no date of birth column": (
        _drop_column(6),
        ["line 1", "no DOB column", '"Date of Birth"', '"Birthdate"'],
    ),
    "no UPN or year columns": (
        _drop_column(1, 7),
        ["no UPN column", '"Unique Pupil Number"', "no Year column"],
    ),
    "no name columns": (_drop_column(2, 3), ["no Surname column", "no Forename column", "Surname Forename"]),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_bad_files_are_refused_with_line_numbers(cli, tmp_path, kind):
    mutate, expected = BAD_FILES[kind]
    import_file(cli, write_class_list(tmp_path / "before.csv", pupil_list(3, start=100)))
    rows = sims_rows()
    mutate(rows)
    result = cli.fails("pupil", "import", str(write_rows(tmp_path / "bad.csv", rows)), "--as-of", AS_OF_TEXT)
    for fragment in expected:
        assert fragment in result.stderr
    assert "so nothing was imported" in result.stderr and "Traceback" not in result.stderr


RAW_BAD_FILES = {
    "a quote never closed": (
        f'UPN,Surname,Forename,DOB,Year\r\n{upn_for(1)},"Smith,Ann,01/02/2019,3\r\n{upn_for(2)},Jones,Bo,01/02/2019,3\r\n',
        ["line 2", "runs on to line 3", "double quote"],
    ),
    "an Excel workbook": ("PK\x03\x04 binary workbook", ["Excel workbook", "CSV UTF-8"]),
    "an empty file": ("", ["is empty"]),
    "only a heading": ("UPN,Surname,Forename,DOB,Year\r\n\r\n", ["no pupils"]),
    "one word in the surname forename column": (
        f"UPN,Surname Forename,DOB,Year\r\n{upn_for(1)},Smith,01/02/2019,3\r\n",
        ["line 2", "'Surname Forename'", "surname then the forename"],
    ),
    "no heading at all": (f"{upn_for(1)},Smith,Ann,01/02/2019,3\r\n", ["line 1", "no UPN column"]),
}


@pytest.mark.parametrize("kind", RAW_BAD_FILES)
def test_badly_made_files_are_refused(cli, tmp_path, kind):
    text, expected = RAW_BAD_FILES[kind]
    result = cli.fails("pupil", "import", str(write_csv_text(tmp_path / "bad.csv", text, encoding="latin-1")))
    for fragment in expected:
        assert fragment in result.stderr


def test_every_problem_is_listed_the_first_fifty_then_a_count(cli, tmp_path):
    rows = sims_rows(60)
    for row in rows[1:]:
        row[6] = "not a date"
    rows[10][1] = "X"
    result = cli.fails("pupil", "import", str(write_rows(tmp_path / "bad.csv", rows)), "--as-of", AS_OF_TEXT)
    assert "61 problem(s) found, so nothing was imported" in result.stderr
    assert "... and 11 more." in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip().startswith("line ")]
    assert len(lines) == 50
    assert lines[0].strip().startswith("line 2,") and lines[8].strip().startswith("line 10,")
    assert "line 11, column 'UPN'" in lines[9] and "line 11, column 'DOB'" in lines[10]


def test_problems_show_only_the_offending_cell(cli, tmp_path):
    rows = sims_rows()
    rows[3][1] = "Z801200001001"
    rows[3][3] = "Secretname"
    result = cli.fails("pupil", "import", str(write_rows(tmp_path / "bad.csv", rows)), "--as-of", AS_OF_TEXT)
    assert "Secretname" not in result.stderr
    assert rows[3][6] not in result.stderr  # nor the date of birth beside it


def test_a_problem_after_valid_rows_and_trailing_notes_are_fine(cli, tmp_path):
    rows = sims_rows(4)
    rows += [[], ["Total: 4 pupils", ""], ["", "", "", "", "", "", "", "", ""], ["Printed by SIMS"]]
    result = import_file(cli, write_rows(tmp_path / "notes.csv", rows))
    assert "2 row(s) below the last pupil were taken as notes and ignored" in result.stderr
    assert len(held(cli)) == 4


def test_unknown_encoding_and_wrong_encoding_are_refused(cli, tmp_path):
    path = write_class_list(
        tmp_path / "latin.csv", [replace(pupil_list(1)[0], forename="Zoë")], encoding="cp1252"
    )
    result = cli.fails("pupil", "import", str(path), "--encoding", "klingon")
    assert "not an encoding cloudctl knows" in result.stderr
    result = cli.fails("pupil", "import", str(path), "--encoding", "utf-8", "--as-of", AS_OF_TEXT)
    assert "line 2: the file is not UTF-8 text" in result.stderr


def test_a_missing_file_or_a_folder_is_refused(cli, tmp_path):
    assert "There is no file" in cli.fails("pupil", "import", str(tmp_path / "nope.csv")).stderr
    assert "is a folder" in cli.fails("pupil", "import", str(tmp_path)).stderr


def test_a_bad_as_of_date_is_refused(cli, tmp_path):
    path = write_class_list(tmp_path / "a.csv", pupil_list(2))
    assert "not a valid as-of date" in cli.fails("pupil", "import", str(path), "--as-of", "soon").stderr


def test_age_limits_are_judged_at_the_as_of_date():
    from cloudctl.importers.class_list import ClassList

    rows = sims_rows(2)
    rows[1][6] = "01/09/2007"  # 19 on 1 September 2026, 20 a year later
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = write_rows(Path(folder) / "ages.csv", rows)
        with ClassList(path, as_of=date(2026, 9, 1)) as class_list:
            assert len(list(class_list.rows())) == 2 and not class_list.problems
        with ClassList(path, as_of=date(2027, 9, 1)) as class_list:
            list(class_list.rows())
            assert [problem.line for problem in class_list.problems.shown] == [2]


def test_a_dry_run_of_many_changes_names_every_field(cli, tmp_path, monkeypatch):
    import json

    from cloudctl.domain import pupils as pupils_module

    monkeypatch.setattr(pupils_module, "CHUNK", 4)  # several rounds of reading back old values ...
    monkeypatch.setattr(pupils_module, "IN_CHUNK", 3)  # ... each in several queries
    pupils = pupil_list(30)
    import_file(cli, write_class_list(tmp_path / "all.csv", pupils))
    moved = [replace(pupil, class_name="Moved") for pupil in pupils[:20]]
    moved[5] = replace(moved[5], forename="Renamed")
    result = cli.ok(
        "pupil",
        "import",
        str(write_class_list(tmp_path / "moved.csv", moved)),
        "--as-of",
        AS_OF_TEXT,
        "--dry-run",
        "--format",
        "json",
    )
    rows = json.loads(result.stdout)
    updated = {row["upn"]: row["fields"] for row in rows if row["action"] == "updated"}
    assert len(updated) == 20 and updated[moved[5].upn] == ["forename", "class_name"]
    assert {tuple(fields) for upn, fields in updated.items() if upn != moved[5].upn} == {("class_name",)}
    assert sorted(row["upn"] for row in rows if row["action"] == "leaving") == sorted(
        p.upn for p in pupils[20:]
    )


def test_a_stray_quote_in_a_big_file_is_found(cli, tmp_path):
    rows = sims_rows(3000)  # more text after the quote than a cell may hold
    rows[3][2] = '"Smith'
    path = write_rows(tmp_path / "quote.csv", rows)
    text = path.read_text(encoding="utf-8").replace('"""Smith"', '"Smith')
    write_csv_text(path, text)
    result = cli.fails("pupil", "import", str(path), "--as-of", AS_OF_TEXT)
    assert "line 4: a cell opens with a double quote" in result.stderr


def test_blank_lines_above_the_heading_and_a_file_of_blank_lines(cli, tmp_path):
    text = "\r\n\r\n  \r\n\r\nUPN,Surname,Forename,DOB,Year\r\n" + f"{upn_for(1)},Smith,Ann,01/02/2019,3\r\n"
    import_file(cli, write_csv_text(tmp_path / "blank-top.csv", text))
    assert list(held(cli)) == [upn_for(1)]
    result = cli.fails("pupil", "import", str(write_csv_text(tmp_path / "blank.csv", "\r\n \r\n\r\n")))
    assert "has no rows" in result.stderr


# -- characters the text gate refuses, wherever they are -------------------------------------------


def _with_cell(rows, line, column, value):
    rows[line - 1][column] = value
    return rows


GATED = {
    # (line, column index, value, what the message names)
    "a NUL past the first 4 KB": (90, 2, "Smi\x00th", ["line 90, column 'Legal Surname'", "NUL character"]),
    "a NUL near the top": (2, 3, "A\x00nn", ["line 2, column 'Legal Forename'", "NUL character"]),
    "a terminal escape in the class": (
        40,
        8,
        "\x1b]0;pwned\x073B",
        ["line 40, column 'Reg Group'", "escape character"],
    ),
    "a direction-changing character": (
        7,
        3,
        "Ann\u202egnirts",
        ["line 7, column 'Legal Forename'", "direction-changing"],
    ),
    "a line break in a name": (5, 2, "Smith\nJones", ["line 5, column 'Legal Surname'", "must be one line"]),
    "a form feed in the admission number": (3, 0, "00\x0c12", ["line 3, column 'Adno'", "U+000C"]),
}


@pytest.mark.parametrize("kind", GATED)
def test_refused_characters_anywhere_in_a_class_list(cli, tmp_path, kind):
    line, column, value, expected = GATED[kind]
    rows = _with_cell(sims_rows(120), line, column, value)
    path = write_rows(tmp_path / "gated.csv", rows)
    assert path.stat().st_size > 4096
    result = cli.fails("pupil", "import", str(path), "--as-of", AS_OF_TEXT)
    for fragment in expected:
        assert fragment in result.stderr
    assert "\x00" not in result.stderr and "\x1b" not in result.stderr and "\u202e" not in result.stderr


def test_refused_characters_outside_the_pupils_columns_and_rows(cli, tmp_path):
    """A column cloudctl does not keep, a title above the heading and a note below the pupils are text
    in the file all the same."""
    text = (
        "Class list\x07\r\n"
        "UPN,Surname,Forename,DOB,Year,Medical notes\r\n"
        f"{upn_for(1)},Smith,Ann,01/02/2019,3,asth\x00ma\r\n"
        f"{upn_for(2)},Jones,Bo,01/02/2019,3,\r\n"
        "Printed by \x1b[2JSIMS\r\n"
    )
    result = cli.fails(
        "pupil", "import", str(write_csv_text(tmp_path / "t.csv", text)), "--as-of", AS_OF_TEXT
    )
    assert "3 problem(s)" in result.stderr
    assert "line 1: The text in cell 1 contains a control character (U+0007)" in result.stderr
    assert "line 3, column 'Medical notes'" in result.stderr and "NUL" in result.stderr
    assert "line 5, column 'UPN': The UPN contains an escape character" in result.stderr


def test_line_breaks_in_a_column_cloudctl_does_not_keep_are_fine_and_lines_stay_right(cli, tmp_path):
    text = (
        "UPN,Surname,Forename,DOB,Year,Address\r\n"
        f'{upn_for(1)},Smith,Ann,01/02/2019,3,"1 High Street\r\nHunwick\r\nDL15 0XX"\r\n'
        f"{upn_for(2)},Jones,Bo,01/02/2019,3,\r\n"
        f"{upn_for(3)},Brown,Cy,31/02/2019,3,\r\n"
    )
    result = cli.fails(
        "pupil", "import", str(write_csv_text(tmp_path / "t.csv", text)), "--as-of", AS_OF_TEXT
    )
    assert "1 problem(s)" in result.stderr and "line 6, column 'DOB'" in result.stderr
    import_file(cli, write_csv_text(tmp_path / "ok.csv", text.replace("31/02", "28/02")))
    assert len(held(cli)) == 3


def test_utf16_without_a_byte_order_mark(cli, tmp_path):
    pupils = [replace(pupil, forename="Siân") for pupil in pupil_list(3)]
    path = write_class_list(tmp_path / "wide.txt", pupils, "arbor", encoding="utf-16-le", delimiter="\t")
    assert not path.read_bytes().startswith((b"\xff\xfe", b"\xfe\xff"))
    import_file(cli, path)
    assert {pupil["forename"] for pupil in held(cli).values()} == {"Siân"}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_only_a_regular_file_is_read(cli, tmp_path):
    fifo = tmp_path / "list.csv"
    os.mkfifo(fifo)
    assert "is a named pipe (FIFO), not a file" in cli.fails("pupil", "import", str(fifo)).stderr
    assert "is a device, not a file" in cli.fails("pupil", "import", os.devnull).stderr
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16)
    assert "not a text file" in cli.fails("pupil", "import", str(binary)).stderr


def test_a_line_break_in_a_name_is_refused_on_a_row_with_empty_cells_after_it(cli, tmp_path):
    rows = sims_rows(3)
    rows[2][2] = "Smith\r\nJones"
    rows[2] += ["", ""]  # some exports end rows with empty cells
    result = cli.fails("pupil", "import", str(write_rows(tmp_path / "t.csv", rows)), "--as-of", AS_OF_TEXT)
    assert "line 3, column 'Legal Surname'" in result.stderr and "must be one line" in result.stderr
