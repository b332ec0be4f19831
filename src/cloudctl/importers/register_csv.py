"""A register kept in a spreadsheet and saved as CSV: a heading row, then one row per service.

A cell that starts with the quote cloudctl's formula guard puts before "=", "+", "-" or "@" reads as it
was written (`unguard_cell`), so `register publish --format csv` imports back exactly.

Decoding (UTF-8 with or without a BOM, Windows-1252, the delimiter Excel chose), cell counts and refused
characters are the shared delimited-file reader's; the headings and rows become a register in register_rows.
"""

from __future__ import annotations

from pathlib import Path

from cloudctl.errors import ImportRejected, Problem
from cloudctl.exporters.csv_safe import unguard_cell
from cloudctl.importers.delimited_file import DelimitedFile
from cloudctl.importers.register_document import RegisterDocument, nothing_read
from cloudctl.importers.register_rows import WHAT, Row, document_from_rows

ADVICE = (
    "It needs a heading row (Service, Provider, Purpose, Data shared, ...) and one row for each service; "
    'save it from Excel as "CSV UTF-8 (Comma delimited)".'
)


def read_register_csv(path: Path, *, default_category: str | None = None) -> RegisterDocument:
    problems: list[Problem] = []

    def report(line: int, column: str, message: str) -> None:
        problems.append(Problem(line, column, "", message))

    heading: Row | None = None
    rows: list[Row] = []
    with DelimitedFile(path, what="register", advice=ADVICE) as file:
        for first, _last, cells in file.rows():
            if heading is None:
                if not any(cell.strip() for cell in cells):
                    continue
                if file.suspect:
                    file.text_problems(first, cells, [], (), report)
                heading = Row(first, [unguard_cell(cell) for cell in cells])
                continue
            if file.suspect:
                file.text_problems(first, cells, heading.cells, (), report)
            rows.append(Row(first, [unguard_cell(cell) for cell in cells]))
    if problems:
        raise ImportRejected(WHAT, problems)
    if heading is None:
        raise ImportRejected(WHAT, [Problem(1, "", "", nothing_read("found no row with text"))])
    return document_from_rows(
        heading,
        rows,
        default_category=default_category,
        shape=f"a CSV file (heading row on line {heading.line}, one row per service)",
    )
