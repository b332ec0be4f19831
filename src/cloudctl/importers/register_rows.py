"""A register kept as rows (a spreadsheet, or a table pasted as text): one row per service, a heading row.

The readers for CSV, Excel and text tables each turn their file into a heading row and rows of cell text
with the line (or row) each came from; this module turns those into a RegisterDocument, with the headings
mapped through the shared labels (register_labels). The section of each row is its Category cell, else
`--category`. Nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudctl.errors import ImportRejected, InvalidInput, Problem
from cloudctl.importers.register_document import (
    CATEGORY_HEADINGS,
    RegisterDocument,
    RegisterEntry,
    RegisterSection,
    nothing_read,
)
from cloudctl.importers.register_labels import FIELD_ALIASES, extra_key, key_for

WHAT = "The register"
_NAME_HEADINGS = ", ".join(f'"{alias}"' for alias in FIELD_ALIASES["service_name"][:5])


@dataclass(frozen=True)
class Row:
    line: int  # where the row starts, as the user's editor or spreadsheet numbers it
    cells: list[str]


def category_of(text: str) -> str | None:
    """A Category cell as a section: its key ("pupil"), an alias, or a heading's words ("School
    management")."""
    from cloudctl.domain.vocabulary import parse_category
    from cloudctl.importers.register_document import _heading_category, _split_lines

    try:
        return parse_category(text)
    except InvalidInput:
        pass
    (line,) = _split_lines(" ".join(text.split()).rstrip(":"))
    return _heading_category(line)


def document_from_rows(
    heading: Row,
    rows: list[Row],
    *,
    default_category: str | None,
    shape: str,
    place: str = "line",
) -> RegisterDocument:
    """The register the rows hold; refuses (all or nothing) rows without a name or a section, naming each."""
    keys = _column_keys(heading, place)
    if "service_name" not in keys:
        found = ", ".join(f'"{cell.strip()}"' for cell in heading.cells if cell.strip())
        raise InvalidInput(
            nothing_read(
                f"found a heading row ({place} {heading.line}: {found}) with no column that names the "
                f"service (headed {_NAME_HEADINGS} or similar)"
            )
        )
    name_at = keys.index("service_name")
    category_at = keys.index("category") if "category" in keys else None
    sections: dict[str, RegisterSection] = {}
    problems: list[Problem] = []
    for row in rows:
        cells = [cell.strip() for cell in row.cells] + [""] * (len(keys) - len(row.cells))
        if not any(cells):
            continue
        beyond = [cell for cell in cells[len(keys) :] if cell]
        if beyond:
            # An unquoted comma in a CSV cell, a stray pipe or a cell under no heading: reading the row as
            # it is would drop what lies past the last column (say, "medical needs" from the data shared).
            problems.append(
                Problem(
                    row.line,
                    "",
                    "",
                    f"this row has {len(row.cells)} cells but the heading row has {len(keys)}, "
                    f'so "{beyond[0][:40]}" and what follows it belong to no column and would be lost. '
                    "A comma inside a cell needs the cell in double quotes (saving from a spreadsheet does "
                    "this); otherwise give the column a heading or empty those cells.",
                )
            )
            continue
        unheaded = [index for index, key in enumerate(keys) if key is None and cells[index]]
        if unheaded:
            # A column left without a heading between named ones: its cells belong to no field.
            where = _column_name(unheaded[0], place)
            problems.append(
                Problem(
                    row.line,
                    "",
                    "",
                    f'this row has "{cells[unheaded[0]][:40]}" in {where}, which has no heading, so it '
                    "belongs to no field and would be lost. Give the column a heading (a column cloudctl "
                    "has no field for is kept with the service as written), or empty the cell.",
                )
            )
            continue
        name = cells[name_at]
        if not name:
            problems.append(
                Problem(
                    row.line,
                    heading.cells[name_at].strip(),
                    "",
                    f'this row has no service name in its "{heading.cells[name_at].strip()}" column. Fill '
                    "it in, or delete the row if it is not a service.",
                )
            )
            continue
        category = _row_category(row, cells, heading, category_at, default_category, problems)
        if category is None:
            continue
        entry = RegisterEntry(name=name, fields={}, line=row.line, last_line=row.line)
        for index, key in enumerate(keys):
            if index in (name_at, category_at) or key is None:
                continue
            value = cells[index] if index < len(cells) else ""
            if key == "website" and value.startswith("<") and value.endswith(">"):
                value = value[1:-1].strip()
            entry.fields[key] = value
            entry.field_lines[key] = row.line
            entry.written_labels[key] = heading.cells[index].strip()
        section = sections.get(category)
        if section is None:
            section = sections[category] = RegisterSection(
                category=category, heading=CATEGORY_HEADINGS[category], line=heading.line, implicit=True
            )
        section.entries.append(entry)
    if problems:
        raise ImportRejected(WHAT, problems)
    if not sections:
        raise InvalidInput(
            nothing_read(f"found a heading row ({place} {heading.line}) and no row of services under it")
        )
    return RegisterDocument(
        school_name="",
        title="",
        sections=list(sections.values()),
        shape=shape,
        has_front_matter=False,
        tabular=True,
    )


def _column_name(index: int, place: str) -> str:
    """A column as the user sees it: Excel's letter in a workbook, else its number from the left."""
    if place == "row":
        from cloudctl.importers.workbook import column_letter

        return f"column {column_letter(index)}"
    return f"column {index + 1}"


def _column_keys(heading: Row, place: str) -> list[str | None]:
    """Each column's key; None for a column with no heading (its cells are refused if filled)."""
    keys: list[str | None] = []
    for index, cell in enumerate(heading.cells):
        label = cell.strip()
        if not label:
            keys.append(None)
            continue
        key = key_for(label)
        if key in keys:
            # A second column for a field ("Purpose" and "Reason"): kept under its own heading.
            key = extra_key(label)
        if key in keys:
            raise InvalidInput(
                f'{place} {heading.line}: two columns are headed "{label}" (columns {keys.index(key) + 1} '
                f"and {index + 1}). Rename or remove one, so each column says what it holds."
            )
        keys.append(key)
    return keys


def _row_category(
    row: Row,
    cells: list[str],
    heading: Row,
    category_at: int | None,
    default_category: str | None,
    problems: list[Problem],
) -> str | None:
    text = cells[category_at] if category_at is not None else ""
    if text:
        category = category_of(text)
        if category is None:
            problems.append(
                Problem(
                    row.line,
                    heading.cells[category_at].strip(),
                    text,
                    f'"{text}" is not a section of the register: write pupil, management, other or '
                    'statutory (or a heading such as "Services for Pupils or Parents").',
                )
            )
        return category
    if default_category is None:
        where = (
            f'its "{heading.cells[category_at].strip()}" cell is empty'
            if category_at is not None
            else "the file has no Category column"
        )
        problems.append(
            Problem(
                row.line,
                "",
                "",
                f'cloudctl cannot tell which section "{cells[0] or "this row"}" belongs in: {where}. Add a '
                "Category column (pupil, management, other or statutory), or say which section the rows "
                "belong to with --category.",
            )
        )
    return default_category
