"""CSV that is safe to open in a spreadsheet.

A cell beginning with =, +, -, @, a tab, CR or LF can run as a formula in Excel
(OWASP "CSV injection"), so such cells are prefixed with a single quote. Every CSV
cloudctl writes goes through `write_csv`.

The guard can be undone (`unguard_cell`, used where cloudctl reads its own CSV back, as
`register import` does): a value that already starts with quotes followed by a formula
character ("'=A1" written on purpose) gets one quote more, so taking one quote off any
guarded cell gives back exactly what was written. A number (an int or float, as reports compute
days overdue) is written as it is: "-29" is a negative number to a spreadsheet, not a formula.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from typing import TextIO

DANGEROUS_FIRST_CHARACTERS = ("=", "+", "-", "@", "\t", "\r", "\n")
# What the guard quotes: a formula character first, or after quotes of the text's own.
_GUARDED = re.compile("'*[" + re.escape("".join(DANGEROUS_FIRST_CHARACTERS)) + "]")


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
    """The value as a cell's text, a quote before it when it starts (after any quotes) with =, +, -, @, a tab,
    CR or LF; so the cell never starts with a formula character."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        # A number cloudctl computed (days overdue: -29) is a number to a spreadsheet, never a formula.
        return str(value)
    text = cell_text(value)
    return "'" + text if _GUARDED.match(text) else text


def unguard_cell(cell: str) -> str:
    """A cell written by `guard_cell` as its value was: `unguard_cell(guard_cell(text)) == text`."""
    return cell[1:] if cell.startswith("'") and _GUARDED.match(cell, 1) else cell


def write_csv(stream: TextIO, columns: Sequence[str], rows: Iterable[dict]) -> None:
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow([guard_cell(column) for column in columns])
    for row in rows:
        writer.writerow([guard_cell(row.get(column)) for column in columns])
