"""Reading the answers that come back on a consent form's reply code: a Microsoft Forms or Google Forms
export, or a spreadsheet the office typed paper forms into.

One row per submission. The columns are found by heading:

- a reply-code column ("Reply code", "Code on the form", "Form code"): it names the pupil and the form;
- the submission's time: "Completion time" (Microsoft Forms, when it was submitted), "Timestamp" (Google
  Forms), "Start time" (Microsoft Forms, when it was opened; used only without the others), or the office's
  "Date" / "Date signed". UK day-first dates, with or without a time of day;
- optionally the parent's name ("Your name", "Parent/carer name", ...), relationship and e-mail ("Your
  e-mail", "Email address"), a "Method" and a "Note";
- every other column is a question about one service: its heading names the service ("My Maths", "Do you
  consent to your child using My Maths?"), and its cells are the answers.

Microsoft Forms adds "ID", "Email", "Name" and "Last modified time": "Email" and "Name" are the account
of whoever filled the form in, often "anonymous", never the parent's name, so they are not read at all.
Google Forms' "Email address" (collected e-mails) is the parent's e-mail. Columns a form commonly also
asks ("Child's name", "Class", a quiz's "Total points") are not services: they are left unread.

Pure: headings and rows come back as plain values with their line numbers; the domain layer
(domain/online_returns.py) matches services, looks codes up and applies the answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cloudctl.errors import ImportRejected, InvalidInput, Problem
from cloudctl.importers.delimited_file import DelimitedFile, normalise_heading, width_problem
from cloudctl.vocab.text import LONG_LIMIT, gate_text

# For each field, the headings accepted (compared by `normalise_heading`), in order of preference.
CODE_HEADINGS = (
    "Reply code",
    "Reply code on the form",
    "Code on the form",
    "Form code",
    "Consent code",
    "Reply ref",
    "Code",
)
# The submission's time, best first: when it was submitted, then when it was opened, then a paper date.
TIME_HEADINGS = (
    "Completion time",
    "Timestamp",
    "Submitted",
    "Submission time",
    "Date signed",
    "Date",
    "Start time",
)
NAME_HEADINGS = (
    "Your name",
    "Your full name",
    "Parent/carer name",
    "Parent or carer name",
    "Parent name",
    "Name of parent/carer",
    "Name of parent or carer",
    "Parent/carer",
    "Given by",
    "Signed by",
)
RELATIONSHIP_HEADINGS = (
    "Relationship",
    "Your relationship to the child",
    "Relationship to child",
    "Relationship to the child",
    "Relationship to pupil",
)
EMAIL_HEADINGS = (
    "Your email",
    "Your e-mail",
    "Your email address",
    "Email address",
    "E-mail address",
    "Parent email",
    "Parent e-mail",
    "Contact email",
)
METHOD_HEADINGS = ("Method", "Received as", "How")
NOTE_HEADINGS = ("Note", "Notes", "Comment", "Comments", "Any comments")
# The form tool's own columns, and questions forms ask that are not about a service: never read.
NOT_READ = (
    "ID",
    "Email",
    "Name",
    "Last modified time",
    "Total points",
    "Quiz feedback",
    "Points",
    "Feedback",
    "Child's name",
    "Childs name",
    "Child name",
    "Pupil name",
    "Pupil's name",
    "Name of child",
    "Your child's name",
    "Class",
    "Class name",
    "Year",
    "Year group",
    "Form",
    "Score",
    "Grade posted to learners",
)
_NOT_READ_PREFIXES = ("points", "feedback")  # Microsoft Forms quiz columns: "Points - My Maths"

SOURCE_NAMES = {
    "completiontime": "Microsoft Forms",
    "starttime": "Microsoft Forms",
    "timestamp": "Google Forms",
}
ONLINE_TIME_COLUMNS = frozenset({"completiontime", "starttime", "timestamp", "submitted", "submissiontime"})


def _keys(headings: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(normalise_heading(heading) for heading in headings)


_CODE, _TIME, _NAME = _keys(CODE_HEADINGS), _keys(TIME_HEADINGS), _keys(NAME_HEADINGS)
_RELATIONSHIP, _EMAIL = _keys(RELATIONSHIP_HEADINGS), _keys(EMAIL_HEADINGS)
_METHOD, _NOTE, _NOT_READ = _keys(METHOD_HEADINGS), _keys(NOTE_HEADINGS), frozenset(_keys(NOT_READ))


@dataclass(frozen=True)
class Layout:
    """Which cell holds what: field -> cell index, and the question columns as (index, heading)."""

    heading_line: int
    headings: list[str]
    fields: dict[str, int]
    questions: list[tuple[int, str]]

    @property
    def time_key(self) -> str:
        return normalise_heading(self.headings[self.fields["time"]])

    @property
    def online(self) -> bool:
        """Exported by an online form tool (its timestamp column), not typed by the office."""
        return self.time_key in ONLINE_TIME_COLUMNS


@dataclass(frozen=True)
class Submission:
    line: int
    # field -> the cell as written (trimmed), for the fields the file has.
    values: dict[str, str]
    # (question column index, answer as written), only the answered questions.
    answers: list[tuple[int, str]] = field(default_factory=list)


def has_reply_codes(headings: list[str]) -> bool:
    """Is this heading row a file of answers by reply code (and not by UPN)?"""
    names = {normalise_heading(cell) for cell in headings}
    return bool(names & set(_CODE)) and not names & {"upn", "uniquepupilnumber", "pupilupn"}


def _first(names: list[str], wanted: tuple[str, ...], taken: set[int]) -> int | None:
    for key in wanted:
        for index, name in enumerate(names):
            if name == key and index not in taken:
                return index
    return None


def layout_of(heading_line: int, headings: list[str]) -> Layout:
    """Match the heading row's columns; InvalidInput when there is no reply code or time column."""
    names = [normalise_heading(cell) for cell in headings]
    fields: dict[str, int] = {}
    wanted_fields = (
        ("code", _CODE), ("time", _TIME), ("given_by", _NAME), ("relationship", _RELATIONSHIP),
        ("email", _EMAIL), ("method", _METHOD), ("note", _NOTE),
    )  # fmt: skip
    for key, wanted in wanted_fields:
        index = _first(names, wanted, set(fields.values()))
        if index is not None:
            fields[key] = index
    for key, what in (("code", CODE_HEADINGS), ("time", TIME_HEADINGS)):
        if key not in fields:
            raise InvalidInput(
                f"line {heading_line}: the heading row has no {key.replace('time', 'timestamp')} column "
                f"(any of: {', '.join(what)}). Add the column, or rename it to one of those names."
            )
    used = set(fields.values())
    questions = [
        (index, heading.strip())
        for index, (heading, name) in enumerate(zip(headings, names, strict=True))
        if index not in used and name and not _not_read(name) and name not in _TIME
    ]
    return Layout(heading_line, headings, fields, questions)


def _not_read(name: str) -> bool:
    return name in _NOT_READ or name.startswith(_NOT_READ_PREFIXES)


@dataclass
class OnlineReturns:
    layout: Layout
    submissions: list[Submission]


def read_online_form_returns(path: Path, encoding: str | None = None) -> OnlineReturns:
    """Every submission of the file (blank rows skipped), or ImportRejected listing every row that cannot be
    read as written, with its line; InvalidInput for a file that cannot be read at all."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _from_workbook(path)
    problems: list[Problem] = []

    def report(line: int, column: str, message: str) -> None:
        problems.append(Problem(line, column, "", message))

    with DelimitedFile(
        path,
        what="file of answers",
        advice="It needs a heading row (Reply code, a timestamp, a column per service) and a row for each "
        "submission.",
        encoding=encoding,
    ) as file:
        rows = file.rows()
        heading_line, headings = _heading(file, rows, report)
        layout = layout_of(heading_line, headings)
        width = len(headings)
        note_at = layout.fields.get("note")
        one_line = frozenset(index for index in range(width) if index != note_at)
        submissions: list[Submission] = []
        fields, questions = layout.fields, layout.questions
        with file.reading():
            for first, last, cells in rows:
                if not any(cell.strip() for cell in cells):
                    continue
                if (first != last or file.screened.refused_seen) and file.text_problems(
                    first, cells, headings, one_line if len(cells) >= width else (), report
                ):
                    continue
                problem = width_problem(cells, width, file.delimiter, runs_on=last if last != first else 0)
                if problem is not None:
                    report(first, "", problem)
                    continue
                values = {key: cells[index].strip() for key, index in fields.items()}
                answers = [(index, cells[index].strip()) for index, _ in questions if cells[index].strip()]
                submissions.append(Submission(first, values, answers))
    if problems:
        raise ImportRejected(path.name, problems)
    return OnlineReturns(layout, submissions)


def read_headings(path: Path, encoding: str | None = None) -> list[str]:
    """The heading row alone (to choose the reader); [] when it cannot be read (the reader will say why)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return ["Reply code"]  # a workbook of answers is only read by this reader
    try:
        with DelimitedFile(path, what="file", advice="", encoding=encoding) as file:
            for _first_line, _last, cells in file.rows():
                if any(cell.strip() for cell in cells):
                    return cells
    except Exception:  # any reading problem is reported by the reader chosen
        return []
    return []


def _from_workbook(path: Path) -> OnlineReturns:
    """Answers downloaded as .xlsx (Microsoft Forms' "Open in Excel", Google Sheets): read by the one
    workbook reader, which refuses formulas, merged and hidden cells; every cell passes the text gate."""
    from cloudctl.importers.workbook import read_workbook

    table = read_workbook(
        path,
        is_heading=has_reply_codes,
        what="file of answers",
        heading_hint='heading row naming a "Reply code" column',
    )
    layout = layout_of(table.heading_row, table.headings)
    note_at = layout.fields.get("note")
    problems: list[Problem] = []
    submissions: list[Submission] = []
    for number, cells in table.rows:
        bad = False
        for index, cell in enumerate(cells):
            heading = table.headings[index] if index < len(table.headings) else f"column {index + 1}"
            try:
                gate_text(cell, heading, limit=LONG_LIMIT, multiline=index == note_at)
            except InvalidInput as error:
                problems.append(Problem(number, heading, "", error.message))
                bad = True
        if bad or not any(cell.strip() for cell in cells):
            continue
        values = {key: cells[index].strip() for key, index in layout.fields.items()}
        answers = [(index, cells[index].strip()) for index, _ in layout.questions if cells[index].strip()]
        submissions.append(Submission(number, values, answers))
    if problems:
        raise ImportRejected(path.name, problems)
    return OnlineReturns(layout, submissions)


def _heading(file: DelimitedFile, rows, report) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    for first, last, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if first != last or file.suspect:
            file.text_problems(first, cells, [], (), report)
        return first, cells
    raise InvalidInput(f"{file.path.name} has no rows: it needs a heading row and a row for each submission.")


# --- answers and times --------------------------------------------------------------------------------

_NEGATIVE = re.compile(
    r"^(no|n|nope)\b"
    r"|\b(not|don'?t|do not|does not|disagree|withdraw\w*|declin\w*|refus\w*|opt(?:ed)?[ -]?out)\b"
)
_POSITIVE = re.compile(
    r"^(yes|y)\b|\b(agree\w*|consent\w*|accept\w*|opt(?:ed)?[ -]?in|give permission|happy)\b"
)


def answer_decision(text: str) -> str | None:
    """ "opt-in", "opt-out", or None for an answer that is neither (Yes, No, "I agree", "I do not agree",
    "I consent", "I do not consent", "Yes, I give consent", ...). A "not" anywhere means no."""
    words = " ".join(text.lower().replace("\u2019", "'").split())
    if _NEGATIVE.search(words):
        return "opt-out"
    if _POSITIVE.search(words):
        return "opt-in"
    return None


_TIME_OF_DAY = re.compile(
    r"^(?P<date>\S+?)(?:T|,?\s+)(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?\s*(?P<ampm>[ap]\.?m\.?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2}|GMT[+-]?\d*|UTC|BST)?$",
    re.IGNORECASE | re.ASCII,
)


def has_time_of_day(text: str) -> bool:
    """Does a timestamp cell write a time of day ("12/09/2026 10:31:22"), not a date alone?"""
    return _TIME_OF_DAY.match(" ".join(text.split())) is not None


def submission_time(text: str) -> tuple[str, tuple[int, int, int]]:
    """The date (as written, for the date parser) and the time of day (hours, minutes, seconds; midnight
    when none is written) of a timestamp cell such as "12/09/2026 10:31:22" or "2026/09/12 10:31:22 am"."""
    cleaned = " ".join(text.split())
    match = _TIME_OF_DAY.match(cleaned)
    if match is None:
        return cleaned, (0, 0, 0)
    hours, minutes, seconds = int(match["h"]), int(match["m"]), int(match["s"] or 0)
    if match["ampm"]:
        pm = match["ampm"].lower().startswith("p")
        hours = hours % 12 + (12 if pm else 0)
    if hours > 23 or minutes > 59 or seconds > 59:
        raise InvalidInput(f'"{text}" is not a time of day: write it like 12/09/2026 10:31.')
    day = match["date"]
    if re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2}", day):
        day = day.replace("/", "-")
    return day, (hours, minutes, seconds)
