"""The one reader of delimited files (class lists and returned consent forms): regular files only, the
encodings Excel and other programs write, line numbers as an editor shows them, and characters the text
gate refuses found anywhere in the file; and the returned-forms reader built on it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from cloudctl.errors import ImportRejected, InvalidInput
from cloudctl.importers.consent_returns import read_consent_returns
from cloudctl.importers.delimited_file import (
    DelimitedFile,
    _screen_for,
    detect_encoding,
    find_refused,
)
from cloudctl.vocab.text import gate_text
from tests.helpers.pupils import add_pupils

HEADING = "UPN,Service,Decision,Given by,Date,Note"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def open_file(path: Path, **options) -> DelimitedFile:
    return DelimitedFile(path, what="test file", advice="Export it again.", **options)


def refused_by_gate(text: str, *, multiline: bool) -> bool:
    try:
        gate_text(text, "field", limit=100, multiline=multiline)
    except InvalidInput:
        return True
    return False


# -- the reader agrees with the text gate -------------------------------------------------------------


# Every character up to U+FFFF; the tag characters and variation selectors (plane 14); and a sample of
# every other plane (emoji, CJK, the unassigned planes, private use, non-characters at the planes' ends).
CHARACTERS = [
    chr(code)
    for code in (
        *range(0x10000),
        *range(0xE0000, 0xE0200),
        *range(0x1F000, 0x1F700, 7),
        *(
            plane * 0x10000 + offset
            for plane in range(1, 17)
            for offset in (0, 0x1234, 0xFFFD, 0xFFFE, 0xFFFF)
        ),
    )
]


def test_the_readers_patterns_are_the_text_gate():
    """The reader finds refused characters with a regular expression (fast); the gate decides character
    by character (exact). They must agree on every character."""
    for character in CHARACTERS:
        text = f"a{character}b"
        assert (find_refused(text) is not None) == refused_by_gate(text, multiline=True), hex(ord(character))
        assert (find_refused(text, one_line=True) is not None) == refused_by_gate(text, multiline=False), hex(
            ord(character)
        )


@pytest.mark.parametrize(
    "encoding",
    [
        "utf-8",
        "utf-8-sig",
        "cp1252",
        "latin-1",
        "iso-8859-15",
        "cp850",
        "mac-roman",
        "utf-16-le",
        "utf-16",
        "utf-32",
        "utf-32-be",
    ],
)
def test_the_byte_screen_lets_no_refused_character_through(encoding):
    refused = [character for character in CHARACTERS if find_refused(character) == 0]
    assert {"\u200b", "\u00ad", "\ufeff", "\u180e", "\U000e0041", "\ue000", "\ufffe"} <= set(refused)
    for character in refused:
        try:
            block = f"Smith,{character}Ann\r\n".encode(encoding)
        except UnicodeEncodeError:
            continue  # the encoding cannot hold it, so no file in it can
        assert _screen_for(encoding)(block), (encoding, hex(ord(character)))
    clean = "UPN,Surname\r\nH801200001001,Zoë O’Brien – Siân «Chloé» 3·B €5\r\n"
    assert not _screen_for(encoding)(clean.encode(encoding, errors="ignore"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le"])
def test_a_refused_character_split_between_two_blocks_is_found(encoding):
    """The file is read in blocks of whatever size: a character whose bytes fall in two is still seen."""
    for character in ("\u202e", "\u2028", "\x85", "\u061c", "\u2066", "\u200b", "\U000e0041", "\U0010fffd"):
        data = f"Ann{character}Smith".encode(encoding)
        for cut in range(1, len(data)):
            screen = _screen_for(encoding)
            assert screen(data[:cut]) or screen(data[cut:]), (hex(ord(character)), cut)


# -- what is read -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("cp1252", "cp1252"),
        ("utf-16", "utf-16"),  # with a byte-order mark, as Excel's "Unicode Text"
        ("utf-16-le", "utf-16-le"),  # without one, as some other programs write it
        ("utf-16-be", "utf-16-be"),
    ],
)
def test_encodings_are_detected(tmp_path, encoding, detected):
    text = "UPN\tSurname\tForename\r\nH801200001001\tO'Brien\tZoë\r\nB801200005001\tWilliams\tSiân\r\n"
    path = write(tmp_path / "list.txt", text, encoding)
    assert detect_encoding(path) == detected
    with open_file(path) as file:
        assert file.delimiter == "\t"
        assert [cells for _, _, cells in file.rows()][1:] == [
            ["H801200001001", "O'Brien", "Zoë"],
            ["B801200005001", "Williams", "Siân"],
        ]
        assert not file.suspect


def test_line_numbers_count_the_line_breaks_inside_quoted_cells(tmp_path):
    text = 'a,b\r\n1,"two\r\nlines"\r\n2,"three\nmore\rlines"\r\n\r\n3,x\r\n'
    with open_file(write(tmp_path / "f.csv", text)) as file:
        assert [(first, last) for first, last, _ in file.rows()] == [(1, 1), (2, 3), (4, 6), (7, 7), (8, 8)]


def test_a_refused_character_far_into_a_big_file_is_found_on_its_line(tmp_path):
    lines = ["UPN,Name"] + [f"row{number},name {number}" for number in range(60_000)]  # about 1 MB
    lines[55_000] = "row,na\x00me"
    with open_file(write(tmp_path / "big.csv", "\r\n".join(lines) + "\r\n")) as file:
        found = []
        for first, _, cells in file.rows():
            if file.suspect:
                file.text_problems(first, cells, ["UPN", "Name"], {1}, lambda *problem: found.append(problem))
        assert found == [
            (55_001, "Name", found[0][2]),
        ]
        assert "NUL character (U+0000) at character 3" in found[0][2]


def test_a_refused_character_across_the_readers_block_boundary_is_found(tmp_path):
    head = "UPN,Name\r\n"
    filler = "".join(f"row{number},name\r\n" for number in range(2000))
    start = f"{head}{filler}"[: 8192 - len("r,Ann")]  # the character's 3 bytes start at byte 8191
    start = start[: start.rfind("\n") + 1]
    start += "x" * (8191 - len(start.encode()) - len("r,Ann")) + "r,Ann"
    path = write(tmp_path / "f.csv", f"{start}\u202eSmith\r\nlast,row\r\n")
    assert path.read_bytes()[8191:8194] == "\u202e".encode()
    with open_file(path) as file:
        rows = list(file.rows())
        assert file.suspect
    assert "\u202e" in rows[-2][2][1]


def test_a_refused_character_in_a_multi_line_cell_is_on_the_right_line(tmp_path):
    text = 'UPN,Note,Name\r\nA,"one\r\ntwo\x1bthree",Ann\r\n'
    with open_file(write(tmp_path / "f.csv", text)) as file:
        rows = list(file.rows())
        found = []
        file.text_problems(
            2, rows[1][2], ["UPN", "Note", "Name"], {2}, lambda *problem: found.append(problem)
        )
    assert [(line, column) for line, column, _ in found] == [(3, "Note")]
    assert "escape character" in found[0][2]


# -- what is refused ----------------------------------------------------------------------------------


def test_a_folder_a_missing_file_and_a_device_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match="is a folder: give the test file file itself"):
        open_file(tmp_path)
    with pytest.raises(InvalidInput, match="There is no file"):
        open_file(tmp_path / "nope.csv")
    with pytest.raises(InvalidInput, match="There is no file"):
        open_file(write(tmp_path / "a-file", "x") / "under-a-file.csv")
    if Path(os.devnull).exists() and sys.platform != "win32":
        with pytest.raises(InvalidInput, match="is a device, not a file"):
            open_file(Path(os.devnull))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "list.csv"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInput, match=r"is a named pipe \(FIFO\), not a file"):
        open_file(fifo)


def test_empty_binary_and_workbook_files_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match=r"is empty\. Export it again\."):
        open_file(write(tmp_path / "empty.csv", ""))
    (tmp_path / "picture.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(InvalidInput, match="not a text file"):
        open_file(tmp_path / "picture.csv")
    (tmp_path / "book.csv").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(InvalidInput, match="Excel workbook"):
        open_file(tmp_path / "book.csv")


def test_a_stray_nul_in_a_text_file_is_not_taken_for_a_binary_file(tmp_path):
    with open_file(write(tmp_path / "f.csv", "UPN,Name\r\nA,An\x00n\r\n")) as file:
        list(file.rows())
        assert file.suspect


def test_an_unknown_encoding_and_undecodable_bytes_are_refused_with_the_line(tmp_path):
    path = write(tmp_path / "f.csv", "UPN,Name\r\nA,Zoë\r\nB,Siân\r\n", "cp1252")
    with pytest.raises(InvalidInput, match="not an encoding cloudctl knows"):
        open_file(path, encoding="klingon")
    with (
        pytest.raises(InvalidInput, match="line 2: the file is not UTF-8 text"),
        open_file(path, encoding="utf-8") as file,
    ):
        list(file.rows())


# -- returned consent forms ---------------------------------------------------------------------------


def test_a_row_with_more_cells_than_the_heading_is_refused_with_its_line(tmp_path):
    text = (
        f"{HEADING}\r\n"
        "H801200001001,My Maths,yes,Jane Smith,12/09/2026,fine\r\n"
        "B801200005001,My Maths,no,Tom Jones,12/09/2026,no, not this year\r\n"
        'B801200005001,ClassDojo,no,Tom Jones,12/09/2026,"no, not this year"\r\n'
        "H801200001001,ClassDojo,yes,Jane Smith,12/09/2026,ok,,\r\n"  # empty cells after: harmless
    )
    with pytest.raises(ImportRejected) as refused:
        read_consent_returns(write(tmp_path / "forms.csv", text))
    assert [problem.line for problem in refused.value.problems] == [3]
    assert "7 cells but the heading row has 6" in refused.value.message
    assert "comma" in refused.value.message


@pytest.mark.parametrize("heading", ["Timestamp", "Completion time", "Start time", "Date Signed"])
def test_a_forms_date_columns(tmp_path, heading):
    """A form's export: when it was submitted is the date (Start time only when that is all there is)."""
    row = "H801200001001,My Maths,yes\r\n"
    text = f"ID,Start time,{heading},UPN,Service,Decision\r\n1,x,12/09/2026 10:31:22,{row}"
    if heading == "Start time":
        text = f"ID,Start time,UPN,Service,Decision\r\n1,12/09/2026 10:31:22,{row}"
    (row,) = read_consent_returns(write(tmp_path / "forms.csv", text))
    assert row.values["date"] == "12/09/2026 10:31:22"


def test_a_date_written_on_the_form_comes_before_the_forms_timestamp(tmp_path):
    text = "Timestamp,UPN,Service,Decision,Date\r\n20/09/2026 09:00,H801200001001,My Maths,yes,12/09/2026\r\n"
    (row,) = read_consent_returns(write(tmp_path / "forms.csv", text))
    assert row.values["date"] == "12/09/2026"


def test_a_file_without_a_date_column_has_no_date_values(tmp_path):
    text = "UPN,Service,Decision\r\nH801200001001,My Maths,yes\r\n"
    (row,) = read_consent_returns(write(tmp_path / "forms.csv", text))
    assert "date" not in row.values
    assert row.values == {"upn": "H801200001001", "service": "My Maths", "decision": "yes"}


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16", "cp1252", "utf-8-sig"])
def test_returned_forms_in_every_encoding_with_lines_across_quoted_breaks(tmp_path, encoding):
    text = (
        f"{HEADING}\r\n"
        'H801200001001,My Maths,no,Zoë Smith,12/09/2026,"We would rather\r\nnot, thank you"\r\n'
        "\r\n"
        "B801200005001,My Maths,yes,Siân Jones,12/09/2026,\r\n"
    )
    rows = read_consent_returns(write(tmp_path / "forms.csv", text, encoding))
    assert [row.line for row in rows] == [2, 5]
    assert rows[0].values["note"] == "We would rather\r\nnot, thank you"
    assert rows[1].values["given_by"] == "Siân Jones"


def test_refused_characters_in_returned_forms_are_named_with_line_and_column(tmp_path):
    text = (
        f"{HEADING}\r\n"
        + "H801200001001,My Maths,yes,Jane Smith,12/09/2026,ok\r\n" * 300  # past the first 4 KB
        + "H801200001001,My Maths,no,Jane Smith,12/09/2026,a note\x00here\r\n"
        + 'H801200001001,ClassDojo,no,"Jane\r\nSmith",12/09/2026,"two\r\nlines are fine"\r\n'
        + "H801200001001,ClassDojo,no,Jane \x1b[2JSmith,12/09/2026,\r\n"
    )
    with pytest.raises(ImportRejected) as refused:
        read_consent_returns(write(tmp_path / "forms.csv", text))
    described = [problem.describe() for problem in refused.value.problems]
    assert [(problem.line, problem.column) for problem in refused.value.problems] == [
        (302, "Note"),
        (303, "Given by"),
        (306, "Given by"),  # the row above runs over lines 303 to 305
    ]
    assert "NUL character" in described[0]
    assert "line break" in described[1] and "must be one line" in described[1]
    assert "escape character" in described[2]
    assert "\x1b" not in refused.value.message and "\x00" not in refused.value.message


def test_returned_forms_must_be_a_regular_file_with_a_heading(tmp_path):
    with pytest.raises(InvalidInput, match="is a folder"):
        read_consent_returns(tmp_path)
    with pytest.raises(InvalidInput, match="has no rows"):
        read_consent_returns(write(tmp_path / "blank.csv", "\r\n ,, \r\n"))
    with pytest.raises(InvalidInput, match="no column for service"):
        read_consent_returns(write(tmp_path / "forms.csv", "UPN,Decision\r\nH801200001001,yes\r\n"))


def test_consent_import_refuses_a_row_cut_by_an_unquoted_comma(hunwick_cli, tmp_path):
    (upn,) = add_pupils(hunwick_cli.url, [{"year_group": "3", "class_name": "3B"}])
    path = write(
        tmp_path / "forms.csv",
        f"{HEADING}\r\n{upn},My Maths,no,Jane Smith,12/09/2026,no, we use paper at home\r\n",
    )
    result = hunwick_cli.fails("consent", "import", str(path))
    assert "line 2" in result.stderr and "7 cells but the heading row has 6" in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_consent_and_pupil_import_refuse_a_named_pipe(hunwick_cli, tmp_path):
    fifo = tmp_path / "forms.csv"
    os.mkfifo(fifo)
    for command in (["consent", "import"], ["pupil", "import"]):
        assert "is a named pipe (FIFO), not a file" in hunwick_cli.fails(*command, str(fifo)).stderr


# -- what the hostile tester found ------------------------------------------------------------------------


def test_a_row_with_fewer_cells_than_the_heading_is_refused_with_its_line(tmp_path):
    text = (
        "UPN,Service,Decision,Given by,Date,Method,Note\r\n"
        "H801200001001,My Maths,no,Dad,01/11/2026\r\n"
        "B801200005001,My Maths,no\r\n"
        "B801200005001,ClassDojo,yes,Mum,01/11/2026,form,\r\n"
        "H801200001001,ClassDojo,yes,Mum,01/11/2026,form,,,\r\n"  # empty cells after the last: harmless
    )
    with pytest.raises(ImportRejected) as refused:
        read_consent_returns(write(tmp_path / "forms.csv", text))
    assert [problem.line for problem in refused.value.problems] == [2, 3]
    assert "5 cells but the heading row has 7" in refused.value.message
    assert "3 cells but the heading row has 7" in refused.value.message


def test_notes_below_the_last_form_are_skipped_and_counted_but_not_between_forms(tmp_path):
    rows = "H801200001001,My Maths,yes,Jane Smith,12/09/2026,\r\n"
    text = f"{HEADING}\r\n{rows}\r\nTotal: 1\r\n,,,,,Exported from Microsoft Forms\r\n"
    returns = read_consent_returns(write(tmp_path / "forms.csv", text))
    assert [row.line for row in returns] == [2]
    assert returns.notes_ignored == 2
    with pytest.raises(ImportRejected) as refused:
        read_consent_returns(write(tmp_path / "forms.csv", f"{HEADING}\r\n{rows}Total: 1\r\n{rows}"))
    assert [(problem.line, problem.column) for problem in refused.value.problems] == [(3, "UPN")]
    assert "not a form" in refused.value.message


@pytest.mark.parametrize("name", ["utf-7", "idna", "punycode", "unicode_escape", "cp037", "utf-8-sig\x00"])
def test_only_the_encodings_schools_use_are_accepted(tmp_path, name):
    path = write(tmp_path / "f.csv", "UPN,Name\r\nA,Zoë\r\n")
    with pytest.raises(
        InvalidInput, match=r"is not an encoding cloudctl knows\. Use one of utf-8,"
    ) as refused:
        open_file(path, encoding=name)
    assert "utf-32" in refused.value.message and "mac-roman" in refused.value.message


@pytest.mark.parametrize(
    "name",
    ["UTF8", "utf-32", "UTF-32LE", "windows-1252", "iso-8859-1", "latin9", "cp850", "macroman", "ascii"],
)
def test_the_encodings_schools_use_are_read(tmp_path, name):
    encoding = {"utf-32": "utf-32"}.get(name, name)
    path = write(tmp_path / "f.csv", "UPN,Name\r\nA,Ann Smith\r\n", encoding)
    with open_file(path, encoding=name) as file:
        assert [cells for _, _, cells in file.rows()] == [["UPN", "Name"], ["A", "Ann Smith"]]


def test_a_utf_32_file_is_detected_and_a_file_that_is_not_utf_32_is_refused_with_its_line(tmp_path):
    path = write(tmp_path / "wide.csv", "UPN,Name\r\nA,Zoë\r\n", "utf-32")
    assert detect_encoding(path) == "utf-32"
    with open_file(path) as file:
        assert list(file.rows())[1][2] == ["A", "Zoë"]
    narrow = write(tmp_path / "f.csv", "UPN,Name\r\nA,Zo\r\n")
    for name in ("utf-32", "utf-32-le"):
        with (
            pytest.raises(InvalidInput, match=r"line 1: .*could not be read as"),
            open_file(narrow, encoding=name) as f,
        ):
            list(f.rows())


def test_a_cell_longer_than_csvs_limit_is_called_too_long_and_a_stray_quote_still_named(tmp_path):
    long = "x" * 140_000
    path = write(tmp_path / "f.csv", f"{HEADING}\r\nH801200001001,My Maths,no,Jane,12/09/2026,{long}\r\n")
    with pytest.raises(InvalidInput, match=r"line 2: a cell is longer than 131,072 characters"):
        read_consent_returns(path)
    quoted = write(tmp_path / "q.csv", f'{HEADING}\r\nH801200001001,My Maths,no,Jane,12/09/2026,"{long}"\r\n')
    with pytest.raises(InvalidInput, match=r"line 2: a cell is longer than 131,072 characters"):
        read_consent_returns(quoted)
    stray = f"{HEADING}\r\n" + "H801200001001,My Maths,no,Jane,12/09/2026,ok\r\n" * 3 + 'A,B,no,"Jane\r\n'
    stray += "H801200001001,My Maths,no,Jane,12/09/2026,ok\r\n" * 4000
    with pytest.raises(InvalidInput, match=r"line 5: a cell opens with a double quote"):
        read_consent_returns(write(tmp_path / "s.csv", stray))


def test_consent_import_refuses_a_short_row_and_a_long_cell_with_exit_1(hunwick_cli, tmp_path):
    (upn,) = add_pupils(hunwick_cli.url, [{"year_group": "3", "class_name": "3B"}])
    heading = "UPN,Service,Decision,Given by,Date,Method,Relationship"
    path = write(tmp_path / "forms.csv", f"{heading}\r\n{upn},My Maths,no\r\n")
    result = hunwick_cli.fails("consent", "import", str(path), "--date", "2026-09-12")
    assert "line 2" in result.stderr and "3 cells but the heading row has 7" in result.stderr
    path = write(tmp_path / "long.csv", f"{heading}\r\n{upn},My Maths,no,{'x' * 140_000},,,\r\n")
    assert "a cell is longer than 131,072" in hunwick_cli.fails("consent", "import", str(path)).stderr
    path = write(tmp_path / "f.csv", f"{heading}\r\n{upn},My Maths,no,Dad,12/09/2026,,\r\n")
    for name, says in (
        ("utf-32", "could not be read as UTF-32"),
        ("utf-7", "not an encoding cloudctl knows"),
    ):
        assert says in hunwick_cli.fails("consent", "import", str(path), "--encoding", name).stderr
