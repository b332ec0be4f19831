"""The register as a spreadsheet (CSV or .xlsx): a heading row, then one row per service.

The headings are the shared labels' own spellings (register_labels), so what `register publish --format
csv|xlsx` writes reads back with `register import` to the same entries; `register template` writes the
headings with one example row for a school to fill in. Every CSV cell goes through the formula guard; in
.xlsx every value is written as text, so a purpose that starts with "=" is never a formula.
"""

from __future__ import annotations

import io
from pathlib import Path

from cloudctl.errors import InvalidInput
from cloudctl.importers.register_document import RegisterDocument
from cloudctl.importers.register_labels import heading_for

FORMATS = ("csv", "xlsx")
# The columns in the order a person reads them; fields beyond these follow, in the order first met.
COLUMNS = (
    "service_name",
    "category",
    "service_provider",
    "website",
    "purpose",
    "data_shared",
    "service_type",
    "year_groups_enrolled",
    "risk_assessment_date",
    "controls",
    "lawful_basis",
    "storage_location",
    "storage_detail",
    "retention",
    "owner",
    "privacy_policy",
)
SHEET = "Register"
EXAMPLE = {
    "service_name": "Accelerated Reader",
    "category": "pupil",
    "service_provider": "Renaissance Learning",
    "website": "https://www.renlearn.co.uk/accelerated-reader/",
    "purpose": "Reading assessment",
    "data_shared": "full name, UPN, date of birth, gender, assessment data",
    "service_type": "Purchased",
    "year_groups_enrolled": "Y2 - Y6",
    "risk_assessment_date": "March 2024",
    "controls": "",
    "lawful_basis": "Public task",
    "storage_location": "UK",
    "storage_detail": "",
    "retention": "Until the pupil leaves the school",
    "owner": "School business manager",
    "privacy_policy": "https://www.renlearn.co.uk/privacy/",
}


def check_format(fmt: str) -> str:
    fmt = fmt.strip().lower()
    if fmt not in FORMATS:
        raise InvalidInput(f'"{fmt}" is not a spreadsheet format: use csv or xlsx.')
    return fmt


def register_rows(document: RegisterDocument) -> tuple[list[str], list[list[str]]]:
    """The heading row and one row per entry, every section's entries in the document's order."""
    keys = list(COLUMNS)
    rows: list[dict[str, str]] = []
    for section in document.sections:
        for entry in section.entries:
            row = {"service_name": entry.name, "category": section.category}
            for key, value in entry.fields.items():
                key = "data_shared" if key == "potential_data_shared" else key
                row[key] = value
                if key not in keys:
                    keys.append(key)
            rows.append(row)
    return [heading_for(key) for key in keys], [[row.get(key, "") for key in keys] for row in rows]


def template_rows() -> tuple[list[str], list[list[str]]]:
    return [heading_for(key) for key in COLUMNS], [[EXAMPLE[key] for key in COLUMNS]]


def spreadsheet_bytes(headings: list[str], rows: list[list[str]], fmt: str) -> bytes:
    if check_format(fmt) == "csv":
        from cloudctl.exporters.csv_safe import write_csv

        stream = io.StringIO()
        write_csv(stream, headings, [dict(zip(headings, row, strict=True)) for row in rows])
        # A BOM so that Excel opens the file as UTF-8 (names such as Zoë).
        return ("\ufeff" + stream.getvalue()).encode("utf-8")
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    for values in (headings, *rows):
        sheet.append(["" for _ in values])
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=sheet.max_row, column=column)
            cell.value = value or None
            cell.data_type = "s"  # text, never a formula, whatever it starts with
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


def write_spreadsheet(path: Path, data: bytes, *, force: bool) -> None:
    """Write a NEW private (0600) file, or replace one with --force, as every file cloudctl writes."""
    import os

    from cloudctl.errors import Conflict
    from cloudctl.files import check_output_path, refuse_a_database, write_by_replacing, write_new_file

    check_output_path(path, force=force, what="register")
    refuse_a_database(path)
    try:
        if os.path.lexists(path):
            write_by_replacing(path, data)
        else:
            write_new_file(path, data)
    except FileExistsError:
        raise Conflict(f"{path} appeared while cloudctl was writing it. Choose another file name.") from None
    except PermissionError:
        raise InvalidInput(f"cloudctl may not write {path}: check the folder's permissions.") from None
