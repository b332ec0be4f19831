"""A register pasted as a text table: a heading row, then rows, the cells separated by "|" or tabs.

Tables copied out of a word processor or a web page wrap: a cell's text runs onto lines of its own, and
each piece of text on such a line joins the cell in the same column of the row above. Which column is read
from the line in up to four ways, and a line is placed only where every way that applies agrees:

- counted from the left, when the line starts at the table's left edge (a "|" in a table whose rows start
  with one, or an empty first cell), has a cell for every column, or starts at the left margin with text
  after a complete row (it may be a row typed without its leading "|");
- counted from the right, when a table whose rows end with "|" has a line that ends with one but does not
  start with one (the first cell of the line was indented);
- where the text stands, when the table is laid out in columns (the row's separators line up with the
  heading row's): each piece of text must lie between two of the row's separators;
- as a line broken in the middle of a cell (unindented, no separator before its text): its first piece
  continues the last cell of the line above, when that line ended inside a cell.

A line that no way places, or that two ways place differently, is refused with its line number (all or
nothing, like every other problem): cloudctl never guesses which field a piece of text belongs to. So is
an indented line with a cell for every column after a complete row: it may be a row of its own. A line
of dashes (Markdown's "|---|---|") is layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cloudctl.errors import ImportRejected, Problem
from cloudctl.importers.register_document import RegisterDocument
from cloudctl.importers.register_labels import field_for
from cloudctl.importers.register_rows import WHAT, Row, document_from_rows
from cloudctl.vocab.data_categories import wrapped_joint

_RULE = re.compile(r"^[\s|:+=-]*$")


@dataclass(frozen=True)
class _Piece:
    start: int  # offset of the text's first character in the line (of the cell's start when empty)
    text: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True)
class _Line:
    """One line of the table split at its separators, the table's edges taken off where the line has them."""

    raw: str
    cells: list[_Piece]
    stops: tuple[int, ...]  # offsets of the separators
    left: bool  # starts (after spaces) with the separator, where the table's rows start with one
    right: bool  # ends with the separator, where the table's rows end with one

    @property
    def indented(self) -> bool:
        return self.raw[:1] in (" ", "\u00a0") or (self.raw[:1] == "\t" and not self.stops)


def _split(raw: str, separator: str, edges: tuple[bool, bool]) -> _Line:
    pieces: list[_Piece] = []
    stops: list[int] = []
    start = 0
    for index, character in enumerate(raw + separator):
        if character == separator:
            chunk = raw[start:index]
            stripped = chunk.strip()
            offset = start + (chunk.index(stripped) if stripped else 0)
            pieces.append(_Piece(offset, stripped))
            if index < len(raw):
                stops.append(index)
            start = index + 1
    left = bool(stops) and edges[0] and not pieces[0].text
    right = bool(stops) and edges[1] and not pieces[-1].text
    cells = pieces[1 if left else 0 : len(pieces) - 1 if right else len(pieces)]
    return _Line(raw, cells, tuple(stops), left, right)


@dataclass
class _OpenRow:
    row: Row
    stops: tuple[int, ...] | None  # the first line's separators, when they line up with the heading's
    edges: tuple[bool, bool]
    open_column: int | None  # the column of the cell the line above ended inside, if it did


def read_register_table(
    text: str, separator: str, *, default_category: str | None = None
) -> RegisterDocument:
    heading: Row | None = None
    heading_stops: tuple[int, ...] = ()
    listed: set[int] = set()
    edges = (False, False)
    rows: list[Row] = []
    current: _OpenRow | None = None
    problems: list[Problem] = []
    for number, raw in enumerate(re.split(r"\r\n|\r|\n", text.removeprefix("\ufeff")), start=1):
        if not raw.strip() or _RULE.fullmatch(raw):
            continue
        if heading is None:
            stripped = raw.strip()
            edges = (stripped.startswith("|"), stripped.endswith("|")) if separator == "|" else (False, False)
            line = _split(raw, separator, edges)
            heading = Row(number, [piece.text for piece in line.cells])
            heading_stops = line.stops
            # Columns listing data categories: a wrapped line there may be the next item of the list.
            listed = {
                index
                for index, cell in enumerate(heading.cells)
                if field_for(cell) in ("data_shared", "potential_data_shared")
            }
            continue
        line = _split(raw, separator, edges)
        if current is None or _starts_a_row(line, edges, len(heading.cells), current.open_column):
            cells = [piece.text for piece in line.cells]
            row = Row(number, cells)
            rows.append(row)
            aligned = separator == "|" and "\t" not in raw and line.stops == heading_stops
            current = _OpenRow(row, line.stops if aligned else None, edges, _ends_inside(line))
            continue
        if not any(piece.text for piece in line.cells):
            continue
        placed = _place(line, current, heading.cells)
        if isinstance(placed, str):
            problems.append(Problem(number, "", "", placed))
            continue
        for column, piece in placed:
            while len(current.row.cells) <= column:
                current.row.cells.append("")
            before = current.row.cells[column]
            joint = wrapped_joint(before, piece) if column in listed else " "
            current.row.cells[column] = f"{before}{joint}{piece}".strip()
        # The line ends inside the cell of its last text, unless a separator or an empty cell follows it.
        current.open_column = placed[-1][0] if not line.right and line.cells[-1].text else None
    if problems:
        raise ImportRejected(WHAT, problems)
    name = "|" if separator == "|" else "tab"
    return document_from_rows(
        heading or Row(1, []),
        rows,
        default_category=default_category,
        shape=f"a text table ({name}-separated, heading row on line {heading.line if heading else 1}, "
        "one row per service)",
    )


def _starts_a_row(line: _Line, edges: tuple[bool, bool], width: int, open_column: int | None) -> bool:
    """A row starts with its name: at the left edge in a table whose rows start with "|", else at the
    start of the line (an indented line, or one whose first cell is empty, continues the row above). In a
    table whose rows start with "|", a line without it that has a cell for every column starts a row too,
    unless the line above stopped inside a cell (then it is the rest of that line)."""
    if not line.stops or not line.cells or not line.cells[0].text:
        return False
    if edges[0]:
        return line.left or (not line.indented and open_column is None and len(line.cells) >= width)
    return not line.indented


def _ends_inside(line: _Line) -> int | None:
    """The column of the cell a row's first line stops inside (its last cell has text and no separator
    closes it); None when the line ends at a separator or an empty cell."""
    if line.right or not line.cells or not line.cells[-1].text:
        return None
    return len(line.cells) - 1


def _place(line: _Line, row: _OpenRow, headings: list[str]) -> list[tuple[int, str]] | str:
    """Each piece of text on a wrapped line with the column it continues, or why that cannot be told."""
    width, count = len(headings), len(line.cells)
    by_position = _by_position(line, row, width)
    full_and_loose = count >= width and line.cells[0].text and row.open_column is None
    if row.edges[0] and line.indented and full_and_loose and by_position is None:
        # A cell for every column after a complete row, not laid out under the row's columns: a row of its
        # own typed without its leading "|", or every cell of the row above wrapping at once. Either
        # reading loses or invents a service. (Laid out in columns, where each piece stands says.)
        return _unplaceable(
            line, width, 'it has a cell for every column, so it may be a row of its own typed without its '
            'leading "|" (start it with "|" if it is)'
        )  # fmt: skip
    firsts: list[tuple[str, int]] = []  # (a way of reading the line, the column of its first cell)
    # A line at the left margin with text in its first cell, after a complete row, may be a row typed
    # without its leading "|" (its first text a service's name) as well as the rest of the row above.
    typed_as_row = row.edges[0] and row.open_column is None and not line.indented and line.cells[0].text
    if line.stops and (
        count == width or line.left or (not row.edges[0] and not line.cells[0].text) or typed_as_row
    ):
        firsts.append(("counted from the left", 0))
    if line.right and not line.left and count <= width:
        firsts.append(("counted from the right", width - count))
    if not line.indented and line.cells[0].text and row.open_column is not None:
        firsts.append(("as the rest of the cell the line above stops in", row.open_column))
    readings = [
        (way, [(first + index, piece.text) for index, piece in enumerate(line.cells) if piece.text])
        for way, first in firsts
    ]
    if by_position is not None:
        readings.append(("where it stands", by_position))
    if not readings:
        return _unplaceable(line, width, "nothing on the line says which column it continues")
    if any(placed != readings[0][1] for _, placed in readings[1:]):
        said = "; ".join(f"{way}, under {_column(headings, placed[0][0])}" for way, placed in readings)
        return _unplaceable(line, width, f"read {said}")
    return readings[0][1]


def _column(headings: list[str], index: int) -> str:
    return f'"{headings[index]}"' if index < len(headings) and headings[index] else f"column {index + 1}"


def _by_position(line: _Line, row: _OpenRow, width: int) -> list[tuple[int, str]] | None:
    """Where the text stands, in a table laid out in columns: each piece must lie between two of the row's
    separators; None when the table is not laid out so, or a piece crosses a separator."""
    if row.stops is None or "\t" in line.raw:
        return None
    if len(line.cells) == width and not set(line.stops) <= set(row.stops):
        return None  # a cell for every column, not laid out as the row: its separators say where
    # Column i lies between bounds[i] and bounds[i + 1]; a table without an edge is open on that side.
    bounds = [*([] if row.edges[0] else [-1]), *row.stops, *([] if row.edges[1] else [1 << 30])]
    placed: list[tuple[int, str]] = []
    for piece in line.cells:
        if not piece.text:
            continue
        column = next(
            (
                index
                for index in range(len(bounds) - 1)
                if bounds[index] < piece.start and piece.end <= bounds[index + 1]
            ),
            None,
        )
        if column is None or (placed and column <= placed[-1][0]):
            return None
        placed.append((column, piece.text))
    return placed or None


def _unplaceable(line: _Line, width: int, why: str) -> str:
    text = next(piece.text for piece in line.cells if piece.text)
    separator = "a tab" if "\t" in line.raw and "|" not in line.raw else '"|"'
    return (
        f'this line continues the row above, but cloudctl cannot tell which column "{text[:40]}" belongs '
        f"to: {why}. Write the line with {separator} between every one of the table's {width} columns, "
        "leaving empty the cells it does not continue, or join its text to the line above."
    )
