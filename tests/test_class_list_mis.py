"""Class lists as MIS reports really write them: their headings, .xlsx workbooks, duplicate headings, one
"Surname Forename" column, years the school does not teach, the DfE's X, and columns not read."""

from __future__ import annotations

from datetime import date

import openpyxl
import pytest

from cloudctl.importers.class_list import read_class_list
from tests.helpers.class_lists import AS_OF, upn_for, write_csv_text

AS_OF_TEXT = AS_OF.isoformat()
PRIMARY = ("R", "1", "2", "3", "4", "5", "6")


@pytest.fixture
def cli(cli):
    cli.ok("init", "--school", "Test Primary", "--years", "R,1-6")
    return cli


def import_file(cli, path, *extra):
    return cli.ok("pupil", "import", str(path), "--as-of", AS_OF_TEXT, *extra)


def refused(cli, path, *extra):
    before = cli.snapshot()
    result = cli.fails("pupil", "import", str(path), "--as-of", AS_OF_TEXT, *extra)
    assert result.exit_code == 1
    assert "nothing was imported" in result.stderr
    assert cli.snapshot() == before
    return result


def held(cli) -> dict[str, dict]:
    return {pupil["upn"]: pupil for pupil in cli.json("pupil", "list", "--include-left")}


def test_mis_headings_are_read(cli, tmp_path):
    text = (
        "Admissions Number,UPN,Surname,Forename,M/F,DOB,Year,Reg\n"
        f"000123,{upn_for(1)},Hughes,Zoë,F,03/04/2018,3,3B\n"
    )
    import_file(cli, write_csv_text(tmp_path / "sims.csv", text))
    pupil = held(cli)[upn_for(1)]
    assert (pupil["gender"], pupil["class_name"], pupil["admission_number"]) == ("F", "3B", "000123")


@pytest.mark.parametrize("heading", ["Form", "Tutor Group", "Form/Tutor Group", "Reg", "Reg Group"])
def test_class_headings(tmp_path, heading):
    path = write_csv_text(
        tmp_path / "list.csv",
        f"UPN,Surname,Forename,DOB,Year,{heading}\n{upn_for(1)},Li,Wei,03/04/2018,3,3B\n",
    )
    (row,) = read_class_list(path, as_of=AS_OF)
    assert row.class_name == "3B"


def test_duplicate_headings_read_the_pupils_columns_and_say_so(cli, tmp_path):
    text = (
        "UPN,Surname,Forename,DOB,Year,Contact Relationship,Surname,Forename\n"
        f"{upn_for(1)},Hughes,Zoë,03/04/2018,3,Mother,Hughes-Price,Carys\n"
    )
    result = import_file(cli, write_csv_text(tmp_path / "dup.csv", text))
    pupil = held(cli)[upn_for(1)]
    assert (pupil["surname"], pupil["forename"]) == ("Hughes", "Zoë")
    assert (
        '2 columns are headed "Surname": column B, the first, was read as the pupil\'s surname'
        in result.stderr
    )
    assert '2 columns are headed "Forename": column C' in result.stderr
    assert "column(s) H" in result.stderr
    assert 'Column(s) not read, as cloudctl keeps no such field for a pupil: "Contact Relationship"' in (
        result.stderr
    )


def test_unknown_optional_columns_are_listed_in_the_summary(cli, tmp_path):
    text = f"UPN,Surname,Forename,DOB,Year,Ethnicity,Medical Notes\n{upn_for(1)},Li,Wei,03/04/2018,3,,\n"
    result = import_file(cli, write_csv_text(tmp_path / "extra.csv", text))
    assert '"Ethnicity", "Medical Notes"' in result.stderr


def test_a_filled_column_with_no_heading_is_counted_in_the_summary_never_quoted(cli, tmp_path):
    text = (
        "UPN,Surname,,Forename,DOB,Year,\n"
        f"{upn_for(1)},Li,peanut allergy,Wei,03/04/2018,3,\n"
        f"{upn_for(2)},Hughes,,Zoë,03/04/2018,3,\n"
        f"{upn_for(3)},Ahmed,asthma,Sara,03/04/2018,3,\n"
    )
    result = import_file(cli, write_csv_text(tmp_path / "unnamed.csv", text))
    assert len(held(cli)) == 3
    assert "Column(s) with no heading hold something, which was not read: C (2 rows)." in result.stderr
    assert "allergy" not in result.stderr and "asthma" not in result.stderr


def test_an_empty_column_with_no_heading_says_nothing(cli, tmp_path):
    text = f"UPN,Surname,,Forename,DOB,Year\n{upn_for(1)},Li,,Wei,03/04/2018,3\n"
    result = import_file(cli, write_csv_text(tmp_path / "gap.csv", text))
    assert "no heading" not in result.stderr


def test_a_workbook_column_with_no_heading_between_named_ones_is_counted(cli, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["UPN", "Surname", None, "Forename", "DOB", "Year"])
    book.active.append([upn_for(1), "Li", "medical note", "Wei", "03/04/2018", "3"])
    book.save(tmp_path / "unnamed.xlsx")
    result = import_file(cli, tmp_path / "unnamed.xlsx")
    assert "Column(s) with no heading hold something, which was not read: C (1 row)." in result.stderr


def test_surname_forename_with_many_words_is_refused_unless_a_comma_splits_it(cli, tmp_path):
    text = (
        "UPN,Surname Forename,DOB,Year\n"
        f"{upn_for(1)},Hughes Zoë,03/04/2018,3\n"
        f"{upn_for(2)},Ní Bhriain Aoife Máire,03/04/2018,3\n"
        f'{upn_for(3)},"Ní Bhriain, Aoife Máire",03/04/2018,3\n'
    )
    result = refused(cli, write_csv_text(tmp_path / "names.csv", text))
    assert "line 3, column 'Surname Forename': has 4 words" in result.stderr
    assert '"Legal Surname" and "Legal Forename"' in result.stderr
    assert "line 2" not in result.stderr and "line 4" not in result.stderr

    comma = text.replace(f"{upn_for(2)},Ní Bhriain Aoife Máire,03/04/2018,3\n", "")
    import_file(cli, write_csv_text(tmp_path / "comma.csv", comma))
    found = held(cli)
    assert (found[upn_for(3)]["surname"], found[upn_for(3)]["forename"]) == ("Ní Bhriain", "Aoife Máire")
    assert (found[upn_for(1)]["surname"], found[upn_for(1)]["forename"]) == ("Hughes", "Zoë")


def test_pupils_in_years_the_school_does_not_teach_are_refused(cli, tmp_path):
    text = (
        "UPN,Surname,Forename,DOB,Year\n"
        f"{upn_for(1)},Li,Wei,03/04/2018,3\n"
        f"{upn_for(2)},Li,Ann,03/04/2011,Year 10\n"
    )
    result = refused(cli, write_csv_text(tmp_path / "wrong-year.csv", text))
    assert (
        "line 3, column 'Year': Year 10 is not a year this school teaches (its years are R-6)"
        in result.stderr
    )
    assert 'cloudctl init --years "R-6, 10"' in result.stderr
    cli.ok("init", "--years", "R-6, 10")
    import_file(cli, tmp_path / "wrong-year.csv")
    assert held(cli)[upn_for(2)]["year_group"] == "10"


def test_the_dfe_code_x_imports_when_the_school_has_it(cli, tmp_path):
    path = write_csv_text(
        tmp_path / "x.csv", f"UPN,Surname,Forename,DOB,Year\n{upn_for(1)},Li,Wei,03/04/2015,X\n"
    )
    result = refused(cli, path)
    assert "X (not following national curriculum years) is not a year this school teaches" in result.stderr
    cli.ok("init", "--years", "R-6,X")
    import_file(cli, path)
    assert held(cli)[upn_for(1)]["year_group"] == "X"
    assert [row["upn"] for row in cli.json("pupil", "list", "--year", "X")] == [upn_for(1)]


def test_years_are_checked_only_against_a_given_school(tmp_path):
    path = write_csv_text(
        tmp_path / "list.csv", f"UPN,Surname,Forename,DOB,Year\n{upn_for(1)},Li,Wei,03/04/2011,10\n"
    )
    assert read_class_list(path, as_of=AS_OF)[0].year_group == "10"


# -- .xlsx class lists -------------------------------------------------------------------------------


def save_workbook(path, rows, *, title="Pupils"):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path, book


def test_an_xlsx_class_list_imports_like_its_csv(cli, tmp_path):
    rows = [
        ["Class list, autumn term"],
        [],
        ["Adno", "UPN", "Legal Surname", "Legal Forename", "Gender", "DOB", "Year", "Reg Group"],
        ["000123", upn_for(1), "Ní Bhriain", "Aoife", "Female", date(2018, 4, 3), 3, "3B"],
        [124, upn_for(2), "Łukasz", "Nowak", "M", date(2019, 5, 6), "Year 2", "2A"],
    ]
    path, _ = save_workbook(tmp_path / "autumn.xlsx", rows)
    result = import_file(cli, path)
    assert "2 added" in result.stderr
    found = held(cli)
    first = found[upn_for(1)]
    assert (first["surname"], first["dob"], first["year_group"], first["admission_number"]) == (
        "Ní Bhriain",
        "2018-04-03",
        "3",
        "000123",
    )
    assert (found[upn_for(2)]["gender"], found[upn_for(2)]["admission_number"]) == ("M", "124")


def test_xlsx_problems_name_the_excel_row(cli, tmp_path):
    rows = [
        ["UPN", "Surname", "Forename", "DOB", "Year"],
        [upn_for(1), "Li", "Wei", date(2018, 4, 3), 3],
        [],
        [upn_for(2), "Li", "Ann", date(2011, 4, 3), 10],
    ]
    path, _ = save_workbook(tmp_path / "list.xlsx", rows)
    result = refused(cli, path)
    assert "line 4, column 'Year': Year 10 is not a year this school teaches" in result.stderr


def test_xlsx_with_a_formula_is_refused_and_nothing_written(cli, tmp_path):
    rows = [
        ["UPN", "Surname", "Forename", "DOB", "Year"],
        [upn_for(1), "Li", "Wei", date(2018, 4, 3), "=2+1"],
    ]
    path, _ = save_workbook(tmp_path / "formula.xlsx", rows)
    before = cli.snapshot()
    result = cli.fails("pupil", "import", str(path), "--as-of", AS_OF_TEXT)
    assert result.exit_code == 1
    assert "1 cell(s) hold formulas (E2)" in result.stderr
    assert cli.snapshot() == before


def test_xlsx_sheet_choice_is_said(cli, tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active.append(["This report lists pupils on roll"])
    pupils = book.create_sheet("Pupils")
    pupils.append(["UPN", "Surname", "Forename", "DOB", "Year"])
    pupils.append([upn_for(1), "Li", "Wei", date(2018, 4, 3), 3])
    path = tmp_path / "two-sheets.xlsx"
    book.save(path)
    result = import_file(cli, path)
    assert 'Read sheet "Pupils", the first sheet with a heading row naming a "UPN" column' in result.stderr
    assert '"Read me" (no heading row naming a "UPN" column' in result.stderr


def test_an_xlsx_hidden_column_is_refused_saying_what_was_found_in_the_workbook(cli, tmp_path):
    """A hidden column holding data under no heading: the refusal names the sheet, the column's letter and
    that it is hidden, and says how to mend the workbook; it says nothing of a CSV file's separators."""
    rows = [["UPN", "Surname", "Forename", "DOB", "Year"], [upn_for(1), "Li", "Wei", date(2018, 4, 3), 3]]
    path, book = save_workbook(tmp_path / "hidden.xlsx", rows)
    book.active["G2"] = "free school meals"
    book.active.column_dimensions["G"].hidden = True
    book.save(path)
    result = refused(cli, path)
    assert 'hidden.xlsx, sheet "Pupils"' in result.stderr
    assert "column(s) G (first at G2) are hidden in Excel and hold data under no heading" in result.stderr
    assert "Unhide Columns" in result.stderr
    assert "separator" not in result.stderr and "double quotes" not in result.stderr
    assert "free school meals" not in result.stderr  # what a cell holds may be about a pupil


def test_an_xlsx_cell_under_no_heading_names_the_cell_not_a_separator(cli, tmp_path):
    rows = [
        ["UPN", "Surname", "Forename", "DOB", "Year"],
        [upn_for(1), "Li", "Wei", date(2018, 4, 3), 3, None, "free school meals"],
    ]
    path, _ = save_workbook(tmp_path / "stray.xlsx", rows)
    result = refused(cli, path)
    assert 'line 2: cell(s) G2 of sheet "Pupils" hold something under no heading' in result.stderr
    assert "separator" not in result.stderr and "double quotes" not in result.stderr
    assert "free school meals" not in result.stderr


def test_xlsx_with_an_encoding_is_a_mistake(cli, tmp_path):
    path, _ = save_workbook(tmp_path / "list.xlsx", [["UPN", "Surname"]])
    result = cli.fails("pupil", "import", str(path), "--encoding", "cp1252")
    assert "leave out --encoding" in result.stderr


def test_an_xlsx_line_break_in_a_name_is_refused_with_its_row(cli, tmp_path):
    rows = [
        ["UPN", "Surname", "Forename", "DOB", "Year"],
        [upn_for(1), "Li", "Wei\nJun", date(2018, 4, 3), 3],
    ]
    path, _ = save_workbook(tmp_path / "break.xlsx", rows)
    result = refused(cli, path)
    assert "line 2, column 'Forename'" in result.stderr


@pytest.mark.parametrize(
    ("text", "split"),
    [
        ("Smith John", ("Smith", "John")),
        ("  Smith   John ", ("Smith", "John")),
        ("Van Der Berg, Anna Marie", ("Van Der Berg", "Anna Marie")),
        ("Ní Bhriain,Aoife", ("Ní Bhriain", "Aoife")),
    ],
)
def test_surname_forename_splits_only_when_sure(text, split):
    from cloudctl.importers.class_list_names import split_surname_forename

    assert split_surname_forename(text) == split


@pytest.mark.parametrize(
    "text", ["Smith", "Smith Mary Jane", "Ní Bhriain Aoife Máire", ", Anna", "Smith,", "A, B, C"]
)
def test_surname_forename_refuses_a_guess(text):
    from cloudctl.importers.class_list_names import split_surname_forename

    assert isinstance(split_surname_forename(text), str)
