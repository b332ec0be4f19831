"""What a class list's heading row says beyond the columns cloudctl reads: headings used twice (a pupil's
and a parent's "Forename"), columns cloudctl has no field for, and filled columns with no heading. Each is
told, never silently ignored."""

from __future__ import annotations

from cloudctl.importers.delimited_file import normalise_heading
from cloudctl.importers.workbook import column_letter

# How a field is named in the warnings.
FIELD_WORDS = {
    "upn": "UPN",
    "surname": "surname",
    "forename": "forename",
    "surname_forename": "name",
    "preferred_forename": "preferred forename",
    "preferred_surname": "preferred surname",
    "dob": "date of birth",
    "gender": "gender",
    "year_group": "year group",
    "class_name": "class",
    "admission_number": "admission number",
}


def heading_notes(cells: list[str], positions: dict[str, int]) -> list[str]:
    """Warnings for the import's summary: duplicate headings (resolved to the first, the pupil's: MIS
    reports put the pupil's own columns before their contacts') and columns that were not read."""
    read = set(positions.values())
    names = [normalise_heading(cell) for cell in cells]
    notes: list[str] = []
    duplicated: set[int] = set()
    for key, index in sorted(positions.items(), key=lambda item: item[1]):
        others = [other for other, name in enumerate(names) if name == names[index] and other not in read]
        if not others or not names[index]:
            continue
        duplicated.update(others)
        where = ", ".join(column_letter(other) for other in others)
        notes.append(
            f'{len(others) + 1} columns are headed "{cells[index].strip()}": column {column_letter(index)}, '
            f"the first, was read as the pupil's {FIELD_WORDS.get(key, key)}; column(s) {where} (a parent's "
            "or contact's, as MIS reports put the pupil's columns first) were not read. If that is wrong, "
            "remove the other column(s) from the report and export it again."
        )
    unread = [
        f'"{cell.strip()}"'
        for index, cell in enumerate(cells)
        if cell.strip() and index not in read and index not in duplicated
    ]
    if unread:
        notes.append(
            f"Column(s) not read, as cloudctl keeps no such field for a pupil: {', '.join(unread)}. Rename a "
            "column if it holds a field cloudctl reads (see docs/pupils.md for the headings)."
        )
    return notes


def unnamed_note(filled: dict[int, int]) -> str:
    """The warning for columns under a blank heading that have something in them: counts, never cells."""
    where = ", ".join(
        f"{column_letter(index)} ({count} row{'s' if count != 1 else ''})"
        for index, count in sorted(filled.items())
        if count
    )
    return (
        f"Column(s) with no heading hold something, which was not read: {where}. If a column holds a "
        "field cloudctl reads, give it that field's heading (see docs/pupils.md) and import again; "
        "otherwise delete the column from the report."
    )
