"""Which reader reads a register file: chosen by the file's extension, then by what its text looks like.

Each shape has its own small reader, and every reader gives a RegisterDocument (the labels mapped through
register_labels), so the checks and the import that follow are the same whatever the shape. A new shape is
one new reader and one line here.
"""

from __future__ import annotations

import re
from pathlib import Path

from cloudctl.importers.register_document import RegisterDocument, parse_register_document

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm")


def read_register_file(path: Path, *, default_category: str | None = None) -> RegisterDocument:
    """The register in the file, read by the reader for its shape (InvalidInput if no reader finds one)."""
    suffix = path.suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES:
        from cloudctl.importers.register_workbook import read_register_workbook

        return read_register_workbook(path, default_category=default_category)
    if suffix == ".csv":
        from cloudctl.importers.register_csv import read_register_csv

        return read_register_csv(path, default_category=default_category)
    from cloudctl.domain.register_gate import refuse_control_characters
    from cloudctl.files import read_input_bytes, read_text_file

    start = read_input_bytes(path, "register")[:8]
    if start.startswith(b"PK\x03\x04"):  # a workbook saved without its .xlsx extension
        from cloudctl.importers.register_workbook import read_register_workbook

        return read_register_workbook(path, default_category=default_category)
    text = read_text_file(path, "register").replace("\f", "")
    refuse_control_characters(text)
    if looks_like_csv(text):  # a CSV saved as .txt
        from cloudctl.importers.register_csv import read_register_csv

        return read_register_csv(path, default_category=default_category)
    separator = table_separator(text)
    if separator is not None:
        from cloudctl.importers.register_table import read_register_table

        return read_register_table(text, separator, default_category=default_category)
    document = parse_register_document(text, default_category=default_category)
    headed = any(not section.implicit for section in document.sections)
    document.shape = 'a document with a heading per service and "Label: value" lines' + (
        ", under section headings" if headed else f", filed under --category {default_category}"
    )
    return document


def looks_like_csv(text: str) -> bool:
    """Whether the first line with text is a comma-separated heading row with a column naming the service."""
    import csv

    from cloudctl.importers.register_labels import field_for

    first = next((line for line in re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff")) if line.strip()), "")
    if "," not in first or "|" in first or "\t" in first:
        return False
    cells = next(csv.reader([first]))
    return len(cells) >= 2 and any(field_for(cell) == "service_name" for cell in cells)


def table_separator(text: str) -> str | None:
    """ "|" or a tab when the text is a table: its first line with text is a heading row of two or more
    cells, and most lines with text have the separator (a cell wrapped onto a line of its own may not)."""
    lines = [line for line in re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff")) if line.strip()]
    if len(lines) < 2:
        return None
    for separator in ("|", "\t"):
        if lines[0].count(separator) >= 1 and len([c for c in lines[0].split(separator) if c.strip()]) >= 2:
            with_separator = sum(1 for line in lines if separator in line)
            if 2 * with_separator > len(lines):
                return separator
    return None
