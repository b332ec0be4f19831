"""A class list saved as an Excel workbook (.xlsx), as SIMS, Arbor and Bromcom export it.

The workbook is read by the one .xlsx reader (`cloudctl.importers.workbook`), which refuses formulas, error
cells, merged and hidden cells and says which sheet it read. This module hands the sheet's rows to the class
list's reader in the shape a CSV file gives them (rows of cells, numbered as Excel numbers them, so every
problem names the row a user sees in Excel), so both kinds of file are checked by the same code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path

from cloudctl.importers.delimited_file import DelimitedFile, find_refused
from cloudctl.importers.workbook import SHOWN_CELLS, WORKBOOK_SUFFIXES, column_letter, read_workbook


def is_workbook(path: Path) -> bool:
    return path.suffix.lower() in WORKBOOK_SUFFIXES


class _Flag:
    refused_seen = False


class _Rows:
    """The sheet's rows from row 1, blank ones as empty lists; `line_num` is the row last given."""

    def __init__(self, heading_row: int, headings: list[str], rows: list[tuple[int, list[str]]], flag: _Flag):
        self.line_num = 0
        self.total = rows[-1][0] if rows else heading_row
        self._rows = self._generate(heading_row, headings, rows, flag)

    def _generate(
        self, heading_row: int, headings: list[str], rows: list[tuple[int, list[str]]], flag: _Flag
    ) -> Iterator[list[str]]:
        for self.line_num in range(1, heading_row):
            yield []
        self.line_num = heading_row
        yield headings
        number = heading_row
        for row_number, cells in rows:
            while number + 1 < row_number:
                number += 1
                self.line_num = number
                flag.refused_seen = False
                yield []
            number = self.line_num = row_number
            # A character the text gate refuses (a line break typed with Alt+Enter, a control character)
            # sends the row to be looked at closely, as a CSV file's screen does.
            flag.refused_seen = find_refused("\x1f".join(cells), one_line=True) is not None
            yield cells

    def __iter__(self) -> Iterator[list[str]]:
        return self

    def __next__(self) -> list[str]:
        return next(self._rows)


class WorkbookRows:
    """What `ClassList` reads a file through (the part of `DelimitedFile` it uses), for a workbook."""

    encoding = "xlsx"
    delimiter = ""
    text_problems = DelimitedFile.text_problems

    def __init__(self, path: Path, *, is_heading: Callable[[list[str]], bool]) -> None:
        self.path = path
        table = read_workbook(
            path, is_heading=is_heading, what="class list", heading_hint='heading row naming a "UPN" column'
        )
        self.sheet = table.sheet
        self.choice = table.choice
        self.size = path.stat().st_size
        self.lines_done = 0
        self.screened = _Flag()
        self.reader = _Rows(table.heading_row, table.headings, table.rows, self.screened)

    def width_problem(self, line: int, cells: list[str], width: int) -> str | None:
        """Why a row with something right of the last heading cannot be read (a CSV file's reason, a
        separator without quotes, cannot happen in a workbook), or None when it can."""
        beyond = [index for index in range(width, len(cells)) if cells[index].strip()]
        if not beyond:
            return None
        named = ", ".join(f"{column_letter(index)}{line}" for index in beyond[:SHOWN_CELLS])
        return (
            f'cell(s) {named} of sheet "{self.sheet}" hold something under no heading, so cloudctl cannot '
            "tell what it is: give the column a heading in the heading row (columns cloudctl does not read "
            "are listed, not imported), or clear the cells."
        )

    def describe(self) -> str:
        return f'The workbook was read from its sheet "{self.sheet}".'

    @property
    def suspect(self) -> bool:
        return self.screened.refused_seen

    def reading(self) -> nullcontext[None]:
        return nullcontext()

    @property
    def bytes_read(self) -> int:
        return self.size * self.reader.line_num // max(self.reader.total, 1)

    def close(self) -> None:
        """The workbook was read whole on opening: nothing is left open."""
