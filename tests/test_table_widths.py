"""Tables too wide for the terminal are narrowed without breaking words while the words fit
(`render.fitted_widths`); Rich alone shrinks the widest columns and breaks names mid-word."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cloudctl.cli.render import _KEEP_WHOLE, _LONGEST_WORD_KEPT, fitted_widths

WORDS = st.text(alphabet="abcdefghij-", min_size=1, max_size=16)
CELLS = st.lists(WORDS, min_size=0, max_size=4).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    columns=st.integers(min_value=1, max_value=8),
    width=st.integers(min_value=20, max_value=200),
)
def test_fitted_widths_fit_the_terminal_and_keep_every_word_whole(data, columns, width):
    headings = data.draw(st.lists(CELLS.filter(bool), min_size=columns, max_size=columns))
    rows = data.draw(st.lists(st.lists(CELLS, min_size=columns, max_size=columns), min_size=1, max_size=6))
    widths = fitted_widths(headings, rows, width)
    if widths is None:
        return
    room = width - 3 * columns - 1
    assert sum(widths) <= room
    heading_words = [max(len(word) for word in heading.split()) for heading in headings]
    values_whole = []
    for index, heading in enumerate(headings):
        values = [row[index] for row in rows]
        widest = max(len(value) for value in values)
        words = [len(word) for value in values for word in value.split()]
        whole = widest if widest <= _KEEP_WHOLE else min(max(words), _LONGEST_WORD_KEPT)
        values_whole.append(max(whole, 1))
        assert widths[index] >= values_whole[-1], "every value's words (a short value whole) fit"
        assert widths[index] <= max(widest, len(heading), heading_words[index], 1)
    if sum(max(pair) for pair in zip(values_whole, heading_words, strict=True)) <= room:
        assert all(w >= h for w, h in zip(widths, heading_words, strict=True)), "headings whole when they fit"


def test_a_table_that_fits_is_left_to_rich():
    assert fitted_widths(["Service", "Status"], [["My Maths", "approved"]], 120) is None


def test_words_too_long_for_the_terminal_are_left_for_rich_to_fold():
    assert fitted_widths(["A", "B"], [["x" * 20, "y" * 20]], 30) is None


def test_when_headings_and_values_cannot_both_fit_the_values_stay_whole():
    headings = ["Surname", "UPN", "Due since", "Days waiting"]
    rows = [["Begum", "X801000099001", "2026-12-02", "0"]]
    assert fitted_widths(headings, rows, 3 * 4 + 1 + 5 + 13 + 10 + 4) == [5, 13, 10, 4]


def test_report_providers_at_120_columns_keeps_service_and_provider_names_whole(tmp_path):
    import os
    import subprocess
    import sys

    database = tmp_path / "demo.db"
    environment = {**os.environ, "COLUMNS": "120"}
    environment.pop("CLOUDCTL_DB", None)
    environment.pop("CLOUDCTL_DATABASE_URL", None)
    run = [sys.executable, "-m", "cloudctl", "--db", str(database)]
    subprocess.run(
        [*run[:3], "demo", "--db", str(database)], check=True, capture_output=True, env=environment
    )
    shown = subprocess.run(
        [*run, "report", "providers"], check=True, capture_output=True, text=True, env=environment
    )
    lines = shown.stdout.splitlines()
    assert all(len(line) <= 120 for line in lines)
    assert any("Accelerated" in line for line in lines) and any("Renaissance" in line for line in lines)
    assert any("University" in line for line in lines)
