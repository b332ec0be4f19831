"""The shared .xlsx reader: cells as the text a school typed, and the hostile workbooks it refuses."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest

from cloudctl.errors import InvalidInput
from cloudctl.importers.workbook import cell_text, column_letter, read_workbook


def _save(tmp_path: Path, rows: list[list[object]], name: str = "book.xlsx", **sheets: list[list[object]]):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Pupils"
    for row in rows:
        sheet.append(row)
    for title, more in sheets.items():
        extra = book.create_sheet(title)
        for row in more:
            extra.append(row)
    path = tmp_path / name
    book.save(path)
    return path, book


HEADINGS = ["UPN", "Surname", "Forename", "DOB", "Year", "Adno"]
PUPIL = ["H801200001001", "Ní Bhriain", "Aoife", dt.date(2016, 4, 3), 3, "00123"]


def test_cells_are_read_as_the_text_a_school_typed(tmp_path):
    path, _ = _save(
        tmp_path,
        [
            ["Class list for 3B"],
            [],
            HEADINGS,
            PUPIL,
            ["B801200005001", "Smith", "Jo", dt.datetime(2016, 5, 7), 1.0, 124],
            [],
            ["Z801200001001", "Łukasz", "Ø", "03/04/2016", "Year 3", 7.5],
        ],
    )
    table = read_workbook(path)
    assert table.sheet == "Pupils"
    assert table.heading_row == 3
    assert table.headings == HEADINGS
    assert table.choice == ""
    assert table.rows == [
        (4, ["H801200001001", "Ní Bhriain", "Aoife", "2016-04-03", "3", "00123"]),
        (5, ["B801200005001", "Smith", "Jo", "2016-05-07", "1", "124"]),
        (7, ["Z801200001001", "Łukasz", "Ø", "03/04/2016", "Year 3", "7.5"]),
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (2.5, "2.5"),
        (True, "TRUE"),
        (dt.date(2016, 4, 3), "2016-04-03"),
        (dt.datetime(2016, 4, 3, 0, 0), "2016-04-03"),
        (dt.datetime(2016, 4, 3, 9, 30), "2016-04-03 09:30"),
        (dt.time(9, 30), "09:30"),
        ("00123", "00123"),
        ("", ""),
    ],
)
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_column_letters():
    assert [column_letter(index) for index in (0, 25, 26, 27, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


def test_a_sheet_starting_away_from_a1_keeps_excel_positions(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["C5"], sheet["D5"] = "UPN", "Surname"
    sheet["C6"], sheet["D6"] = "H801200001001", "Smith"
    path = tmp_path / "offset.xlsx"
    book.save(path)
    table = read_workbook(path)
    assert table.heading_row == 5
    assert table.headings == ["", "", "UPN", "Surname"]
    assert table.rows == [(6, ["", "", "H801200001001", "Smith"])]


def test_formula_cells_are_refused_never_evaluated(tmp_path):
    path, _ = _save(tmp_path, [HEADINGS, [*PUPIL[:4], "=1+2", "00123"], [*PUPIL[:5], "=A2"]])
    with pytest.raises(InvalidInput) as caught:
        read_workbook(path)
    message = caught.value.message
    assert "2 cell(s) hold formulas (E2, F3)" in message
    assert "Paste Special > Values" in message


def test_a_formula_with_a_cached_value_is_refused_too(tmp_path):
    """Excel stores the last result beside the formula; calamine shows only the result, so the XML is read."""
    path, _ = _save(tmp_path, [HEADINGS, PUPIL])
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    sheet = sheet.replace('<c r="E2" t="n"><v>3</v></c>', '<c r="E2"><f>1+2</f><v>3</v></c>')
    assert "<f>1+2</f>" in sheet
    parts["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    with pytest.raises(InvalidInput, match=r"1 cell\(s\) hold formulas \(E2\)"):
        read_workbook(path)


def test_error_cells_are_refused(tmp_path):
    path, book = _save(tmp_path, [HEADINGS, PUPIL])
    book.active["E2"] = "#N/A"
    book.active["E2"].data_type = "e"
    book.save(path)
    with pytest.raises(InvalidInput, match=r"E2 shows #N/A"):
        read_workbook(path)


def test_merged_cells_below_the_heading_are_refused(tmp_path):
    path, book = _save(tmp_path, [["Class 3B", "", ""], HEADINGS, PUPIL, PUPIL])
    book.active.merge_cells("A1:C1")  # a merged title above the heading is harmless
    book.active.merge_cells("E3:E4")  # one year for two pupils is not
    book.save(path)
    with pytest.raises(InvalidInput) as caught:
        read_workbook(path)
    assert "cells E3:E4 are merged" in caught.value.message
    assert "A1" not in caught.value.message


def test_merged_title_alone_is_read(tmp_path):
    path, book = _save(tmp_path, [["Class 3B", "", ""], HEADINGS, PUPIL])
    book.active.merge_cells("A1:C1")
    book.save(path)
    assert read_workbook(path).heading_row == 2


def test_hidden_rows_and_named_hidden_columns_are_refused(tmp_path):
    path, book = _save(tmp_path, [HEADINGS, PUPIL, PUPIL, PUPIL])
    book.active.row_dimensions[3].hidden = True
    book.active.row_dimensions[4].hidden = True
    book.active.column_dimensions["F"].hidden = True
    book.save(path)
    with pytest.raises(InvalidInput) as caught:
        read_workbook(path)
    assert "row(s) 3-4 are hidden" in caught.value.message
    assert "column(s) F (Adno) are hidden" in caught.value.message


def test_a_hidden_column_with_data_under_no_heading_is_refused(tmp_path):
    path, book = _save(tmp_path, [HEADINGS, PUPIL, PUPIL])
    book.active["I3"] = "note"  # right of the last heading, hidden
    book.active["B1"] = None  # a heading taken away, its column hidden: the surnames are still there
    book.active.column_dimensions["B"].hidden = True
    book.active.column_dimensions["I"].hidden = True
    book.active.column_dimensions["K"].hidden = True  # hidden but empty: nothing to see, nothing refused
    book.save(path)
    with pytest.raises(InvalidInput) as caught:
        read_workbook(path)
    message = caught.value.message
    assert 'book.xlsx, sheet "Pupils": nothing was imported' in message
    assert (
        "column(s) B (first at B2), I (first at I3) are hidden in Excel and hold data under no heading"
        in message
    )
    assert "K (" not in message


def test_a_hidden_empty_column_without_a_heading_is_read(tmp_path):
    path, book = _save(tmp_path, [HEADINGS, PUPIL])
    book.active.column_dimensions["H"].hidden = True
    book.active.column_dimensions["J"].hidden = True
    book.save(path)
    assert read_workbook(path).rows == [
        (2, ["H801200001001", "Ní Bhriain", "Aoife", "2016-04-03", "3", "00123"])
    ]


def test_a_hidden_sheet_is_never_chosen_and_the_choice_is_said(tmp_path):
    book = openpyxl.Workbook()
    secret = book.active
    secret.title = "Old list"
    secret.append(HEADINGS)
    secret.append(PUPIL)
    secret.sheet_state = "hidden"
    notes = book.create_sheet("Notes")
    notes.append(["Exported from the MIS on Monday"])
    pupils = book.create_sheet("Pupils")
    pupils.append(HEADINGS)
    pupils.append(PUPIL)
    book.create_sheet("Staff").append(["Name", "Role"])
    path = tmp_path / "several.xlsx"
    book.save(path)
    table = read_workbook(path, is_heading=lambda cells: "UPN" in cells, heading_hint='"UPN" heading')
    assert table.sheet == "Pupils"
    assert table.choice == (
        'Read sheet "Pupils", the first sheet with a "UPN" heading; not read: "Old list" (hidden: unhide it '
        'in Excel to have it read); "Notes" (no "UPN" heading in its top 20 rows); "Staff" (after it).'
    )


def test_no_sheet_with_a_heading_is_refused_naming_each_sheet(tmp_path):
    path, _ = _save(tmp_path, [["just a title"]], Other=[["1", "2"]])
    with pytest.raises(InvalidInput) as caught:
        read_workbook(path, is_heading=lambda cells: "UPN" in cells, heading_hint='"UPN" heading')
    assert '"Pupils" (no "UPN" heading' in caught.value.message
    assert '"Other" (no "UPN" heading' in caught.value.message


def test_an_empty_workbook_is_refused(tmp_path):
    path, _ = _save(tmp_path, [])
    with pytest.raises(InvalidInput, match='"Pupils" \\(empty\\)'):
        read_workbook(path)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"UPN,Surname\nH801200001001,Smith\n", "not an Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "Excel 97-2003 (.xls)"),
        (b"", "is empty"),
        (b"PK\x03\x04 broken zip", "zip file that is not an Excel workbook"),
    ],
)
def test_a_file_that_is_not_a_workbook_is_refused_plainly(tmp_path, content, said):
    path = tmp_path / "list.xlsx"
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as caught:
        read_workbook(path, what="class list")
    assert said in caught.value.message
    assert "Save As" in caught.value.message


def test_a_word_document_is_not_a_workbook(tmp_path):
    path = tmp_path / "register.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    with pytest.raises(InvalidInput, match="zip file that is not an Excel workbook"):
        read_workbook(path)


def test_a_missing_file_and_a_folder_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match="There is no file"):
        read_workbook(tmp_path / "missing.xlsx")
    with pytest.raises(InvalidInput, match="is a folder"):
        read_workbook(tmp_path)
