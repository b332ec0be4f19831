"""A register kept in Excel (.xlsx): the first sheet with a heading row naming the service, one row per
service. Reading the workbook (and refusing formula, merged and hidden cells) is importers/workbook.py's."""

from __future__ import annotations

from pathlib import Path

from cloudctl.importers.register_document import RegisterDocument
from cloudctl.importers.register_labels import key_for
from cloudctl.importers.register_rows import Row, document_from_rows


def _is_heading(cells: list[str]) -> bool:
    keys = [key_for(cell) for cell in cells if cell.strip()]
    return len(keys) >= 2 and "service_name" in keys


def read_register_workbook(path: Path, *, default_category: str | None = None) -> RegisterDocument:
    from cloudctl.importers.workbook import read_workbook

    table = read_workbook(
        path,
        is_heading=_is_heading,
        what="register",
        heading_hint='heading row naming the service (a "Service", "Name" or "System(s)" column)',
    )
    shape = f'an Excel workbook (sheet "{table.sheet}", heading row {table.heading_row}, one row per service)'
    document = document_from_rows(
        Row(table.heading_row, table.headings),
        [Row(number, cells) for number, cells in table.rows],
        default_category=default_category,
        shape=shape,
        place="row",
    )
    if table.choice:
        document.notes.insert(0, table.choice)
    return document
