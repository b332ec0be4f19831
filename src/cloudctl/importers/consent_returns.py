"""Reading a batch of returned consent forms: a CSV with one decision a row.

Columns are found by name (case, spaces and punctuation ignored): UPN, Service, Decision, Given by, Date,
Method, and optionally Relationship, Note and Category. Encoding and delimiter are detected as for class
lists. Pure: rows come back as plain values with their line numbers, for the domain layer to apply.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from cloudctl.errors import InvalidInput
from cloudctl.files import read_input_bytes
from cloudctl.importers.class_list import detect_encoding, normalise_heading, sniff_delimiter

COLUMNS: dict[str, tuple[str, ...]] = {
    "upn": ("UPN", "Unique Pupil Number", "Pupil UPN"),
    "service": ("Service", "Service Name", "App", "Online Service"),
    "decision": ("Decision", "Consent", "Opt In", "Response", "Answer"),
    "given_by": ("Given By", "Parent", "Parent Name", "Parent/Carer", "Signed By", "Name of Parent"),
    "date": ("Date", "Date Signed", "Signed On", "Date Given"),
    "method": ("Method", "How", "Received By", "Received As"),
    "relationship": ("Relationship", "Relationship to Pupil"),
    "note": ("Note", "Notes", "Comment", "Comments"),
    "category": ("Category", "Section"),
}
REQUIRED = ("upn", "service", "decision")


@dataclass(frozen=True)
class ConsentReturn:
    line: int
    values: dict[str, str]  # column key -> the cell as written (trimmed)


def read_consent_returns(path: Path, encoding: str | None = None) -> list[ConsentReturn]:
    raw = read_input_bytes(path, "CSV of returned forms")
    try:
        text = raw.decode(encoding or detect_encoding(path))
    except (UnicodeDecodeError, LookupError) as error:
        raise InvalidInput(
            f"{path.name} could not be read as text ({error}). Save it from Excel as CSV."
        ) from None
    lines = text.splitlines()
    heading_index = next((index for index, line in enumerate(lines) if line.strip()), None)
    if heading_index is None:
        raise InvalidInput(f"{path.name} is empty: it needs a heading row (UPN, Service, Decision, ...).")
    reader = csv.reader(io.StringIO(text), delimiter=sniff_delimiter(lines[heading_index]))
    rows = list(reader)
    heading = rows[heading_index]
    positions: dict[str, int] = {}
    for index, cell in enumerate(heading):
        name = normalise_heading(cell)
        for key, aliases in COLUMNS.items():
            if key not in positions and name in {normalise_heading(alias) for alias in aliases}:
                positions[key] = index
    missing = [key for key in REQUIRED if key not in positions]
    if missing:
        wanted = "; ".join(f"{key.replace('_', ' ')} (any of: {', '.join(COLUMNS[key])})" for key in missing)
        raise InvalidInput(
            f"{path.name}, line {heading_index + 1}: the heading row has no column for {wanted}. "
            "Add the column, or rename it to one of those names."
        )
    returns = []
    for offset, cells in enumerate(rows[heading_index + 1 :], start=heading_index + 2):
        if not any(cell.strip() for cell in cells):
            continue
        values = {
            key: (cells[index].strip() if index < len(cells) else "") for key, index in positions.items()
        }
        returns.append(ConsentReturn(offset, values))
    return returns
