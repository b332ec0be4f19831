"""Reading a batch of returned consent forms: a CSV with one decision a row.

Columns are found by name (case, spaces and punctuation ignored): UPN, Service, Decision, and optionally
Given by, Date, Method, Relationship, Note and Category. An online form's export (Microsoft Forms, Google
Forms) names its date "Completion time", "Start time" or "Timestamp": those are the date too, when the file
has no Date column. The file is read by the class list's reader (`cloudctl.importers.delimited_file`): the
same encodings, delimiters and line numbers, regular files only.

Pure: rows come back as plain values with their line numbers, for the domain layer to apply. A row with more
cells than the heading (an unquoted comma in a note) is refused here, as is a character the text gate refuses
anywhere in the file, or a line break in a one-line column: reading such a row would save a note cut short,
or a name that is not what the parent wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cloudctl.errors import ImportRejected, InvalidInput, Problem
from cloudctl.importers.delimited_file import DelimitedFile, describe_delimiter, normalise_heading

# For each field, the headings accepted, in order of preference: the first one the file has is the field.
COLUMNS: dict[str, tuple[str, ...]] = {
    "upn": ("UPN", "Unique Pupil Number", "Pupil UPN"),
    "service": ("Service", "Service Name", "App", "Online Service"),
    "decision": ("Decision", "Consent", "Opt In", "Response", "Answer"),
    "given_by": ("Given By", "Parent", "Parent Name", "Parent/Carer", "Signed By", "Name of Parent"),
    # A date written on the form first; then when an online form was completed (submitted), or started.
    "date": (
        "Date",
        "Date Signed",
        "Signed On",
        "Date Given",
        "Completion Time",
        "Timestamp",
        "Start Time",
    ),
    "method": ("Method", "How", "Received By", "Received As"),
    "relationship": ("Relationship", "Relationship to Pupil"),
    "note": ("Note", "Notes", "Comment", "Comments"),
    "category": ("Category", "Section"),
}
REQUIRED = ("upn", "service", "decision")
MULTI_LINE = ("note",)  # every other column is one line: a line break in it is refused


@dataclass(frozen=True)
class ConsentReturn:
    line: int
    # column key -> the cell as written (trimmed). Only the columns the file has: with no date column,
    # there is no "date" key (the caller decides what date such a file's forms were signed on).
    values: dict[str, str]


def match_columns(cells: list[str]) -> dict[str, int]:
    """Which cell holds which field: for each field, the first of its headings (in COLUMNS' order) that
    the row has; each cell is one field at most."""
    names = [normalise_heading(cell) for cell in cells]
    positions: dict[str, int] = {}
    for key, aliases in COLUMNS.items():
        for alias in aliases:
            wanted = normalise_heading(alias)
            hit = next(
                (
                    index
                    for index, name in enumerate(names)
                    if name == wanted and index not in positions.values()
                ),
                None,
            )
            if hit is not None:
                positions[key] = hit
                break
    return positions


def read_consent_returns(path: Path, encoding: str | None = None) -> list[ConsentReturn]:
    """Every row of the file (blank rows skipped), or ImportRejected listing every row that cannot be read
    as written, with its line; InvalidInput for a file that cannot be read at all."""
    problems: list[Problem] = []

    def report(line: int, column: str, message: str) -> None:
        problems.append(Problem(line, column, "", message))

    with DelimitedFile(
        path,
        what="CSV of returned forms",
        advice="It needs a heading row (UPN, Service, Decision, ...) and one row for each form.",
        encoding=encoding,
    ) as file:
        rows = file.rows()
        heading_line, heading = _heading(file, rows, report)
        positions = match_columns(heading)
        missing = [key for key in REQUIRED if key not in positions]
        if missing:
            wanted = "; ".join(
                f"{key.replace('_', ' ')} (any of: {', '.join(COLUMNS[key])})" for key in missing
            )
            raise InvalidInput(
                f"{path.name}, line {heading_line}: the heading row has no column for {wanted}. "
                "Add the column, or rename it to one of those names."
            )
        width = len(heading)
        one_line = frozenset(index for key, index in positions.items() if key not in MULTI_LINE)
        screened = file.screened
        returns = []
        for first, last, cells in rows:
            if not any(cell.strip() for cell in cells):
                continue
            if (first != last or screened.refused_seen) and file.text_problems(
                first, cells, heading, one_line, report
            ):
                continue
            if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                report(
                    first,
                    "",
                    f"the row has {len(cells)} cells but the heading row has {width}: a cell holds the "
                    f"separator (a {describe_delimiter(file.delimiter)}) without double quotes around it, "
                    "perhaps a comma in a note, so the row cannot be read as the parent wrote it. Put "
                    'that cell in double quotes ("..."), or take the separator out.',
                )
                continue
            values = {
                key: (cells[index].strip() if index < len(cells) else "") for key, index in positions.items()
            }
            returns.append(ConsentReturn(first, values))
    if problems:
        raise ImportRejected(path.name, problems)
    return returns


def _heading(
    file: DelimitedFile, rows: Iterator[tuple[int, int, list[str]]], report: Callable[[int, str, str], None]
) -> tuple[int, list[str]]:
    """The heading row: the first row that is not blank."""
    for first, last, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if first != last or file.suspect:
            file.text_problems(first, cells, [], (), report)
        return first, cells
    raise InvalidInput(
        f"{file.path.name} has no rows: it needs a heading row (UPN, Service, Decision, ...) and one row "
        "for each form."
    )
