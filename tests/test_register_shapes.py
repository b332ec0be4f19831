"""`register import` reads a register in each shape schools keep: labelled documents with or without
sections, text tables (| or tab), CSV; one label mapping for all; nothing read is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudctl.importers.register_labels import field_for, key_for

DATA = Path(__file__).parent / "data" / "registers"


def _services(cli) -> dict[str, dict]:
    return {service["name"]: service for service in cli.json("service", "list", "--all")}


def _show(cli, name: str, category: str) -> dict:
    return cli.json("service", "show", name, "--category", category)


def _copy(tmp_path: Path, name: str, text: str | None = None) -> Path:
    path = tmp_path / name
    path.write_text(text if text is not None else (DATA / name).read_text(encoding="utf-8"), encoding="utf-8")
    return path


# --- the shared mapping -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "field"),
    [
        ("Purpose of data", "purpose"),
        ("REASON:", "purpose"),
        ("Key information held", "data_shared"),
        ("Information provided", "data_shared"),
        ("information-shared", "data_shared"),
        ("District Data", "data_shared"),
        ("Location of server", "storage_detail"),
        ("Where the information is stored", "storage_detail"),
        ("Privacy policy", "privacy_policy"),
        ("System(s)", "service_name"),
        ("Name", "service_name"),
        ("Category", "category"),
        ("Vendor", "service_provider"),
        ("Supplier", "service_provider"),
        ("Year  groups", "year_groups_enrolled"),
        ("Lawful basis", "lawful_basis"),
        ("Retention period", "retention"),
        ("DPIA date", "risk_assessment_date"),
    ],
)
def test_labels_match_whatever_their_case_spacing_and_punctuation(label, field):
    assert field_for(label) == field


def test_a_label_that_names_no_field_is_kept_under_its_own_words():
    assert field_for("Terms of use") is None
    assert key_for("Terms of use") == "terms_of_use"
    assert key_for("Data processing agreement") == "data_processing_agreement"


# --- documents with a heading per service -------------------------------------------------------------------


def test_a_labelled_document_without_sections_imports_under_the_category_given(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    result = cli.ok(
        "register", "import", str(_copy(tmp_path, "labelled-no-sections.txt")), "--category", "pupil"
    )
    services = _services(cli)
    long_name = "Seesaw Class App for Sharing Learning Journals With Families at Home and in School"
    assert set(services) == {"Google Classroom", long_name, "Times Tables Rock Stars"}
    assert all(service["category"] == "pupil" for service in services.values())
    assert "Medium Risk – Consent Required" not in services  # a grouping heading is not a service
    assert "as a document with a heading per service" in result.stderr
    assert '"Medium Risk – Consent Required" is read as a heading that groups' in result.stderr
    seesaw = _show(cli, long_name, "pupil")
    # The label alone on its line takes the line below; the sub-lines stay with their field.
    assert seesaw["purpose"] == "Sharing photos of pupils' learning with their parents"
    assert seesaw["data_shared_text"] == "Student: child name, photos, emial\nStaff: name, email address"
    assert seesaw["data_shared"] == ["full name", "photographs", "email addresses"]
    assert seesaw["storage_detail"] == "United States"
    assert seesaw["other_fields"] == {"terms_of_use": "https://web.seesaw.me/terms"}
    assert seesaw["privacy_url"] == "https://web.seesaw.me/privacy"
    # Unmapped labels, unrecognised data and missing fields are each said once.
    assert 'Kept as written with each service (no field of cloudctl\'s matches them): "Terms of use"' in (
        result.stderr
    )
    assert '"reading age" (Times Tables Rock Stars)' in result.stderr
    assert "cloudctl service edit" in result.stderr
    assert result.stderr.count('has a "Service Provider:" line') == 1
    assert result.stderr.count('has a "Year Groups Enrolled:" line') == 1


def test_without_sections_or_category_the_import_asks_for_the_category(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    result = cli.fails("register", "import", str(_copy(tmp_path, "labelled-no-sections.txt")))
    assert "--category" in result.stderr
    assert '"Google Classroom" on line 5' in result.stderr
    assert cli.json("service", "list", "--all") == []


def test_a_labelled_document_with_sections_uses_them(cli, tmp_path):
    cli.ok("init", "--school", "Brampton Fields Academy")
    result = cli.ok(
        "register", "import", str(_copy(tmp_path, "labelled-sections.txt")), "--category", "other"
    )
    services = _services(cli)
    assert {name: service["category"] for name, service in services.items()} == {
        "Purple Mash": "pupil",
        "Tapestry": "pupil",
        "Arbor MIS": "management",
    }
    tapestry = _show(cli, "Tapestry", "pupil")
    assert tapestry["provider"] == "The Foundation Stage Forum Ltd"
    assert tapestry["data_shared"] == ["full name", "photographs", "SEN", "medical"]
    assert tapestry["lawful_basis"] == "Consent"
    assert tapestry["last_assessed"] == "2024-09-12"
    assert "under section headings" in result.stderr


def test_an_entry_cut_short_beside_its_section_is_still_refused(cli, tmp_path):
    cli.ok("init", "--school", "Brampton Fields Academy")
    text = (DATA / "labelled-sections.txt").read_text(encoding="utf-8")
    text = text.replace("Provider: The Foundation Stage Forum Ltd\n", "")
    result = cli.fails("register", "import", str(_copy(tmp_path, "cut.txt", text)))
    assert "Tapestry" in result.stderr and "cut short" in result.stderr
    assert cli.json("service", "list", "--all") == []


def test_a_file_with_nothing_that_reads_as_a_service_is_refused_saying_what_was_found(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    prose = "\n".join(
        f"This is sentence number {number} of our policy on online safety." for number in range(14)
    )
    result = cli.fails("register", "import", str(_copy(tmp_path, "policy.txt", prose)), "--category", "pupil")
    assert "found 14 lines of prose" in result.stderr
    assert "no line that looks like a service heading followed by labels" in result.stderr
    assert "a text table" in result.stderr and ".csv or .xlsx" in result.stderr
    assert cli.json("service", "list", "--all") == []


# --- text tables --------------------------------------------------------------------------------------------


def test_a_pipe_table_with_wrapped_and_empty_cells_imports(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    result = cli.ok("register", "import", str(_copy(tmp_path, "pipe-table.txt")), "--category", "pupil")
    assert "a text table (|-separated" in result.stderr
    services = _services(cli)
    assert set(services) == {"Google Workspace for Education", "Education City", "SchoolCloud"}
    google = _show(cli, "Google Workspace for Education", "pupil")
    assert google["data_shared_text"] == "child name, student identifiers, email"
    assert google["purpose"] == "Email, documents and classroom work"
    assert google["other_fields"] == {"vendor_data": "IP addresses"}
    assert _show(cli, "Education City", "pupil")["purpose"] == "Maths and English games at home"
    assert _show(cli, "SchoolCloud", "pupil")["purpose"] == ""
    assert '"Vendor Data"' in result.stderr


def test_a_tab_table_with_a_category_column_files_each_row(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    result = cli.ok("register", "import", str(_copy(tmp_path, "tab-table.txt")))
    assert "a text table (tab-separated" in result.stderr
    assert {name: service["category"] for name, service in _services(cli).items()} == {
        "Sparx Maths": "pupil",
        "CPOMS": "management",
        "Nessy": "pupil",
    }
    # A blank year-groups cell is read as none, and said.
    assert 'line 4: the entry "Nessy" has an empty "Year groups" cell' in result.stderr
    assert "no year group is enrolled" in result.stderr
    # A column the file lacks is said once for the whole file, though its rows are in two sections.
    assert result.stderr.count('the file has no "Service Provider" column') == 1
    assert all(service["provider"] is None for service in _services(cli).values())


# --- CSV ----------------------------------------------------------------------------------------------------


def test_a_csv_register_imports_with_its_columns_mapped_and_kept(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    path = tmp_path / "services.csv"
    path.write_bytes((DATA / "services.csv").read_bytes())
    result = cli.ok("register", "import", str(path))
    assert "a CSV file" in result.stderr
    parentpay = _show(cli, "ParentPay", "management")
    assert parentpay["provider"] == "ParentPay Ltd"
    assert parentpay["data_shared"] == ["full name", "contact details", "bank details"]
    assert parentpay["retention"] == "Six years"
    classroom = _show(cli, "Google Classroom", "pupil")
    assert classroom["other_fields"] == {"contract_end": "31/08/2026"}
    assert classroom["last_assessed"] == "2024-03-01"
    assert '"Contract end"' in result.stderr
    again = cli.ok("register", "import", str(path))
    assert "0 added, 0 updated, 3 unchanged" in again.stderr


def test_csv_rows_without_a_name_or_a_section_are_all_refused_with_their_lines(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    path = tmp_path / "bad.csv"
    path.write_text(
        "Service,Provider,Category,Purpose\n"
        "Padlet,Wallwisher,pupil,Sharing work\n"
        ",Nobody,pupil,A row with no name\n"
        "Kahoot,Kahoot ASA,lunchtime,Quizzes\n"
        "Canva,Canva Pty,,Design\n",
        encoding="utf-8",
    )
    result = cli.fails("register", "import", str(path))
    assert "line 3" in result.stderr and "no service name" in result.stderr
    assert "line 4" in result.stderr and '"lunchtime" is not a section' in result.stderr
    assert "line 5" in result.stderr and "--category" in result.stderr
    assert cli.json("service", "list", "--all") == []


def test_a_csv_without_a_column_naming_the_service_is_refused(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    path = tmp_path / "odd.csv"
    path.write_text("Colour,Size\nred,large\n", encoding="utf-8")
    result = cli.fails("register", "import", str(path), "--category", "pupil")
    assert "Nothing in the file could be read as a service" in result.stderr
    assert '"Colour", "Size"' in result.stderr


def test_the_hunwick_document_still_imports_as_before(hunwick_cli):
    services = hunwick_cli.json("service", "list", "--all")
    assert len(services) == 19
    assert all(service["provider"] for service in services)


def test_json_output_of_a_table_import_lists_the_entries(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    result = cli.ok("register", "import", str(_copy(tmp_path, "tab-table.txt")), "--format", "json")
    entries = [row for row in json.loads(result.stdout) if row["part"] == "entry"]
    assert [row["service"] for row in entries] == ["Sparx Maths", "Nessy", "CPOMS"]


def test_a_csv_saved_as_text_is_read_as_csv(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    path = tmp_path / "services.txt"
    path.write_bytes((DATA / "services.csv").read_bytes())
    result = cli.ok("register", "import", str(path))
    assert "a CSV file" in result.stderr
    assert len(_services(cli)) == 3


def test_a_hunwick_entry_with_another_label_for_a_field_reads_it_as_that_field(cli, tmp_path):
    cli.ok("init", "--school", "Hunwick Primary School")
    text = (
        "Hunwick Primary School\nCloud Service Providers\n\nServices for Pupils or Parents\n\n"
        "My Maths\nVendor: Oxford University Press\nWebsite: <https://www.mymaths.co.uk/>\n"
        "Reason: Maths homework\nKey information held: child name, class\nService Type: Purchased\n"
        "Year groups: All\nRisk assessment date: May 2018\n"
    )
    cli.ok("register", "import", str(_copy(tmp_path, "register.txt", text)))
    shown = _show(cli, "My Maths", "pupil")
    assert (shown["provider"], shown["purpose"]) == ("Oxford University Press", "Maths homework")
    assert shown["data_shared"] == ["full name", "class"]


@pytest.mark.parametrize(
    ("name", "text", "lost"),
    [
        # An unquoted comma in the last cell: "photos, medical needs" would be dropped from the data shared.
        (
            "comma.csv",
            "Service,Provider,Purpose,Data shared\nSeesaw,Seesaw Inc,Journals,name, photos, medical needs\n",
            "photos",
        ),
        (
            "pipe.txt",
            "Service | Provider | Purpose | Data shared\nSeesaw | Seesaw Inc | Journals | name | medical\n",
            "medical",
        ),
    ],
)
def test_a_row_with_cells_past_the_last_heading_is_refused_not_cut_short(cli, tmp_path, name, text, lost):
    cli.ok("init", "--school", "Ashby Road Primary")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = cli.fails("register", "import", str(path), "--category", "pupil")
    assert "line 2" in result.stderr and f'"{lost}"' in result.stderr and "double quotes" in result.stderr
    assert cli.json("service", "list", "--all") == []


def test_a_workbook_cell_under_no_heading_is_refused(cli, tmp_path):
    from openpyxl import Workbook

    cli.ok("init", "--school", "Ashby Road Primary")
    book = Workbook()
    book.active.append(["Service", "Provider", "Purpose", "Data shared"])
    book.active.append(["Seesaw", "Seesaw Inc", "Journals", "name", None, None, "medical needs"])
    path = tmp_path / "stray.xlsx"
    book.save(path)
    result = cli.fails("register", "import", str(path), "--category", "pupil")
    assert '"medical needs"' in result.stderr
    assert cli.json("service", "list", "--all") == []


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("blank.csv", "Service,,Provider,Purpose\nSeesaw,medical needs,Seesaw Inc,Journals\n"),
        ("blank.txt", "Service | | Provider | Purpose\nSeesaw | medical needs | Seesaw Inc | Journals\n"),
    ],
)
def test_a_filled_cell_in_a_column_without_a_heading_is_refused_not_dropped(cli, tmp_path, name, text):
    cli.ok("init", "--school", "Ashby Road Primary")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = cli.fails("register", "import", str(path), "--category", "pupil")
    assert 'line 2: this row has "medical needs" in column 2, which has no heading' in result.stderr
    assert cli.json("service", "list", "--all") == []


def test_a_filled_cell_in_an_xlsx_column_without_a_heading_names_its_letter(cli, tmp_path):
    from openpyxl import Workbook

    cli.ok("init", "--school", "Ashby Road Primary")
    book = Workbook()
    book.active.append(["Service", "Provider", None, "Purpose"])
    book.active.append(["Seesaw", "Seesaw Inc", "medical needs", "Journals"])
    path = tmp_path / "blank.xlsx"
    book.save(path)
    result = cli.fails("register", "import", str(path), "--category", "pupil")
    assert 'line 2: this row has "medical needs" in column C, which has no heading' in result.stderr
    assert cli.json("service", "list", "--all") == []
