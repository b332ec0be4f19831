"""The CSV formula guard: no cell cloudctl writes starts with a formula character, and the guard can be
undone exactly, so a register published as CSV imports back with every value as it was."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudctl.exporters.csv_safe import DANGEROUS_FIRST_CHARACTERS, guard_cell, unguard_cell, write_csv

# Text that starts with quotes and formula characters often, where the guard's edge cases are.
TEXT = st.one_of(
    st.text(),
    st.lists(st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "\n", "a", " ", "1"]), max_size=6).map(
        "".join
    ),
)


@settings(max_examples=500, deadline=None, database=None, derandomize=True)
@given(TEXT)
def test_unguarding_a_guarded_cell_gives_back_the_text_and_no_cell_starts_a_formula(text):
    guarded = guard_cell(text)
    assert unguard_cell(guarded) == text
    assert not guarded.startswith(DANGEROUS_FIRST_CHARACTERS)


@settings(max_examples=200, deadline=None, database=None, derandomize=True)
@given(st.lists(TEXT, min_size=1, max_size=5))
def test_a_row_written_as_csv_reads_back_through_the_guard(values):
    stream = io.StringIO()
    columns = [f"c{index}" for index in range(len(values))]
    write_csv(stream, columns, [dict(zip(columns, values, strict=True))])
    _, row = list(csv.reader(io.StringIO(stream.getvalue(), newline="")))
    assert [unguard_cell(cell) for cell in row] == values


@pytest.mark.parametrize(
    ("text", "guarded"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("'=SUM(A1)", "''=SUM(A1)"),  # a quote of the text's own is kept: one more is the guard's
        ("''+1", "'''+1"),
        ("'quoted'", "'quoted'"),  # a quote before ordinary text needs no guard
        ("-", "'-"),
        ("plain", "plain"),
    ],
)
def test_the_guard_quotes_a_formula_character_after_any_quotes(text, guarded):
    assert guard_cell(text) == guarded
    assert unguard_cell(guarded) == text


def test_a_value_starting_with_a_quoted_formula_reads_back_from_a_published_csv(cli, tmp_path):
    cli.ok("init", "--school", "Ashby Road Primary")
    cli.ok(
        "service", "add", "Padlet", "--category", "pupil", "--provider", "Wallwisher", "--create-provider",
        "--purpose", "'=1+1 is how a spreadsheet shows a sum as text", "--data", "full name",
    )  # fmt: skip
    path = tmp_path / "register.csv"
    cli.ok("register", "publish", "--format", "csv", "--out", str(path))
    assert "''=1+1" in path.read_text(encoding="utf-8-sig")
    from tests.helpers.cli import Cli

    fresh = tmp_path / "fresh.db"
    into = Cli(f"sqlite:///{fresh}")
    into.ok("--db", str(fresh), "register", "import", str(path))
    shown = into.json("--db", str(fresh), "service", "show", "Padlet")
    assert shown["purpose"] == "'=1+1 is how a spreadsheet shows a sum as text"


@pytest.mark.parametrize(("value", "written"), [(-29, "-29"), (-0.5, "-0.5"), (14, "14"), (True, "yes")])
def test_a_number_is_written_as_a_number_and_only_text_is_guarded(value, written):
    assert guard_cell(value) == written
    assert guard_cell(str(value)) == ("'" + str(value) if str(value).startswith("-") else str(value))


def test_days_overdue_in_a_csv_report_are_negative_numbers_not_text(cli):
    cli.ok("init", "--school", "Ashby Road Primary")
    cli.ok(
        "service", "add", "Padlet", "--category", "pupil", "--provider", "Wallwisher", "--create-provider",
        "--data", "full name",
    )  # fmt: skip
    from datetime import date, timedelta

    recent = (date.today() - timedelta(days=350)).isoformat()  # its review is due in about two weeks
    cli.ok("assess", "record", "Padlet", "--date", recent, "--by", "J Bloggs", "--outcome", "approved")
    import csv
    import io

    rows = list(
        csv.DictReader(io.StringIO(cli.ok("report", "overdue-assessments", "--format", "csv").stdout))
    )
    (row,) = rows
    assert row["days_overdue"].startswith("-") and row["days_overdue"][1:].isdigit(), row
