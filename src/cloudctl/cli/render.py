"""The one renderer: every list, show and report goes out as a table, CSV or JSON on stdout.

Tables are for people, so they may show fewer columns than CSV and JSON, which
carry every field with snake_case keys.
"""

from __future__ import annotations

import enum
import os
import sys
from collections.abc import Sequence

from cloudctl.exporters.csv_safe import cell_text
from cloudctl.vocab.text import for_terminal


class OutputFormat(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


_KEEP_WHOLE = 13
# A word longer than this (a web address) may be broken rather than widen its column further.
_LONGEST_WORD_KEPT = 30
_FILE_WIDTH = 140


def _table_text(value: object) -> str:
    # A table goes to a terminal: control characters a row holds are shown, never replayed.
    return for_terminal(cell_text(value, ", "))


def _console():
    from rich.console import Console

    # No markup or emoji codes: a service called "[Ofsted] :Maths:" is shown exactly as written.
    console = Console(file=sys.stdout, highlight=False, soft_wrap=False, markup=False, emoji=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        # Output going to a file or a log has no terminal to fit: give tables room to read well.
        console.width = _FILE_WIDTH
    return console


def console_width() -> int:
    return _console().width


def render(
    rows: list[dict],
    fmt: OutputFormat,
    *,
    columns: Sequence[tuple[str, str]] | None = None,
    title: str | None = None,
    empty: str = "Nothing to show.",
    all_keys: Sequence[str] | None = None,
) -> None:
    """Write rows in the chosen format. `columns` are (key, heading) pairs for the table."""
    if fmt == OutputFormat.json:
        import json

        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    keys = list(all_keys or (rows[0].keys() if rows else [key for key, _ in columns or []]))
    if fmt == OutputFormat.csv:
        from cloudctl.exporters.csv_safe import write_csv

        write_csv(sys.stdout, keys, rows)
        return
    if not rows:
        sys.stderr.write(for_terminal(empty) + "\n")
        return
    shown = list(columns or [(key, key.replace("_", " ")) for key in keys])
    cells = [[_table_text(row.get(key)) for key, _ in shown] for row in rows]
    console = _console()
    widths = fitted_widths([heading for _, heading in shown], cells, console.width)
    if widths is not None:
        console.print(_table(title, shown, cells, widths=widths))
        return
    widest = [max(len(line[index]) for line in cells) for index in range(len(shown))]
    # Short values (UPNs, dates, statuses) read badly when broken: keep them whole when the table
    # still fits the terminal that way; otherwise let Rich fold them rather than crop the table.
    keep_whole = [width if width <= _KEEP_WHOLE else None for width in widest]
    table = _table(title, shown, cells, min_widths=keep_whole)
    if table.__rich_measure__(console, console.options).minimum > console.width:
        table = _table(title, shown, cells)
    console.print(table)


def fitted_widths(headings: list[str], cells: list[list[str]], width: int) -> list[int] | None:
    """Column widths that fit `width` without breaking a word, or None to leave the widths to Rich.

    Rich narrows a table that is too wide by shrinking its widest columns towards the others, which
    breaks names mid-word ("Accelerat/ed Reader") while narrow number columns keep room to spare.
    Here every column gets at least its longest word (a short value such as a UPN or a date whole),
    and the room left is shared out by raising the narrowest columns first (water-filling). When the
    headings' words do not all fit as well, the values still do: a heading is what may break then.
    None when the table fits as it is, or when even the values' words do not fit (Rich folds them).
    """
    room = width - (3 * len(headings) + 1)  # a border and a space either side of each column
    natural, least, values_least = [], [], []
    for index, heading in enumerate(headings):
        lines = [line for row in cells for line in row[index].split("\n")]
        widest = max((len(line) for line in lines), default=0)
        longest = max((len(word) for line in lines for word in line.split()), default=0)
        # A heading may wrap between its words; a short value is kept whole, a long one by its words.
        whole = max(1, widest if widest <= _KEEP_WHOLE else min(longest, _LONGEST_WORD_KEPT))
        values_least.append(whole)
        least.append(max([whole, *(len(word) for word in heading.split())]))
        natural.append(max(widest, len(heading), least[-1]))
    if sum(natural) <= room:
        return None
    if sum(least) <= room:
        return _water_fill(least, natural, room)
    if sum(values_least) <= room:
        # The values whole; the room left goes to the headings' words, the narrowest column first.
        return _water_fill(values_least, least, room)
    return None


def _water_fill(least: list[int], most: list[int], room: int) -> list[int]:
    """Widths from `least` up towards `most` within `room`: every column is raised to a common cap
    (the narrowest first), and what the cap leaves over goes to the columns in order."""

    def fitted(cap: int) -> list[int]:
        return [min(high, max(low, cap)) for high, low in zip(most, least, strict=True)]

    low, high = 0, max(most)
    while low < high:  # the largest cap whose widths fit the room
        middle = (low + high + 1) // 2
        low, high = (middle, high) if sum(fitted(middle)) <= room else (low, middle - 1)
    widths = fitted(low)
    spare = room - sum(widths)
    for index, limit in enumerate(most):
        if spare <= 0:
            break
        grow = max(0, min(spare, limit - widths[index]))
        widths[index] += grow
        spare -= grow
    return widths


def _table(
    title: str | None,
    shown: list[tuple[str, str]],
    cells: list[list[str]],
    *,
    min_widths: list | None = None,
    widths: list[int] | None = None,
):
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, header_style="bold", title_justify="left")
    for index, (_, heading) in enumerate(shown):
        table.add_column(
            heading,
            overflow="fold",
            min_width=min_widths[index] if min_widths else None,
            width=widths[index] if widths else None,
        )
    for line in cells:
        table.add_row(*(Text(cell) for cell in line))
    return table


def render_record(record: dict, fmt: OutputFormat, *, title: str | None = None) -> None:
    """One record: a two-column table for people, one object in JSON, one row in CSV."""
    if fmt == OutputFormat.json:
        import json

        sys.stdout.write(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt == OutputFormat.csv:
        render([record], fmt)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in record.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            continue  # nested lists (histories) are rendered by the command as their own table
        table.add_row(key.replace("_", " "), Text(_table_text(value)))
    _console().print(table)
