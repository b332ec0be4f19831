"""A text table whose cells wrap onto lines of their own: every piece of text joins the cell in its own
column of the row above, or the file is refused with the line; never joined to the wrong field."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudctl.errors import ImportRejected
from cloudctl.importers.register_table import read_register_table


def _entries(text: str, separator: str = "|") -> dict[str, dict[str, str]]:
    document = read_register_table(text, separator, default_category="pupil")
    return {entry.name: dict(entry.fields) for section in document.sections for entry in section.entries}


TAPESTRY = """\
| Service  | Provider | Data shared          |
|----------|----------|----------------------|
| Tapestry | FSF      | child name, photos,  |
                        medical needs        |
| Seesaw   | Seesaw   | child name           |
"""


def test_an_indented_wrapped_line_joins_its_own_column_not_the_name(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    path = tmp_path / "register.txt"
    path.write_text(TAPESTRY, encoding="utf-8")
    cli.ok("register", "import", str(path), "--category", "pupil")
    names = {service["name"] for service in cli.json("service", "list", "--all")}
    assert names == {"Tapestry", "Seesaw"}
    shown = cli.json("service", "show", "Tapestry", "--category", "pupil")
    assert shown["data_shared_text"] == "child name, photos, medical needs"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Counted from the right: the line ends with the table's edge but its first cell was indented away.
        (TAPESTRY, "child name, photos, medical needs"),
        # Where it stands: no separator at all, under the "Data shared" column of a table laid out in columns.
        (
            "Service  | Provider | Data shared\n"
            "Tapestry | FSF      | child name, photos,\n"
            "                      medical needs\n",
            "child name, photos, medical needs",
        ),
        # A line broken inside a cell (as an e-mail wraps it): its text continues that cell, the rest follow.
        (
            "| Service | Provider | Data shared | Notes |\n"
            "| Tapestry | FSF | child name, photos,\n"
            "medical needs | trial |\n",
            "child name, photos, medical needs",
        ),
        # Counted from the left: the line starts at the table's edge.
        (
            "| Service | Provider | Data shared |\n"
            "| Tapestry | FSF | child name, photos, |\n"
            "| | | medical needs |\n",
            "child name, photos, medical needs",
        ),
    ],
)
def test_each_way_a_wrapped_line_is_written_joins_the_data_cell(text, expected):
    entries = _entries(text)
    assert set(entries) == {"Tapestry"} | ({"Seesaw"} if "Seesaw" in text else set())
    assert entries["Tapestry"]["data_shared"] == expected
    assert entries["Tapestry"]["service_provider"] == "FSF"


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # Two categories, each whole on its own line: two items of the list, so the medical flag is set.
        ("full name", "medical", "full name, medical"),
        ("first name", "surname initial", "first name, surname initial"),
        # A phrase that wrapped: one category across the break, joined with a space.
        ("date of", "birth", "date of birth"),
        ("full name, assessment", "data", "full name, assessment data"),
        # Neither side alone a category: joined as written, and listed by the import as unrecognised.
        ("reading", "ages", "reading ages"),
    ],
)
def test_a_wrapped_data_shared_cell_is_read_as_a_list_where_the_vocabulary_says_so(first, second, expected):
    text = (
        "| Service  | Provider | Data shared |\n"
        f"| Tapestry | FSF      | {first} |\n"
        f"|          |          | {second} |\n"
    )
    assert _entries(text)["Tapestry"]["data_shared"] == expected


def test_other_columns_wrapped_keep_joining_with_a_space():
    text = (
        "| Service  | Provider | Data shared | Purpose |\n"
        "| Tapestry | FSF      | full name   | full name |\n"
        "|          |          | medical     | medical |\n"
    )
    assert _entries(text)["Tapestry"]["purpose"] == "full name medical"


def test_a_row_written_without_the_left_edge_after_a_complete_row_is_a_row_of_its_own():
    text = (
        "| Service | Provider | Data shared |\n"
        "| Tapestry | FSF | child name |\n"
        "Seesaw | Seesaw Inc | photos |\n"  # no "|" before the name, as some hand-typed tables have it
    )
    assert _entries(text) == {
        "Tapestry": {"service_provider": "FSF", "data_shared": "child name"},
        "Seesaw": {"service_provider": "Seesaw Inc", "data_shared": "photos"},
    }


def test_a_wrapped_line_in_the_wrong_place_for_its_separators_is_refused(cli, tmp_path):
    # "Forum" stands under Provider, but the line's "|" says it is the last column's: which is it?
    text = (
        "| Service  | Provider   | Data shared |\n"
        "| Tapestry | Foundation | child name  |\n"
        "             Forum     |\n"
    )
    cli.ok("init", "--school", "Ashby Road Primary")
    path = tmp_path / "register.txt"
    path.write_text(text, encoding="utf-8")
    result = cli.fails("register", "import", str(path), "--category", "pupil")
    assert "line 3:" in result.stderr
    assert 'which column "Forum" belongs to' in result.stderr
    assert 'under "Data shared"' in result.stderr and 'under "Provider"' in result.stderr
    assert '"|" between every one of the table\'s 3 columns' in result.stderr
    assert cli.json("service", "list", "--all") == []


@pytest.mark.parametrize(
    "text",
    [
        # Indented, with no separator, in a table not laid out in columns: nothing says which column.
        "Service | Provider | Data shared\nTapestry | FSF | child name, photos,\n    medical needs\n",
        # After a row that ended at an empty cell: not a cell broken in the middle.
        "Service | Provider | Data shared\nTapestry | child name | \nmedical needs\n",
        # A tab table whose wrapped line is indented with spaces: its first cell could be any column.
        "Service\tProvider\tData shared\nTapestry\tFSF\tchild name\n      medical needs\tx\n",
        # A row typed without its leading "|", one cell short, after a complete row: a row of its own
        # (counted from the left) or the rest of the row above (counted from the right)? Never merged.
        "| Service | Provider | Purpose | Data Shared |\n| Alpha | P | Reading | full name |\n"
        "Zeta | U | medical |\n| Gamma | R | Maths | full name |\n",
        # An indented line with a cell for every column after a complete row: it may be a row of its own.
        "| Service | Provider | Purpose | Data Shared |\n| Alpha | P | Reading | full name |\n"
        "   Zeta | U | Maths | medical |\n| Gamma | R | Maths | full name |\n",
    ],
)
def test_a_wrapped_line_that_cannot_be_placed_is_refused_with_its_line(text):
    separator = "\t" if "\t" in text else "|"
    with pytest.raises(ImportRejected) as refused:
        read_register_table(text, separator, default_category="pupil")
    (problem,) = refused.value.problems
    assert problem.line == 3
    assert "cannot tell which column" in problem.message


# --- the property: wrapped anywhere, read the same ----------------------------------------------------------

HEADINGS = ["Service", "Provider", "Purpose", "Data shared"]
WORD = st.text("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789,.'()&/", min_size=1, max_size=9).filter(
    lambda word: word[0].isalnum()
)
CELL = st.lists(WORD, min_size=0, max_size=5)
STYLES = ("word processor", "markdown", "laid out", "laid out, no edges", "tabs", "broken lines")


@st.composite
def tables(draw):
    """A table of services (names unique), the style it is written in, and where each cell wraps."""
    count = draw(st.integers(1, 4))
    names = draw(
        st.lists(st.lists(WORD, min_size=1, max_size=4), min_size=count, max_size=count, unique_by=" ".join)
    )
    rows = [[name, *(draw(CELL) for _ in HEADINGS[1:])] for name in names]
    style = draw(st.sampled_from(STYLES))
    # Each cell as lines: a break before a word, and (but for the name) blank lines before its first.
    wrapped = []
    for row in rows:
        cells = []
        for column, words in enumerate(row):
            lines: list[list[str]] = [[] for _ in range(draw(st.integers(0, 2)) if column else 0)]
            lines.append([])
            for index, word in enumerate(words):
                if index and draw(st.booleans()):
                    lines.append([])
                lines[-1].append(word)
            cells.append([" ".join(line) for line in lines])
        wrapped.append(cells)
    return rows, style, wrapped, draw(st.randoms(use_true_random=False))


def _physical(cells: list[list[str]]) -> list[list[str]]:
    height = max(len(cell) for cell in cells)
    return [[cell[index] if index < len(cell) else "" for cell in cells] for index in range(height)]


def _render(style: str, wrapped: list[list[list[str]]], chance) -> tuple[str, str]:
    if style == "tabs":
        lines = ["\t".join(HEADINGS)]
        for cells in wrapped:
            for index, line in enumerate(_physical(cells)):
                lines.append(("  " if index and line[0] else "") + "\t".join(line))
        return "\n".join(lines) + "\n", "\t"
    if style == "word processor":
        lines = [" | ".join(HEADINGS)]
        for cells in wrapped:
            for index, line in enumerate(_physical(cells)):
                lines.append(("  " if index else "") + " | ".join(line))
        return "\n".join(lines) + "\n", "|"
    if style == "markdown":  # a name never wraps here: "| more | | |" would be a row of its own
        lines = ["| " + " | ".join(HEADINGS) + " |", "|---" * len(HEADINGS) + "|"]
        for cells in wrapped:
            cells = [[" ".join(cells[0])], *cells[1:]]
            for line in _physical(cells):
                lines.append("| " + " | ".join(line) + " |")
        return "\n".join(lines) + "\n", "|"
    if style == "broken lines":  # one line a row, broken inside cells as a mail program wraps it
        lines = ["| " + " | ".join(HEADINGS) + " |"]
        for cells in wrapped:
            line = "| " + " | ".join(" ".join(part for part in cell if part) for cell in cells) + " |"
            while True:
                spaces = [
                    index
                    for index in range(1, len(line) - 1)
                    if line[index] == " " and line[index - 1] not in " |" and line[index + 1] not in " |"
                ]
                if not spaces or chance.random() < 0.5:
                    break
                cut = chance.choice(spaces)
                lines.append(line[:cut])
                line = line[cut + 1 :]
            lines.append(line)
        return "\n".join(lines) + "\n", "|"
    edges = style == "laid out"
    physical = [_physical(cells) for cells in wrapped]
    widths = [
        max([len(heading)] + [len(line[column]) for rows in physical for line in rows]) + (column == 0)
        for column, heading in enumerate(HEADINGS)
    ]

    def lay_out(cells: list[str], *, indent: bool = False) -> str:
        # Without edges, a wrapped name is indented by a space: unindented, it would start a row.
        cells = [(" " if indent else "") + cells[0], *cells[1:]]
        inner = " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        return f"| {inner} |" if edges else inner

    lines = [lay_out(HEADINGS), lay_out(["-" * width for width in widths])]
    for rows in physical:
        for index, line in enumerate(rows):
            text = lay_out(line, indent=bool(index) and not edges)
            filled = [column for column, cell in enumerate(line) if cell]
            taken = (
                (filled[0] == 0 and edges) or (filled[0] > 0 and chance.random() < 0.5) if filled else False
            )
            if index and taken:
                # The separators before the first text taken away, as a word processor's indent leaves it.
                start = (2 if edges else -1) + sum(width + 3 for width in widths[: filled[0]])
                text = " " * start + text[start:]
                if len(filled) == 1 and chance.random() < 0.5:
                    text = text.rstrip(" |")
            lines.append(text.rstrip() if edges else text)
    return "\n".join(lines) + "\n", "|"


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(tables())
def test_a_table_wrapped_anywhere_reads_as_the_same_services(table):
    rows, style, wrapped, chance = table
    text, separator = _render(style, wrapped, chance)
    fields = ("service_provider", "purpose", "data_shared")
    expected = {
        " ".join(row[0]): dict(zip(fields, (" ".join(cell) for cell in row[1:]), strict=True)) for row in rows
    }
    assert _entries(text, separator) == expected, text
