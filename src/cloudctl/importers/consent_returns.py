"""Reading a batch of returned consent forms: a CSV with one decision a row.

Columns are found by name (case, spaces and punctuation ignored): UPN, Service, Decision, and optionally
Given by, Date, Method, Relationship, Note and Category. An online form's export (Microsoft Forms, Google
Forms) names its date "Completion time", "Start time" or "Timestamp": those are the date too, when the file
has no Date column. The file is read by the class list's reader (`cloudctl.importers.delimited_file`): the
same encodings, delimiters and line numbers, regular files only.

Pure: rows come back as plain values with their line numbers, for the domain layer to apply. A row with more
cells than the heading (an unquoted comma in a note) or fewer (a cell missing: the columns after it would be
read from the wrong cells, or not at all) is refused here, as is a character the text gate refuses anywhere
in the file, or a line break in a one-line column: reading such a row would save a note cut short, or a name
that is not what the parent wrote.

Rows below the last form that are plainly notes ("Total: 12", "Exported from Forms"; two filled cells at
most, no decision and no UPN) are skipped and counted (`ConsentReturns.notes_ignored`), as a class list's
footer is; such a row with a form below it is refused, as it may be a form written in the wrong cells.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cloudctl.errors import ImportRejected, InvalidInput, Problem
from cloudctl.importers.delimited_file import DelimitedFile, normalise_heading, width_problem

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


class ConsentReturns(list[ConsentReturn]):
    """The forms read, in file order; `notes_ignored` counts the note rows below the last one."""

    notes_ignored: int = 0


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


def _refuse_a_reply_code_column(path: Path, heading_line: int, heading: list[str]) -> None:
    """A file keyed by UPN that also carries reply codes: reading it by UPN would ignore each code unchecked,
    and a code is what ties an answer to the form (and the child) it came back on."""
    from cloudctl.importers.online_form_returns import CODE_HEADINGS

    # A bare "Code" column may be anything in a UPN-keyed file; the other headings name a form's code.
    codes = {normalise_heading(name) for name in CODE_HEADINGS if name != "Code"}
    if any(normalise_heading(cell) in codes for cell in heading):
        raise InvalidInput(
            f"{path.name}, line {heading_line}: the heading row has both a UPN column and a reply code "
            "column. cloudctl reads answers by one or the other, and reading by UPN would ignore each code "
            "unchecked "
            "(a code may belong to another child). Remove one: keep the reply code for forms that came back "
            "with their code, or the UPN for decisions recorded another way."
        )


def read_consent_returns(path: Path, encoding: str | None = None) -> ConsentReturns:
    """Every row of the file (blank rows and notes below the last row skipped), or ImportRejected listing
    every row that cannot be read as written, with its line; InvalidInput for a file that cannot be read at
    all."""
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
        _refuse_a_reply_code_column(path, heading_line, heading)
        width = len(heading)
        one_line = frozenset(index for key, index in positions.items() if key not in MULTI_LINE)
        screened = file.screened
        upn_at, decision_at = positions["upn"], positions["decision"]
        returns = ConsentReturns()
        notes: list[tuple[int, list[str]]] = []  # note rows not (yet) followed by a form
        with file.reading():
            for first, last, cells in rows:
                filled = [index for index, cell in enumerate(cells) if cell.strip()]
                if not filled:
                    continue
                if (first != last or screened.refused_seen) and file.text_problems(
                    first, cells, heading, one_line if len(cells) >= width else (), report
                ):
                    continue
                if _is_note(cells, filled, upn_at, decision_at):
                    notes.append((first, cells))
                    continue
                for line, note in notes:
                    at = next(index for index, cell in enumerate(note) if cell.strip())
                    report(
                        line,
                        heading[at].strip() if at < width else "",
                        "this row is not a form (it has no decision and no UPN). If it is a note, delete it "
                        "or move it below the last form.",
                    )
                notes.clear()
                problem = width_problem(cells, width, file.delimiter, runs_on=last if last != first else 0)
                if problem is not None:
                    report(first, "", problem)
                    continue
                values = {key: cells[index].strip() for key, index in positions.items()}
                returns.append(ConsentReturn(first, values))
    if problems:
        raise ImportRejected(path.name, problems)
    returns.notes_ignored = len(notes)
    return returns


def _is_note(cells: list[str], filled: list[int], upn_at: int, decision_at: int) -> bool:
    """A row that is plainly not a form: two filled cells at most, no decision and nothing like a UPN (13
    characters) in the UPN column ("Total: 12", "Exported from Microsoft Forms")."""
    if len(filled) > 2 or decision_at in filled:
        return False
    return upn_at >= len(cells) or len(cells[upn_at].strip()) != 13


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
