"""A register kept in Excel (.xlsx): the first sheet with a heading row naming the service, one row per
service. Reading the workbook (and refusing formula, merged and hidden cells) is importers/workbook.py's; so
is the sentence naming the sheet read and the sheets not read, said in the summary and with any refusal."""

from __future__ import annotations

from pathlib import Path

from cloudctl.errors import CloudctlError
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
    # The workbook reader's sentence (the one class lists give) names the sheet read and every sheet not.
    read_from = table.choice or f'Read sheet "{table.sheet}" of {path.name}.'
    if table.sheets[-1:] != [table.sheet]:
        read_from += f' To import another sheet, move it before "{table.sheet}" in the workbook.'
    try:
        document = document_from_rows(
            Row(table.heading_row, table.headings),
            [Row(number, cells) for number, cells in table.rows],
            default_category=default_category,
            shape=shape,
            place="row",
        )
    except CloudctlError as error:
        raise error.also_say(read_from) from None
    if table.choice:
        document.notes.insert(0, table.choice)
    document.read_from = read_from
    return document
