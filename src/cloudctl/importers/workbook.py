"""The one reader of Excel workbooks (.xlsx) for every importer: class lists, registers, consent returns.

python-calamine reads the cells (about ten times faster than openpyxl on 100,000 rows: see
benchmarks/workbook_readers.py). It gives each cell's cached value only, so what calamine cannot show is
looked for in the sheet's own XML, streamed once: a formula cell (whose value cloudctl would take on trust,
or see as blank when Excel never calculated it), an error cell (#N/A, #REF!: calamine shows it blank),
rows and columns hidden in Excel. Formulas are never evaluated and never written anywhere.

What the importer gets is text, as a school would have typed it: a date cell is an ISO date, a whole
number is written without ".0", text keeps its leading zeros (an admission number stored as text). Numbers
stored as numbers lose any leading zeros Excel only displayed; the docs say to format such columns as text.

Refused, with a message that says how to mend the workbook: a file that is not an .xlsx workbook (an old
.xls, a password-protected file, a CSV renamed), a workbook with no sheet that has a heading row, formula
and error cells, merged cells at or below the heading row, hidden rows, hidden columns with a heading, and
hidden columns holding data under no heading.
Hidden sheets are never read; when a workbook has several sheets, `Table.choice` says which was read and why.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cloudctl.errors import InvalidInput

if TYPE_CHECKING:
    import zipfile  # imported where a workbook is read: importing this module stays cheap

# How many rows from the top of a sheet may be title lines before the heading row.
HEADING_SEARCH_ROWS = 20
# How many cells a refusal names before "and N more".
SHOWN_CELLS = 10
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


@dataclass
class Table:
    """One sheet of a workbook, as text: the heading row and the rows below it.

    `rows` holds (row number as Excel shows it, cells) for every row below the heading that is not blank;
    each row has at least as many cells as `headings` (more only when a cell right of the last heading holds
    something). `choice` is a sentence saying which sheet was read and why when the workbook has several
    sheets or hidden ones, else "".
    """

    path: Path
    sheet: str
    heading_row: int
    headings: list[str]
    rows: list[tuple[int, list[str]]]
    choice: str = ""
    sheets: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        return iter(self.rows)


def column_letter(index: int) -> str:
    """0 -> "A", 27 -> "AB"."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_text(value: object) -> str:
    """A cell's value as the text a school would have typed."""
    if value.__class__ is str:
        return value  # type: ignore[return-value]
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes" if not value.second else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="minutes" if not value.second else "seconds")
    if isinstance(value, dt.timedelta):
        seconds = int(value.total_seconds())
        return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return str(value)


def default_heading(cells: list[str]) -> bool:
    """A heading row names at least two columns (a title line above it has one cell)."""
    return sum(1 for cell in cells if cell.strip()) >= 2


def _not_a_workbook(path: Path, start: bytes, what: str) -> InvalidInput:
    if start.startswith(b"\xd0\xcf\x11\xe0"):
        found = "an old-style Excel 97-2003 (.xls) workbook or a password-protected one"
    elif start.startswith(b"PK"):
        found = "a zip file that is not an Excel workbook (a Word or OpenDocument file?)"
    elif not start.strip():
        found = "empty"
    else:
        found = "not an Excel workbook (text? a CSV file saved with an .xlsx name?)"
    return InvalidInput(
        f"{path.name} is {found}, so it cannot be read as a {what}. Open it in Excel, remove any password, "
        'and save it with "Save As" as an Excel Workbook (.xlsx), or as CSV UTF-8.'
    )


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the path of its XML inside the archive."""
    from xml.etree import ElementTree

    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    try:
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except KeyError:
        return {}
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{_PKG_REL}Relationship")}
    parts = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"), "")
        if target:
            part = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            parts[sheet.get("name", "")] = posixpath.normpath(part)
    return parts


_ROW_SPLIT = b"</row>"
_ROW = re.compile(rb"<row\b([^>]*)>(.*?)(?:</row>|$)", re.S)
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_ERROR_TYPE = re.compile(rb'\bt="e"')
_FORMULA = re.compile(rb"<f[\s>/]")
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_COL = re.compile(rb"<col\b([^>]*)/?>")
_MIN_MAX = re.compile(rb'\bmin="(\d+)"[^>]*?\bmax="(\d+)"|\bmax="(\d+)"[^>]*?\bmin="(\d+)"')


@dataclass
class _SheetScan:
    """What the sheet's XML shows that calamine does not: formula and error cells, hidden rows and columns."""

    formulas: list[str] = field(default_factory=list)
    formula_count: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    error_count: int = 0
    hidden_rows: set[int] = field(default_factory=set)
    hidden_columns: set[int] = field(default_factory=set)  # 0-based


def _scan_rows(block: bytes, scan: _SheetScan) -> None:
    """Complete <row> elements that hold a formula, an error or a hidden flag (rare: only then parsed)."""
    for row in _ROW.finditer(block):
        attributes, body = row.group(1), row.group(2)
        number = _ROW_NUMBER.search(attributes)
        if _HIDDEN.search(attributes) and number and b"<c" in body:
            scan.hidden_rows.add(int(number.group(1)))
        if b"<f" not in body and b't="e"' not in body:
            continue
        for cell in _CELL.finditer(body):
            cell_attributes, content = cell.group(1), cell.group(2) or b""
            ref = _CELL_REF.search(cell_attributes)
            name = (ref.group(1) + ref.group(2)).decode() if ref else "?"
            if _FORMULA.search(content):
                scan.formula_count += 1
                if len(scan.formulas) < SHOWN_CELLS:
                    scan.formulas.append(name)
            elif _ERROR_TYPE.search(cell_attributes):
                scan.error_count += 1
                if len(scan.errors) < SHOWN_CELLS:
                    value = _VALUE.search(content)
                    scan.errors.append((name, value.group(1).decode(errors="replace") if value else "#ERROR"))


def _scan_sheet(archive: zipfile.ZipFile, part: str) -> _SheetScan:
    """One pass over the sheet's XML. Most blocks hold no "<f", no 't="e"' and no "hidden": those are
    only searched for the bytes, never parsed."""
    scan = _SheetScan()
    pending = b""
    head_done = False
    with archive.open(part) as stream:
        while True:
            block = stream.read(1 << 20)
            pending += block
            if not head_done:
                start = pending.find(b"<sheetData")
                if start < 0 and block:
                    continue
                head, pending = (pending[:start], pending[start:]) if start >= 0 else (pending, b"")
                head_done = True
                for col in _COL.finditer(head):
                    if _HIDDEN.search(col.group(1)) and (bounds := _MIN_MAX.search(col.group(1))):
                        low = int(bounds.group(1) or bounds.group(4))
                        high = int(bounds.group(2) or bounds.group(3))
                        scan.hidden_columns.update(range(low - 1, min(high, 16384)))
            cut = pending.rfind(_ROW_SPLIT) + len(_ROW_SPLIT) if block else len(pending)
            if cut >= len(_ROW_SPLIT) or not block:
                complete, pending = pending[:cut], pending[cut:]
                if b"<f" in complete or b't="e"' in complete or b"hidden" in complete:
                    _scan_rows(complete, scan)
            if not block:
                return scan


def _refusal(path: Path, sheet: str, problems: list[str]) -> InvalidInput:
    lines = [f'{path.name}, sheet "{sheet}": nothing was imported, because'] + [f"  {p}" for p in problems]
    return InvalidInput("\n".join(lines))


def _cells(names: list[str], total: int) -> str:
    more = f" and {total - len(names)} more" if total > len(names) else ""
    return ", ".join(names) + more


def _ranges(numbers: list[int]) -> str:
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    shown = [str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs[:SHOWN_CELLS]]
    return ", ".join(shown) + (f" and {len(runs) - SHOWN_CELLS} more" if len(runs) > SHOWN_CELLS else "")


def _find_heading(
    values: list[list[object]], is_heading: Callable[[list[str]], bool]
) -> tuple[int, list[str]] | None:
    for index, row in enumerate(values[:HEADING_SEARCH_ROWS]):
        cells = [cell_text(value).strip() for value in row]
        if any(cells) and is_heading(cells):
            return index, cells
    return None


def read_workbook(
    path: Path,
    *,
    is_heading: Callable[[list[str]], bool] = default_heading,
    what: str = "spreadsheet",
    heading_hint: str = "row of column headings",
) -> Table:
    """The first visible sheet with a heading row (`is_heading`, tried on each of the top 20 rows, given the
    row's cells as text), or InvalidInput saying what was found and how to mend the workbook.

    `what` names the file in messages ("class list"); `heading_hint` says what heading row was looked for
    ('heading row naming a "UPN" column', read after "a" or "no").
    """
    import zipfile
    from xml.etree import ElementTree

    from python_calamine import CalamineError, CalamineWorkbook

    from cloudctl.importers.delimited_file import open_regular_file

    with open_regular_file(path, what) as handle:
        start = handle.peek(8)[:8]
        if not start.startswith(b"PK\x03\x04"):
            raise _not_a_workbook(path, start, what)
        try:
            archive = zipfile.ZipFile(handle)
            parts = _sheet_parts(archive)
            handle.seek(0)
            book = CalamineWorkbook.from_filelike(handle)
        except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, CalamineError, ValueError) as error:
            if isinstance(error, KeyError | ElementTree.ParseError) or "zip" in str(error).lower():
                raise _not_a_workbook(path, b"PK", what) from None
            raise InvalidInput(
                f"{path.name} could not be read as an Excel workbook ({error}). Open it in Excel and save it "
                'again with "Save As" as an Excel Workbook (.xlsx), or as CSV UTF-8.'
            ) from None
        with archive:
            return _choose_sheet(path, archive, parts, book, is_heading, what, heading_hint)


def _choose_sheet(
    path: Path,
    archive: zipfile.ZipFile,
    parts: dict[str, str],
    book: object,
    is_heading: Callable[[list[str]], bool],
    what: str,
    heading_hint: str,
) -> Table:
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    names = []
    skipped: list[str] = []  # why each sheet before the chosen one (and hidden ones) was not read
    for meta in book.sheets_metadata:  # type: ignore[attr-defined]
        if meta.typ != SheetTypeEnum.WorkSheet:
            skipped.append(f'"{meta.name}" (a chart, not a sheet of cells)')
            continue
        if meta.visible != SheetVisibleEnum.Visible:
            skipped.append(f'"{meta.name}" (hidden: unhide it in Excel to have it read)')
            continue
        names.append(meta.name)
    chosen = None
    for name in names:
        sheet = book.get_sheet_by_name(name)  # type: ignore[attr-defined]
        values = sheet.to_python(skip_empty_area=True)
        if not values or not any(any(cell != "" for cell in row) for row in values[:HEADING_SEARCH_ROWS]):
            skipped.append(f'"{name}" (empty)')
            continue
        found = _find_heading(values, is_heading)
        if found is None:
            skipped.append(f'"{name}" (no {heading_hint} in its top {HEADING_SEARCH_ROWS} rows)')
            continue
        chosen = (name, sheet, values, found)
        break
    if chosen is None:
        if not skipped:
            raise InvalidInput(f"{path.name} has no sheets with anything in them: it is an empty workbook.")
        raise InvalidInput(
            f"{path.name} has no sheet that can be read as a {what}: looked for a {heading_hint} on each "
            f"sheet and found: {'; '.join(skipped)}. Put the {what} on the first sheet, headings in one "
            "row above the data, and import it again."
        )
    name, sheet, values, (index, headings) = chosen
    first_row, first_column = sheet.start
    heading_row = first_row + index + 1
    while headings and not headings[-1]:
        headings.pop()
    if first_column:
        # Columns left of the data are empty in every row; keep positions as Excel's letters show them.
        headings = [""] * first_column + headings
    width = len(headings)

    problems = _check_sheet(archive, parts.get(name), sheet, heading_row, headings, values[index + 1 :])
    if problems:
        raise _refusal(path, name, problems)

    rows: list[tuple[int, list[str]]] = []
    pad = [""] * first_column
    to_text = cell_text
    for offset, row in enumerate(values[index + 1 :], start=heading_row + 1):
        cells = [value if value.__class__ is str else to_text(value) for value in row]
        if first_column:
            cells = pad + cells
        while len(cells) > width and not cells[-1].strip():
            cells.pop()
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        if any(cell.strip() for cell in cells):
            rows.append((offset, cells))
    choice = ""
    if len(names) > 1 or skipped:
        after = [f'"{other}"' for other in names[names.index(name) + 1 :]]
        not_read = skipped + ([f"{', '.join(after)} (after it)"] if after else [])
        choice = (
            f'Read sheet "{name}", the first sheet with a {heading_hint}; not read: {"; ".join(not_read)}.'
        )

    return Table(path, name, heading_row, headings, rows, choice, sheets=[*names])


def _check_sheet(
    archive: zipfile.ZipFile,
    part: str | None,
    sheet: object,
    heading_row: int,
    headings: list[str],
    below: list[list[object]],
) -> list[str]:
    """What makes the sheet unsafe to import as it looks; `below` holds the rows under the heading row, as
    calamine gives them (from the sheet's first column with anything in it)."""
    problems = []
    for (top, left), (bottom, right) in sheet.merged_cell_ranges or []:  # type: ignore[attr-defined]
        if bottom + 1 >= heading_row:
            cells = f"{column_letter(left)}{top + 1}:{column_letter(right)}{bottom + 1}"
            problems.append(
                f"cells {cells} are merged: unmerge them (Home > Merge & Center) and put the value in each "
                "cell it belongs to."
            )
            if len(problems) >= SHOWN_CELLS:
                break
    if part is None:
        return problems
    scan = _scan_sheet(archive, part)
    if scan.formula_count:
        problems.append(
            f"{scan.formula_count} cell(s) hold formulas ({_cells(scan.formulas, scan.formula_count)}), and "
            "cloudctl imports values, not formulas: copy the cells and paste them back as values (Paste "
            "Special > Values), then save."
        )
    if scan.error_count:
        shown = [f"{name} shows {value}" for name, value in scan.errors]
        problems.append(
            f"{scan.error_count} cell(s) show an error ({_cells(shown, scan.error_count)}): correct or clear "
            "them."
        )
    hidden_rows = [row for row in scan.hidden_rows if row >= heading_row]
    if hidden_rows:
        problems.append(
            f"row(s) {_ranges(hidden_rows)} are hidden in Excel, so whoever checks the sheet cannot see "
            "them: unhide them (select all, then Format > Hide & Unhide > Unhide Rows; clear any filter) "
            "and delete the rows that should not be imported."
        )
    hidden_named = [
        f"{column_letter(index)} ({headings[index]})"
        for index in sorted(scan.hidden_columns)
        if index < len(headings) and headings[index]
    ]
    if hidden_named:
        problems.append(
            f"column(s) {', '.join(hidden_named[:SHOWN_CELLS])} are hidden in Excel: unhide them (Format > "
            "Hide & Unhide > Unhide Columns) and delete those that should not be imported."
        )
    first_column = sheet.start[1]  # type: ignore[attr-defined]
    unnamed = _hidden_cells_without_heading(scan.hidden_columns, headings, below, first_column, heading_row)
    if unnamed:
        shown = ", ".join(
            f"{column_letter(index)} (first at {cell})" for index, cell in unnamed[:SHOWN_CELLS]
        )
        problems.append(
            f"column(s) {shown} are hidden in Excel and hold data under no heading, so whoever checks the "
            "sheet cannot see it and cloudctl cannot tell what it is: unhide them (select all, then Format > "
            "Hide & Unhide > Unhide Columns), then give each a heading or delete it."
        )
    return problems


def _hidden_cells_without_heading(
    hidden: set[int],
    headings: list[str],
    below: list[list[object]],
    first_column: int,
    heading_row: int,
) -> list[tuple[int, str]]:
    """Hidden columns with no heading that hold something below the heading row: (column, its first such
    cell's name). Most workbooks hide no column, and then no row is looked at."""
    unnamed = [column for column in hidden if column >= len(headings) or not headings[column]]
    if not unnamed:
        return []
    width = first_column + max((len(row) for row in below), default=0)
    found = []
    for index in sorted(column for column in unnamed if column < width):
        at = index - first_column
        for offset, row in enumerate(below, start=heading_row + 1):
            if at < len(row) and cell_text(row[at]).strip():
                found.append((index, f"{column_letter(index)}{offset}"))
                break
    return found
