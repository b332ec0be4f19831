"""The record of processing as a file: a spreadsheet (xlsx) or a web page (html), and CSV for `--out`.

Every value is written as people read it (cloudctl.reports.ropa.shown: MISSING for what the register lacks),
and every cell goes through the CSV formula guard (cloudctl.exporters.csv_safe): a service called
"=HYPERLINK(...)" stays text in Excel, in the spreadsheet as in the CSV.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from cloudctl.exporters.csv_safe import guard_cell, write_csv

HEADINGS = {
    "service": "Service",
    "category": "Category",
    "provider": "Provider",
    "purposes": "Purposes",
    "data_subjects": "Data subjects",
    "data_categories": "Categories of personal data",
    "recipients": "Recipients",
    "transfers": "Transfers outside the UK (safeguard)",
    "retention": "Retention",
    "security_measures": "Security measures",
    "lawful_basis": "Lawful basis (Art. 6)",
    "special_category_condition": "Special category condition (Art. 9)",
    "dpia_state": "DPIA",
    "agreement": "Data-processing agreement",
}


def ropa_csv(rows: Sequence[dict], keys: Sequence[str]) -> str:
    stream = io.StringIO(newline="")
    write_csv(stream, keys, rows)
    return stream.getvalue()


def ropa_xlsx(rows: Sequence[dict], keys: Sequence[str], *, title: str) -> bytes:
    """One sheet: a heading row (frozen, filtered), then one row per processing activity."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Record of processing"
    sheet.append([guard_cell(HEADINGS.get(key, key)) for key in keys])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        # Text cells only: guard_cell turns every value into text and quotes a leading =, +, -, @.
        sheet.append([guard_cell(row.get(key)) for key in keys])
    for column in sheet.columns:
        letter = column[0].column_letter
        widest = max(len(str(cell.value or "")) for cell in column)
        sheet.column_dimensions[letter].width = min(max(widest, 10), 60) + 2
        for cell in column[1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions
    workbook.properties.title = title
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ropa_html(rows: Sequence[dict], keys: Sequence[str], *, title: str, school: str, as_of: str) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cloudctl", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    columns = [(key, HEADINGS.get(key, key)) for key in keys]
    return env.get_template("ropa.html.j2").render(
        rows=rows, columns=columns, title=title, school=school, as_of=as_of
    )
