"""CSV that is safe to open in a spreadsheet.

A cell beginning with =, +, -, @, a tab, CR or LF can run as a formula in Excel
(OWASP "CSV injection"), so such cells are prefixed with a single quote. Every CSV
cloudctl writes goes through `write_csv`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import TextIO

DANGEROUS_FIRST_CHARACTERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell_text(value: object, separator: str = "; ") -> str:
    """A value as the text of one cell: lists joined, booleans as yes/no, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return separator.join(cell_text(item, separator) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {cell_text(item, separator)}" for key, item in value.items())
    return str(value)


def guard_cell(value: object) -> str:
    text = cell_text(value)
    if text.startswith(DANGEROUS_FIRST_CHARACTERS):
        return "'" + text
    return text


def write_csv(stream: TextIO, columns: Sequence[str], rows: Iterable[dict]) -> None:
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([guard_cell(column) for column in columns])
    for row in rows:
        writer.writerow([guard_cell(row.get(column)) for column in columns])
