"""Reading class lists exported from a school's MIS (SIMS, Arbor, Bromcom, Wonde and others) as CSV or .xlsx.

Each school builds its own report in its MIS, so nothing about the file is assumed: columns are found by
name through aliases (case, spaces and punctuation ignored) in any order. The file itself (regular files only,
the encoding, the delimiter, line numbers) is read by `cloudctl.importers.delimited_file`, which the
returned consent forms share.

The file is streamed: rows are checked and handed on one at a time, so a trust's million-row file does not
have to fit in memory. Problems are collected with the line number an editor shows, the column as the file
names it and the value of the offending cell only (never the rest of the row: it is a child's data). Pure:
nothing here touches the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NamedTuple

from cloudctl.errors import ImportRejected, InvalidInput, Problem
from cloudctl.importers.class_list_columns import heading_notes, unnamed_note
from cloudctl.importers.class_list_names import split_surname_forename as split_surname_forename
from cloudctl.importers.class_list_names import tidy as _tidy
from cloudctl.importers.class_list_workbook import WorkbookRows, is_workbook
from cloudctl.importers.class_list_years import not_taught_message

# The file reader's functions, some of them re-exported ("X as X"): other modules import them from here.
from cloudctl.importers.delimited_file import DELIMITERS as DELIMITERS
from cloudctl.importers.delimited_file import (
    HEADING_SEARCH_ROWS,
    DelimitedFile,
    describe_delimiter,
    describe_encoding,
    normalise_heading,
    width_problem,
)
from cloudctl.importers.delimited_file import detect_encoding as detect_encoding
from cloudctl.importers.delimited_file import sniff_delimiter as sniff_delimiter
from cloudctl.vocab.dates import parse_date
from cloudctl.vocab.text import gate_text
from cloudctl.vocab.upn import ALPHABET, check_upn
from cloudctl.vocab.year_groups import parse_year_code

YOUNGEST = 2
OLDEST = 19
LONGEST_NAME = 100
# How many rows from the top may be a report's title lines before the heading row.
# The heading row names a UPN column: the delimiter is sniffed from it, below any title lines.
_UPN_WORD = re.compile(r"(?<![a-z])upn(?![a-z])", re.IGNORECASE)
_RUN_ON = "If two cells have run together, put each value in its own cell."


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str  # how messages name the column when the file has none
    aliases: tuple[str, ...]  # as people write them, most specific first
    required: bool = False


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("upn", "UPN", ("UPN", "Unique Pupil Number", "Pupil UPN", "Student UPN"), required=True),
    # Legal names first: when a file has both "Legal Forename" and "Forename" (Wonde does), the legal one
    # is the forename and the other is what the pupil is known by.
    ColumnSpec(
        "surname",
        "Surname",
        ("Legal Surname", "Legal Last Name", "Surname", "Last Name", "Family Name"),
        required=True,
    ),
    ColumnSpec(
        "forename",
        "Forename",
        ("Legal Forename", "Legal First Name", "Forename", "First Name", "Given Name"),
        required=True,
    ),
    ColumnSpec("surname_forename", "Surname Forename", ("Surname Forename", "Legal Surname Forename")),
    ColumnSpec(
        "preferred_forename",
        "Preferred Forename",
        ("Preferred Forename", "Preferred First Name", "Preferred Name", "Known As"),
    ),
    ColumnSpec("preferred_surname", "Preferred Surname", ("Preferred Surname", "Preferred Last Name")),
    ColumnSpec("dob", "DOB", ("DOB", "Date of Birth", "Birth Date", "Birthdate"), required=True),
    ColumnSpec("gender", "Gender", ("Gender", "Sex", "M/F", "Legal Sex")),
    ColumnSpec(
        "year_group",
        "Year",
        ("Year", "Year Group", "NC Year", "Year Taught In", "National Curriculum Year", "Curriculum Year"),
        required=True,
    ),
    ColumnSpec(
        "class_name",
        "Class",
        (
            "Reg Group",
            "Registration Group",
            "Form",
            "Form Group",
            "Tutor Group",
            "Class",
            "Class Name",
            "Registration Form",
            "Reg Form",
            "Reg",
            "Form/Tutor Group",
        ),
    ),
    ColumnSpec(
        "admission_number",
        "Adno",
        ("Adno", "Admission Number", "Admissions Number", "Admission No", "Admissions No", "Adm No"),
    ),
)
SPECS = {spec.key: spec for spec in COLUMNS}
OPTIONAL_FIELDS = ("preferred_forename", "preferred_surname", "gender", "class_name", "admission_number")


class PupilRow(NamedTuple):
    """One valid row of a class list, with values in the form the database stores."""

    line: int
    upn: str
    upn_temporary: bool
    forename: str
    surname: str
    preferred_forename: str | None
    preferred_surname: str | None
    dob: date
    gender: str | None
    year_group: str
    class_name: str | None
    admission_number: str | None


def aliases_text(spec: ColumnSpec) -> str:
    return ", ".join(f'"{alias}"' for alias in spec.aliases)


@dataclass
class ProblemLog:
    """The first problems found, in file order, and how many there were in all."""

    keep: int = ImportRejected.SHOWN
    shown: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, line: int, column: str, value: str, message: str) -> None:
        self.total += 1
        if len(self.shown) < self.keep:
            # Only the offending cell is echoed, and not at any length: a run-on cell may hold a whole row.
            value = value.strip()
            self.shown.append(
                Problem(line, column, value if len(value) <= 40 else value[:37] + "...", message)
            )

    def __bool__(self) -> bool:
        return self.total > 0

    def rejection(self, what: str) -> ImportRejected:
        return ImportRejected(what, self.shown, total=self.total)


@dataclass(frozen=True)
class Heading:
    """The heading row: where it is and which cell holds which field."""

    line: int
    cells: list[str]
    positions: dict[str, int]  # field key -> cell index

    def column(self, key: str) -> str:
        return self.cells[self.positions[key]].strip()


def match_heading(cells: list[str]) -> dict[str, int]:
    """Which cell holds which field, by alias. The first matching cell wins; extra columns are ignored."""
    names = [normalise_heading(cell) for cell in cells]
    positions: dict[str, int] = {}
    used: set[int] = set()
    by_alias: dict[str, tuple[str, int]] = {}  # for the legal/plain name rule below
    for spec in COLUMNS:
        for rank, alias in enumerate(spec.aliases):
            wanted = normalise_heading(alias)
            hit = next(
                (index for index, name in enumerate(names) if name == wanted and index not in used), None
            )
            if hit is not None:
                positions[spec.key] = hit
                used.add(hit)
                by_alias[spec.key] = (wanted, rank)
                break
    # "Legal Forename" and "Forename" side by side (Wonde's legal_forename and forename): the plain one is
    # the name the pupil goes by, unless the file has a preferred-name column of its own.
    for key, preferred in (("forename", "preferred_forename"), ("surname", "preferred_surname")):
        if key in positions and preferred not in positions and by_alias[key][0].startswith("legal"):
            plain = [
                normalise_heading(alias) for alias in SPECS[key].aliases if not alias.startswith("Legal")
            ]
            hit = next(
                (index for index, name in enumerate(names) if name in plain and index not in used), None
            )
            if hit is not None:
                positions[preferred] = hit
                used.add(hit)
    return positions


def _missing_columns(positions: dict[str, int]) -> list[ColumnSpec]:
    missing = []
    for spec in COLUMNS:
        if not spec.required or spec.key in positions:
            continue
        if spec.key in ("forename", "surname") and "surname_forename" in positions:
            continue
        missing.append(spec)
    return missing


_GENDERS = {"M": "M", "MALE": "M", "F": "F", "FEMALE": "F"}
_UPN_VALUE = {
    **{str(digit): digit for digit in range(10)},
    **{letter: index for index, letter in enumerate(ALPHABET)},
}
# The check letter's weighted sum (weights 2 to 13 for characters 2 to 13) in two parts. Characters 11-13
# (the serial, whose last place may be a letter in a temporary UPN) from a table; characters 2-10 (the LA,
# the school and the year the UPN was issued) are shared by many pupils, so their sum is worked out once
# per prefix and kept (`_PREFIX_SUMS`, a bounded cache).
_SERIAL_SUMS = {
    first + second + third: 11 * _UPN_VALUE[first] + 12 * _UPN_VALUE[second] + 13 * _UPN_VALUE[third]
    for first in "0123456789"
    for second in "0123456789"
    for third in _UPN_VALUE
}
_PREFIX_SUMS: dict[str, int] = {}
_DIGIT_VALUE = {str(digit): digit for digit in range(10)}


def _prefix_sum(prefix: str) -> int | None:
    """The weighted sum of characters 2-10 (all digits), or None when one is not a digit."""
    total = 0
    for weight, char in enumerate(prefix, start=2):
        digit = _DIGIT_VALUE.get(char)
        if digit is None:
            return None
        total += weight * digit
    if len(_PREFIX_SUMS) < 10_000:
        _PREFIX_SUMS[prefix] = total
    return total


def _fast_upn(text: str) -> str | None:
    """The UPN when it is plainly valid, cheaply (a million rows); None sends it to `check_upn`, which
    says what is wrong."""
    value = text.upper()
    if len(value) != 13:
        return None
    prefix = value[1:10]
    head = _PREFIX_SUMS.get(prefix)
    if head is None and (head := _prefix_sum(prefix)) is None:
        return None
    tail = _SERIAL_SUMS.get(value[10:])
    if tail is None:
        return None
    return value if ALPHABET[(head + tail) % 23] == value[0] else None


def upn_key(upn: str) -> int:
    """A valid UPN as one integer, different for every UPN: kept for a million pupils, an integer takes
    half the memory of the text."""
    last = upn[12]
    return ((ord(upn[0]) * 10**11 + int(upn[1:12])) << 6) | (ord(last) - (48 if last <= "9" else 55))


def _remember(cache: dict[str, str], raw: str, value: str, too_long: list[str]) -> str:
    """The cell's tidied value, kept for the next row with the same cell unless either is longer than any
    name: such a cell goes on `too_long`, every time it is met, so its row is looked at closely."""
    if len(raw) > LONGEST_NAME or len(value) > LONGEST_NAME:
        too_long.append(raw)
    elif len(cache) < 100_000:
        cache[raw] = value
    return value


def _year_code(text: str) -> str | None:
    try:
        return parse_year_code(text)
    except InvalidInput:
        return None


_MONTH_ONLY = re.compile(r"[a-z]+\.?,?\s+\d{2,4}", re.IGNORECASE)
# Excel and some MIS reports write a date of birth as a date-time at midnight.
_MIDNIGHT = re.compile(r"\s+0?0:00(?::00(?:\.0+)?)?$")


def _age(dob: date, on: date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


class ClassList:
    """An open class-list file. `rows()` yields the valid rows; `problems` collects the rest.

    Open it with `with ClassList(path, as_of=...) as class_list:`; the heading is read on opening, so a
    file without the required columns is refused before any row is read.
    """

    def __init__(
        self,
        path: Path,
        *,
        as_of: date,
        encoding: str | None = None,
        today: date | None = None,
        taught: tuple[str, ...] | None = None,
    ) -> None:
        self.path = path
        self.as_of = as_of
        self.today = today or date.today()
        # The years the school teaches: a pupil in another is refused. None: not checked (tools, tests).
        self.taught = taught
        self.problems = ProblemLog()
        self.rows_read = 0
        self.notes_ignored = 0
        # For the summary: the sheet read, duplicate headings resolved, columns not read.
        self.warnings: list[str] = []
        self._file: DelimitedFile | WorkbookRows
        if is_workbook(path):
            if encoding is not None:
                raise InvalidInput(
                    f"{path.name} is an Excel workbook, which carries its own encoding: leave out --encoding."
                )
            self._file = WorkbookRows(path, is_heading=lambda cells: "upn" in match_heading(cells))
            if self._file.choice:
                self.warnings.append(self._file.choice)
        else:
            self._file = DelimitedFile(
                path,
                what="class list",
                advice="Export the class list from the MIS again and save it as CSV.",
                encoding=encoding,
                heading=_UPN_WORD,
            )
        self.size = self._file.size
        self.encoding = self._file.encoding
        self.delimiter = self._file.delimiter
        self._reader = self._file.reader
        try:
            self.heading = self._read_heading()
        except BaseException:
            self.close()
            raise

    # -- opening -------------------------------------------------------------------------------------

    def _next_cells(self) -> list[str] | None:
        with self._file.reading():
            return next(self._reader, None)

    def _read_heading(self) -> Heading:
        """The heading row: the first of the top rows naming a UPN column, else the first non-blank row."""
        first: tuple[int, list[str]] | None = None
        last_line = 0
        for _ in range(HEADING_SEARCH_ROWS):
            cells = self._next_cells()
            if cells is None:
                break
            line, last_line = last_line + 1, self._reader.line_num
            self._file.lines_done = last_line
            if last_line != line or self._file.suspect:
                # Above and in the heading, a line break in a cell is harmless; the cells are unnamed.
                self._file.text_problems(line, cells, [], (), self._report_text)
            if not any(cell.strip() for cell in cells):
                continue
            positions = match_heading(cells)
            if "upn" in positions:
                return self._check_heading(Heading(line, cells, positions))
            if first is None:
                first = (line, cells)
        if first is None:
            raise InvalidInput(f"{self.path.name} has no rows: export the class list from the MIS again.")
        # No row names a UPN: read from the first row, so the heading problem names what was found.
        line, cells = first
        self.close()
        raise self._heading_rejection(line, match_heading(cells))

    def _check_heading(self, heading: Heading) -> Heading:
        if _missing_columns(heading.positions):
            self.close()
            raise self._heading_rejection(heading.line, heading.positions)
        self.warnings += heading_notes(heading.cells, heading.positions)
        return heading

    def _heading_rejection(self, line: int, positions: dict[str, int]) -> ImportRejected:
        log = ProblemLog()
        if isinstance(self._file, WorkbookRows):
            read_as = self._file.describe()
        else:
            separator = describe_delimiter(self.delimiter)
            read_as = f"The file was read as {separator}-separated {describe_encoding(self.encoding)} text."
        for spec in _missing_columns(positions):
            also = ""
            if spec.key in ("forename", "surname"):
                also = f', or one "Surname Forename" column ({aliases_text(SPECS["surname_forename"])})'
            log.add(
                line,
                spec.label,
                "",
                f"the heading row has no {spec.label} column. Name it one of {aliases_text(spec)}{also}. "
                f"{read_as}",
            )
        return log.rejection(self.path.name)

    # -- reading -------------------------------------------------------------------------------------

    @property
    def bytes_read(self) -> int:
        """How far through the file reading has got (read-ahead included), for a progress bar."""
        return self._file.bytes_read

    @property
    def present(self) -> frozenset[str]:
        """The fields the file has a column for (forename and surname also when split from one column)."""
        fields = set(self.heading.positions)
        if "surname_forename" in fields:
            fields |= {"forename", "surname"}
        fields.discard("surname_forename")
        return frozenset(fields)

    def rows(self) -> Iterator[PupilRow]:
        """The valid rows, in file order. Invalid ones go to `problems`; trailing notes are ignored."""
        try:
            with self._file.reading():
                yield from self._rows()
        finally:
            self.close()

    def _rows(self) -> Iterator[PupilRow]:
        # One tight loop: a trust's file has a million rows, so per-row work is kept to plain operations.
        heading = self.heading
        pos = heading.positions
        cells_of = heading.cells
        width = len(cells_of)
        names = {key: heading.column(key) for key in pos}
        upn_at, dob_at, year_at = pos["upn"], pos["dob"], pos["year_group"]
        split_at = pos.get("surname_forename")
        forename_at = pos.get("forename", 0)
        surname_at = pos.get("surname", 0)
        # -1 for a column the file does not have.
        preferred_forename_at, preferred_surname_at, gender_at, class_at, admission_at = (
            pos.get(key, -1) for key in OPTIONAL_FIELDS
        )
        problems = self.problems
        taught = frozenset(self.taught) if self.taught is not None else None
        seen: dict[str, int] = {}  # UPN -> the line it is on
        dates: dict[str, date | str] = {}
        years: dict[str, str | None] = {}
        pending_notes: list[tuple[int, list[str]]] = []
        reader = self._reader
        file = self._file
        screened = file.screened  # its flag turns on when a character the text gate refuses is read
        stored = frozenset(pos.values())
        # Columns with a blank heading between named ones: what they hold cannot be told, so it is not
        # read, and the summary says how many rows had something there (`unnamed_note`).
        unnamed = [index for index, cell in enumerate(cells_of) if not cell.strip()]
        unnamed_filled = dict.fromkeys(unnamed, 0)
        last_line = file.lines_done = reader.line_num
        rows_read = 0
        tidy: dict[str, str] = {}  # a cell as written -> with its spaces tidied
        genders: dict[str, str] = {}
        too_long: list[str] = []  # this row's name cells longer than any name
        new_row = tuple.__new__  # PupilRow's own constructor checks its arguments, which are known here
        for cells in reader:
            line = last_line + 1
            last_line = file.lines_done = reader.line_num
            # Only a row over several lines, or one read after a refused character, is looked at closely.
            if (last_line != line or screened.refused_seen) and file.text_problems(
                line, cells, cells_of, stored if len(cells) >= width else (), self._report_text
            ):
                continue
            upn_text = cells[upn_at].strip() if len(cells) > upn_at else ""
            if len(cells) != width or len(upn_text) != 13:
                filled = [index for index, cell in enumerate(cells) if cell.strip()]
                if not filled:
                    continue  # a blank row, or a row of empty cells: harmless anywhere
                if len(filled) <= 2 and len(upn_text) != 13:
                    # A note ("Total: 62 pupils", "Printed by SIMS"): fine after the last pupil, so it is
                    # only a problem if a pupil follows it.
                    pending_notes.append((line, cells))
                    continue
                if len(cells) > width and not any(cell.strip() for cell in cells[width:]):
                    cells = cells[:width]  # trailing empty cells, as some exports write
            if pending_notes:
                self._notes_are_problems(pending_notes)
            rows_read += 1
            if len(cells) != width:
                self._wrong_width(line, last_line, cells, width)
                continue
            count = problems.total
            if unnamed:
                for index in unnamed:
                    if cells[index].strip():
                        unnamed_filled[index] += 1

            upn = _fast_upn(upn_text)
            if upn is None:
                upn = self._check_upn(line, names["upn"], upn_text)
            if upn is not None:
                earlier = seen.setdefault(upn, line)
                if earlier != line:
                    problems.add(
                        line,
                        names["upn"],
                        upn_text,
                        f"this UPN is also on line {earlier}: each pupil must be in the file once.",
                    )

            if split_at is None:
                raw = cells[surname_at]
                surname = tidy.get(raw)
                if surname is None:
                    surname = _remember(tidy, raw, _tidy(raw), too_long)
                raw = cells[forename_at]
                forename = tidy.get(raw)
                if forename is None:
                    forename = _remember(tidy, raw, _tidy(raw), too_long)
                if not surname or not forename:
                    self._check_name(line, names["surname"], surname, "surname")
                    self._check_name(line, names["forename"], forename, "forename")
            else:
                both = split_surname_forename(cells[split_at])
                if both.__class__ is str:
                    problems.add(line, names["surname_forename"], cells[split_at], both)
                    surname = forename = ""
                else:
                    surname, forename = both

            dob_text = cells[dob_at]
            dob = dates.get(dob_text)
            if dob is None:
                dob = self._dob(dob_text)
                if len(dates) < 100_000:
                    dates[dob_text] = dob
            if dob.__class__ is str:
                problems.add(line, names["dob"], dob_text, dob)

            year_text = cells[year_at]
            year = years.get(year_text, "")
            if year == "":
                year = _year_code(year_text)
                if len(years) < 10_000:
                    years[year_text] = year
            if year is not None and taught is not None and year not in taught:
                problems.add(line, names["year_group"], year_text, not_taught_message(year, self.taught))
            elif year is None:
                problems.add(
                    line,
                    names["year_group"],
                    year_text,
                    "not a school year: use N1, N2, R (Reception) or 1 to 14, written for example as "
                    "Year 3, Y3, 3, Rec or Year R."
                    if year_text.strip()
                    else "the year group is blank.",
                )

            # Classes, genders and preferred names repeat down the file, so each is tidied once.
            preferred_forename = preferred_surname = class_name = gender = ""
            if preferred_forename_at >= 0:
                raw = cells[preferred_forename_at]
                preferred_forename = tidy.get(raw)
                if preferred_forename is None:
                    preferred_forename = _remember(tidy, raw, _tidy(raw), too_long)
            if preferred_surname_at >= 0:
                raw = cells[preferred_surname_at]
                preferred_surname = tidy.get(raw)
                if preferred_surname is None:
                    preferred_surname = _remember(tidy, raw, _tidy(raw), too_long)
            if class_at >= 0:
                raw = cells[class_at]
                class_name = tidy.get(raw)
                if class_name is None:
                    class_name = _remember(tidy, raw, _tidy(raw), too_long)
            if gender_at >= 0:
                raw = cells[gender_at]
                gender = genders.get(raw)
                if gender is None:
                    value = " ".join(raw.split())
                    gender = _remember(genders, raw, _GENDERS.get(value.upper(), value), too_long)
            admission_number = ""
            if admission_at >= 0:
                raw = cells[admission_at]
                if len(raw) > LONGEST_NAME:
                    too_long.append(raw)
                admission_number = raw.strip()
            if too_long:  # never a cell met before in a row with nothing too long (`_remember`)
                too_long.clear()
                self._check_lengths(line, cells)
            if problems.total != count:
                continue
            yield new_row(
                PupilRow,
                (
                    line,
                    upn,
                    upn[12] > "9",  # a temporary UPN ends in a letter
                    forename,
                    surname,
                    # A preferred name that is the legal name (Wonde always fills both) is not a second name.
                    None if preferred_forename == forename else preferred_forename or None,
                    None if preferred_surname == surname else preferred_surname or None,
                    dob,
                    gender or None,
                    year,
                    class_name or None,
                    admission_number or None,
                ),
            )
        # Notes after the last pupil are the report's footer: ignored, but counted so the user is told.
        self.rows_read = rows_read
        self.notes_ignored = len(pending_notes)
        if any(unnamed_filled.values()):
            self.warnings.append(unnamed_note(unnamed_filled))

    def _notes_are_problems(self, notes: list[tuple[int, list[str]]]) -> None:
        width = len(self.heading.cells)
        for line, cells in notes:
            first = next(index for index, cell in enumerate(cells) if cell.strip())
            self.problems.add(
                line,
                self.heading.cells[first].strip() if first < width else "",
                cells[first],
                "this row is not a pupil. If it is a note, delete it or move it below the last pupil.",
            )
        notes.clear()

    def _check_upn(self, line: int, column: str, text: str) -> str | None:
        if not text:
            self.problems.add(line, column, "", "the UPN is blank: every pupil needs their UPN from the MIS.")
            return None
        try:
            return check_upn(text).value
        except InvalidInput as error:
            # The cell's value is shown beside the message, so the message need not repeat it.
            self.problems.add(
                line, column, text, error.message.replace(f'UPN "{text.upper()}"', "the UPN", 1)
            )
            return None

    def _report_text(self, line: int, column: str, message: str) -> None:
        # The cell's value is not shown: it holds a character that must not reach the terminal.
        self.problems.add(line, column, "", message)

    def _check_lengths(self, line: int, cells: list[str]) -> None:
        """A cell longer than any name: two cells run together, or a note pasted into the row?"""
        for key in ("surname", "forename", *OPTIONAL_FIELDS):
            if key in self.heading.positions:
                column = self.heading.column(key)
                try:
                    gate_text(cells[self.heading.positions[key]], column, limit=LONGEST_NAME, hint=_RUN_ON)
                except InvalidInput as error:
                    self.problems.add(line, column, cells[self.heading.positions[key]], error.message)

    def _check_name(self, line: int, column: str, value: str, what: str) -> None:
        if not value:
            self.problems.add(line, column, "", f"the {what} is blank.")

    def _wrong_width(self, line: int, last_line: int, cells: list[str], width: int) -> None:
        runs_on = last_line if last_line > line else 0
        if isinstance(self._file, WorkbookRows):  # a workbook has no separators to blame
            message = self._file.width_problem(line, cells, width)
        else:
            message = width_problem(cells, width, self.delimiter, runs_on=runs_on)
        if message is not None:
            self.problems.add(line, "", "", message)

    def _dob(self, text: str) -> date | str:
        """The date of birth, or a message saying why it is not acceptable."""
        cleaned = _MIDNIGHT.sub("", " ".join(text.split()))
        if not cleaned:
            return "the date of birth is blank."
        if _MONTH_ONLY.fullmatch(cleaned):
            return "a date of birth needs the day as well as the month, e.g. 03/04/2016 (day first)."
        try:
            dob = parse_date(cleaned)
        except InvalidInput:
            return "not a date: write dates of birth day first, e.g. 03/04/2016, or as 2016-04-03."
        if dob > self.today:
            return "the date of birth is in the future."
        age = _age(dob, self.as_of)
        if age < YOUNGEST:
            return f"the date of birth makes the pupil younger than {YOUNGEST} on {self.as_of.isoformat()}."
        if age > OLDEST:
            return f"the date of birth makes the pupil older than {OLDEST} on {self.as_of.isoformat()}."
        return dob

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ClassList:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_class_list(
    path: Path,
    *,
    as_of: date,
    encoding: str | None = None,
    today: date | None = None,
    taught: tuple[str, ...] | None = None,
) -> list[PupilRow]:
    """Every row of a small class list, or ImportRejected listing the problems (for tests and tools)."""
    with ClassList(path, as_of=as_of, encoding=encoding, today=today, taught=taught) as class_list:
        rows = list(class_list.rows())
        if class_list.problems:
            raise class_list.problems.rejection(path.name)
    return rows
