"""`consent import`: a batch of returned forms, all or nothing, with line-numbered problems."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.helpers.pupils import add_pupils

PUPILS = [
    {"year_group": "3", "class_name": "3B", "forename": "Zoë", "surname": "Ashworth"},
    {"year_group": "3", "class_name": "3B", "forename": "Siân", "surname": "Bolam"},
    {"year_group": "R", "class_name": "RW", "forename": "Chloé", "surname": "Carr"},
]


@pytest.fixture
def school(hunwick_cli):
    hunwick_cli.upns = add_pupils(hunwick_cli.url, PUPILS)
    return hunwick_cli


def write(tmp_path, text: str, encoding: str = "utf-8", name: str = "forms.csv"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return path


def decisions(cli) -> list[tuple]:
    engine = create_engine(cli.url)
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(text("SELECT decision, given_by, method FROM consent_event ORDER BY id"))
            )
    finally:
        engine.dispose()


def test_a_batch_of_forms_is_recorded_in_file_order(school, tmp_path):
    a, b, _ = school.upns
    path = write(
        tmp_path,
        "UPN,Service,Consent,Parent/Carer,Date Signed,How,Relationship\n"
        f"{a},My Maths,Yes,Jane Ashworth,12/09/2026,form,mother\n"
        f"{b},My Maths,yes,Tom Bolam,13/09/2026,email,\n"
        f"{a},ClassDojo,No,Jane Ashworth,12/09/2026,form,mother\n"
        ",,,,,,\n",
        encoding="cp1252",
    )
    result = school.ok("consent", "import", str(path))
    assert "Recorded 3 decision(s) from forms.csv: 3 recorded." in result.stderr
    assert decisions(school) == [
        ("opt-in", "Jane Ashworth", "form"),
        ("opt-in", "Tom Bolam", "email"),
        ("opt-out", "Jane Ashworth", "form"),
    ]


def test_semicolons_and_a_bom(school, tmp_path):
    path = write(
        tmp_path,
        f"\ufeffUPN;Service;Decision;Given by;Date\n{school.upns[0]};My Maths;opt-in;J A;12/09/2026\n",
    )
    school.ok("consent", "import", str(path))
    assert len(decisions(school)) == 1


def test_dry_run_writes_nothing(school, tmp_path):
    path = write(tmp_path, f"UPN,Service,Decision,Given by\n{school.upns[0]},My Maths,yes,J A\n")
    before = school.snapshot()
    result = school.ok("consent", "import", str(path), "--dry-run", "--date", "2026-09-12")
    assert "nothing was written" in result.stderr
    assert school.snapshot() == before


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("{upn},My Maths,maybe,J A,,", "line 3, column 'Decision'"),
        ("{upn},My Maths,yes,J A,31/02/2026,", "line 3, column 'Date'"),
        ("{upn},My Maths,yes,J A,,pigeon", "line 3, column 'Method'"),
        ("{upn},My Maths,yes,,,", "needs the name of the parent"),
        ("A801200005001,My Maths,yes,J A,,", "line 3, column 'UPN'"),
        ("{upn},My Mathz,yes,J A,,", "line 3, column 'Service'"),
        ("{upn},SIMS,no,J A,,", "no opt-out"),
        ("{reception},Accelerated Reader,yes,J A,,", "year R"),
    ],
)
def test_any_bad_row_means_nothing_is_recorded(school, tmp_path, row, expected):
    good = f"{school.upns[1]},My Maths,yes,Tom Bolam,,"
    bad = row.format(upn=school.upns[0], reception=school.upns[2])
    path = write(tmp_path, f"UPN,Service,Decision,Given by,Date,Method\n{good}\n{bad}\n")
    result = school.fails("consent", "import", str(path), "--date", "2026-09-12")
    assert expected in result.stderr
    assert "nothing was imported" in result.stderr


def test_a_missing_column_is_named_with_the_names_accepted(school, tmp_path):
    path = write(tmp_path, f"UPN,Decision\n{school.upns[0]},yes\n")
    result = school.fails("consent", "import", str(path))
    assert "service" in result.stderr and "Service Name" in result.stderr


def test_a_missing_file_is_refused(school, tmp_path):
    result = school.fails("consent", "import", str(tmp_path / "nope.csv"))
    assert "no file" in result.stderr
