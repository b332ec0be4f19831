"""A register pasted as a text table: a heading row, then rows, the cells separated by "|" or tabs.

Tables copied out of a word processor or a web page wrap: a cell's text runs onto lines of its own. A
line without separators, whose first cell is empty, or that is indented continues the row above (each
cell's text joined to the same cell of that row); a line of dashes (Markdown's "|---|---|") is layout.
"""

from __future__ import annotations

import re

from cloudctl.importers.register_document import RegisterDocument
from cloudctl.importers.register_rows import Row, document_from_rows

_RULE = re.compile(r"^[\s|:+=-]*$")


def _cells(line: str, separator: str, edges: tuple[bool, bool] = (False, False)) -> list[str]:
    """The cells of a line; a table whose heading row starts (ends) with "|" has an edge there, not a cell."""
    text = line.strip(" \r\n") if separator == "\t" else line.strip()
    if edges[0]:
        text = text.removeprefix(separator)
    if edges[1]:
        text = text.removesuffix(separator)
    return [cell.strip() for cell in text.split(separator)]


def read_register_table(
    text: str, separator: str, *, default_category: str | None = None
) -> RegisterDocument:
    heading: Row | None = None
    rows: list[Row] = []
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff")), start=1):
        if not line.strip() or _RULE.fullmatch(line):
            continue
        if heading is None:
            stripped = line.strip()
            edges = (stripped.startswith("|"), stripped.endswith("|")) if separator == "|" else (False, False)
            heading = Row(number, _cells(line, separator, edges))
            continue
        cells = _cells(line, separator, edges)
        # A wrapped line: no separator at all, an empty first cell, or (when rows do not start with the
        # separator) indented, as a word processor's "Education" under "Google Workspace for" is.
        indented = line[:1].isspace() and not line.lstrip().startswith(separator)
        wraps = separator not in line or (not cells[0] and any(cells[1:])) or indented
        if wraps and rows:
            _continue(rows[-1], cells if separator in line else [line.strip()], separator in line)
        else:
            rows.append(Row(number, cells))
    name = "|" if separator == "|" else "tab"
    return document_from_rows(
        heading or Row(1, []),
        rows,
        default_category=default_category,
        shape=f"a text table ({name}-separated, heading row on line {heading.line if heading else 1}, "
        "one row per service)",
    )


def _continue(row: Row, cells: list[str], aligned: bool) -> None:
    """A wrapped line's text joined to the row above: cell by cell when it has the separators, else to the
    row's last filled cell (the one that ran on)."""
    if aligned:
        for index, cell in enumerate(cells):
            if not cell:
                continue
            while len(row.cells) <= index:
                row.cells.append("")
            row.cells[index] = f"{row.cells[index]} {cell}".strip()
        return
    last = max((index for index, cell in enumerate(row.cells) if cell), default=0)
    row.cells[last] = f"{row.cells[last]} {cells[0]}".strip()
