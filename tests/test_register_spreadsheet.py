"""The register as a spreadsheet: `register publish --format csv|xlsx`, `register template`, and importing
.xlsx registers, hostile ones included (formula cells, merged cells, several sheets)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_register_import import (  # noqa: F401
    ASSESSMENT,
    GATE_ALPHABET,
    LINE,
    REVIEW_MONTHS,
    _open_copy,
    add_services_with_assessments,
    own_review_months,
    template,
)


def _workbook(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


HEADINGS = ["Name", "Vendor", "Purpose", "Information shared", "Year groups", "Category", "Notes"]
ROWS = [
    [
        "Google Classroom",
        "Google LLC",
        "Setting work",
        "child name, email address",
        "Y3 - Y6",
        "pupil",
        "Trial",
    ],
    ["CPOMS", "CPOMS Systems Ltd", "Safeguarding", "child name, SEND information", "All", "management", ""],
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_publish_as_a_spreadsheet_then_import_gives_the_same_register(hunwick_cli, tmp_path, fmt):
    out = tmp_path / f"register.{fmt}"
    result = hunwick_cli.ok("register", "publish", "--format", fmt, "--out", str(out))
    assert "Wrote the register" in result.stderr
    assert os.stat(out).st_mode & 0o777 == 0o600
    before = hunwick_cli.json("service", "list", "--all")
    again = hunwick_cli.ok("register", "import", str(out))
    assert "0 added, 0 updated, 19 unchanged" in again.stderr
    assert hunwick_cli.json("service", "list", "--all") == before
    # Never over an existing file without --force.
    refused = hunwick_cli.fails("register", "publish", "--format", fmt, "--out", str(out))
    assert "--force" in refused.stderr


def test_publish_csv_guards_formulas_and_reads_them_back_as_written(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    cli.ok(
        "service", "add", "Padlet", "--category", "pupil", "--provider", "Wallwisher", "--create-provider",
        "--purpose", "=HYPERLINK(\"http://evil\")", "--data", "full name",
    )  # fmt: skip
    text = cli.ok("register", "publish", "--format", "csv").stdout
    assert "'=HYPERLINK" in text
    path = tmp_path / "register.csv"
    path.write_text(text, encoding="utf-8")
    cli.ok("register", "import", str(path))
    assert cli.json("service", "show", "Padlet")["purpose"] == '=HYPERLINK("http://evil")'


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_imports_as_its_example_row(cli, tmp_path, fmt):
    cli.ok("init", "--school", "Ashby Road Primary")
    out = tmp_path / f"template.{fmt}"
    cli.ok("register", "template", "--format", fmt, "--out", str(out))
    assert os.stat(out).st_mode & 0o777 == 0o600
    cli.ok("register", "import", str(out))
    shown = cli.json("service", "show", "Accelerated Reader", "--category", "pupil")
    assert shown["provider"] == "Renaissance Learning"
    assert shown["lawful_basis"] == "Public task"


def test_an_xlsx_register_imports_from_its_first_sheet_with_headings(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    path = _workbook(
        tmp_path / "register.xlsx",
        {
            "Notes": [["Reviewed by governors each summer"]],
            "Processors": [["Information asset register"], HEADINGS, *ROWS],
        },
    )
    result = cli.ok("register", "import", str(path))
    assert 'an Excel workbook (sheet "Processors", heading row 2' in result.stderr
    assert "Notes" in result.stderr  # says why the first sheet was not read
    classroom = cli.json("service", "show", "Google Classroom", "--category", "pupil")
    assert classroom["provider"] == "Google LLC"
    assert classroom["other_fields"] == {"notes": "Trial"}
    assert cli.json("service", "show", "CPOMS", "--category", "management")["data_shared"] == [
        "full name",
        "SEN",
    ]


def test_an_xlsx_with_a_formula_cell_is_refused_and_nothing_written(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    rows = [HEADINGS, ROWS[0], ["Sum", "=1+1", "Maths", "child name", "All", "pupil", ""]]
    path = _workbook(tmp_path / "register.xlsx", {"Register": rows})
    result = cli.fails("register", "import", str(path))
    assert "B3" in result.stderr
    assert cli.json("service", "list", "--all") == []


def test_an_xlsx_with_merged_cells_is_refused_and_nothing_written(cli, tmp_path):
    from openpyxl import load_workbook

    cli.ok("init", "--school", "Ashby Road Primary")
    path = _workbook(tmp_path / "register.xlsx", {"Register": [HEADINGS, *ROWS]})
    book = load_workbook(path)
    book.active.merge_cells("C2:C3")
    book.save(path)
    result = cli.fails("register", "import", str(path))
    assert "merged" in result.stderr.lower()
    assert cli.json("service", "list", "--all") == []


def test_an_xlsx_without_a_column_naming_the_service_is_refused(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    path = _workbook(tmp_path / "register.xlsx", {"Sheet1": [["Colour", "Size"], ["red", "large"]]})
    result = cli.fails("register", "import", str(path), "--category", "pupil")
    assert "Service" in result.stderr
    assert cli.json("service", "list", "--all") == []


ONE_LINE = st.text(GATE_ALPHABET, max_size=40)
SERVICE = st.fixed_dictionaries(
    {
        "name": st.sampled_from(("My Maths", "Padlet", "Times Tables Rock Stars", "Purple Mash", "SIMS")),
        "category": st.sampled_from(("pupil", "management", "other", "statutory")),
        "provider": st.one_of(st.none(), ONE_LINE.filter(lambda text: text.strip())),
        "purpose": st.lists(LINE, min_size=1, max_size=4).map("\n".join),
        "data_shared": st.lists(LINE, min_size=1, max_size=4).map("\n".join),
        "service_type": ONE_LINE,
        "retention": ONE_LINE,
        "extra": st.dictionaries(st.sampled_from(("contract_end", "dpa_signed")), ONE_LINE, max_size=2),
        "review_months": REVIEW_MONTHS,
        "assessment": ASSESSMENT,
    }
)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(
    services=st.lists(SERVICE, min_size=1, max_size=4, unique_by=lambda s: (s["name"], s["category"])),
    fmt=st.sampled_from(("csv", "xlsx")),
)
def test_publish_spreadsheet_then_import_gives_equal_services_whatever_the_text(template, services, fmt):  # noqa: F811
    from cloudctl.domain.register import build_register_document, import_parsed_register
    from cloudctl.domain.service_records import list_service_records
    from cloudctl.domain.settings import init_school
    from cloudctl.exporters.register_spreadsheet import register_rows, spreadsheet_bytes
    from cloudctl.importers.register_shapes import read_register_file

    with tempfile.TemporaryDirectory() as folder:
        source, target = (
            _open_copy(template, Path(folder), "a.db"),
            _open_copy(template, Path(folder), "b.db"),
        )
        try:
            with source.write() as session:
                init_school(session, school_name="Property Primary School")
                add_services_with_assessments(
                    session, services, create_provider=True, provider_required=False
                )
            with source.read() as session:
                data = spreadsheet_bytes(*register_rows(build_register_document(session)), fmt)
                expected = list_service_records(session, include_retired=True)
                expected_months = own_review_months(session)
            path = Path(folder) / f"register.{fmt}"
            path.write_bytes(data)
            with target.write() as session:
                import_parsed_register(session, read_register_file(path))
            with target.read() as session:
                assert list_service_records(session, include_retired=True) == expected
                assert own_review_months(session) == expected_months
        finally:
            source.dispose()
            target.dispose()


def test_the_demo_register_with_every_new_field_publishes_as_text_and_imports_back(tmp_path):
    """The demo fills in fields added after the Hunwick layout (the Art. 9 condition among them): the text
    publisher writes each under its label, and the import reads it back to the same field."""
    from tests.helpers.cli import Cli

    demo = Cli(f"sqlite:///{tmp_path / 'demo.db'}")
    demo.ok("--db", str(tmp_path / "demo.db"), "demo")
    text = demo.ok("--db", str(tmp_path / "demo.db"), "register", "publish", "--format", "text").stdout
    (tmp_path / "published.txt").write_text(text, encoding="utf-8")
    again = Cli(f"sqlite:///{tmp_path / 'again.db'}")
    again.ok("--db", str(tmp_path / "again.db"), "register", "import", str(tmp_path / "published.txt"))

    def conditions(cli: Cli, name: str) -> dict:
        return {
            row["name"]: row["special_category_condition"]
            for row in cli.json("--db", str(tmp_path / name), "service", "list", "--all")
        }

    assert conditions(again, "again.db") == conditions(demo, "demo.db")
    assert any(conditions(demo, "demo.db").values())


def test_a_refused_xlsx_register_names_the_sheet_read_and_the_sheets_not_read(cli, tmp_path):
    """A register kept on the second sheet, behind an empty template: the refusal says which sheet was read
    and which were not, as the summary of an import does."""
    cli.ok("init", "--school", "Ashby Road Primary")
    path = _workbook(
        tmp_path / "register.xlsx",
        {"Cover": [["Information asset register"]], "Template": [HEADINGS], "Register": [HEADINGS, *ROWS]},
    )
    result = cli.fails("register", "import", str(path))
    assert "no row of services" in result.stderr
    assert 'Read sheet "Template"' in result.stderr
    assert '"Cover" (no heading row' in result.stderr and '"Register" (after it)' in result.stderr
    assert 'move it before "Template"' in result.stderr
    assert cli.json("service", "list", "--all") == []


def test_a_register_refused_after_reading_names_the_sheets_too(cli, tmp_path):
    """Refused by the import's checks (a risk assessment dated in the future), not by the reader."""
    cli.ok("init", "--school", "Ashby Road Primary")
    rows = [[*HEADINGS, "DPIA date"], [*ROWS[0], "2999-01-01"]]
    path = _workbook(tmp_path / "register.xlsx", {"Register": rows, "Archive": [HEADINGS, ROWS[1]]})
    result = cli.fails("register", "import", str(path))
    assert "line 2" in result.stderr
    assert 'Read sheet "Register"' in result.stderr and '"Archive" (after it)' in result.stderr
    assert cli.json("service", "list", "--all") == []


def test_the_summary_names_every_sheet_not_read(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    path = _workbook(
        tmp_path / "register.xlsx",
        {"Register": [HEADINGS, *ROWS], "Archive": [HEADINGS, ROWS[1]], "Notes": [["Reviewed each summer"]]},
    )
    result = cli.ok("register", "import", str(path))
    assert 'not read: "Archive", "Notes" (after it)' in result.stderr


@pytest.mark.parametrize("column", ["D", "H"])
def test_an_xlsx_register_with_a_hidden_column_of_data_under_no_heading_is_refused(cli, tmp_path, column):
    """Between named columns (D, its heading taken away) or right of them (H): either way hidden data."""
    from openpyxl import load_workbook

    cli.ok("init", "--school", "Ashby Road Primary")
    path = _workbook(tmp_path / "register.xlsx", {"Register": [HEADINGS, *ROWS]})
    book = load_workbook(path)
    sheet = book["Register"]
    if column == "D":
        sheet["D1"] = None
    sheet[f"{column}3"] = "medical needs"
    sheet.column_dimensions[column].hidden = True
    book.save(path)
    result = cli.fails("register", "import", str(path))
    assert 'register.xlsx, sheet "Register": nothing was imported' in result.stderr
    assert f"column(s) {column} (first at {column}" in result.stderr
    assert "hidden in Excel and hold data under no heading" in result.stderr
    assert "Unhide Columns" in result.stderr
    assert cli.json("service", "list", "--all") == []


@pytest.mark.parametrize("fmt", ["text", "csv", "xlsx"])
def test_a_services_own_review_interval_and_conditional_approval_survive_the_round_trip(cli, tmp_path, fmt):
    """Publish, then import into a fresh database: the interval a service has of its own and an approval
    with conditions are published with labels ("Review every", "(Approved with conditions)") and read back."""
    from tests.helpers.cli import Cli

    cli.ok("init", "--school", "Ashby Road Primary")
    cli.ok(
        "service", "add", "Padlet", "--category", "pupil", "--provider", "Wallwisher", "--create-provider",
        "--purpose", "Class walls", "--data", "full name", "--review-months", "6",
    )  # fmt: skip
    cli.ok(
        "assess", "record", "Padlet", "--category", "pupil", "--date", "2024-03-14", "--by", "DPO",
        "--outcome", "approved-with-conditions", "--conditions", "Turn off comments",
    )  # fmt: skip
    out = tmp_path / f"register.{'txt' if fmt == 'text' else fmt}"
    cli.ok("register", "publish", "--format", fmt, "--out", str(out))
    if fmt != "xlsx":
        written = out.read_text(encoding="utf-8-sig")
        assert "Review every" in written and "6 months" in written
        assert "14 March 2024 (Approved with conditions)" in written
    fresh = Cli(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.ok("--db", str(tmp_path / "fresh.db"), "register", "import", str(out))
    shown = fresh.json("--db", str(tmp_path / "fresh.db"), "service", "show", "Padlet", "--category", "pupil")
    assert (shown["review_months"], shown["last_outcome"], shown["status"]) == (
        6,
        "approved-with-conditions",
        "approved",
    )
    assert shown["review_due"] == "2024-09-14"
    assert shown["other_fields"] == {}  # read as the field, not kept as a label of its own


def test_a_review_interval_that_is_not_a_number_of_months_is_refused_with_its_line(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    path = tmp_path / "register.csv"
    path.write_text(
        "Service,Provider,Purpose,Data shared,Review every\n"
        "Padlet,Wallwisher,Walls,full name,fortnightly\n"
        "Seesaw,Seesaw Inc,Journals,full name,every 2 years\n",
        encoding="utf-8",
    )
    result = cli.fails("register", "import", str(path), "--category", "pupil")
    assert 'line 2: the entry "Padlet": "fortnightly" is not a review interval' in result.stderr
    assert "line 3" not in result.stderr  # "every 2 years" is 24 months
    assert cli.json("service", "list", "--all") == []
