"""`cloudctl pupil list | show | search | change-upn`, the pupil domain API, the demo and progress."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers.class_lists import AS_OF, pupil_list, upn_for, write_class_list

RECORD_KEYS = {
    "upn",
    "upn_temporary",
    "forename",
    "surname",
    "preferred_forename",
    "preferred_surname",
    "dob",
    "gender",
    "year_group",
    "class_name",
    "admission_number",
    "on_roll",
    "left_on",
}


@pytest.fixture
def school(cli, tmp_path):
    """Fourteen pupils, R to Y6 in two classes a year, three of them with names to search for."""
    pupils = pupil_list(14)
    pupils[0] = replace(pupils[0], forename="Zoë", surname="Hughes")
    pupils[1] = replace(pupils[1], forename="Siân", surname="Hughes-Price", preferred_forename="Sia")
    pupils[2] = replace(pupils[2], upn=upn_for(40, temporary=True), forename="Chloé", surname="Ward")
    write_class_list(tmp_path / "school.csv", pupils)
    cli.ok("pupil", "import", str(tmp_path / "school.csv"), "--as-of", AS_OF.isoformat())
    cli.pupils = pupils
    return cli


def upns(rows) -> list[str]:
    return [row["upn"] for row in rows]


def test_list_json_carries_every_field(school):
    rows = school.json("pupil", "list")
    assert len(rows) == 14
    assert all(set(row) == RECORD_KEYS for row in rows)
    zoe = next(row for row in rows if row["forename"] == "Zoë")
    pupil = school.pupils[0]
    assert zoe == {
        "upn": pupil.upn,
        "upn_temporary": False,
        "forename": "Zoë",
        "surname": "Hughes",
        "preferred_forename": pupil.preferred_forename or None,
        "preferred_surname": None,
        "dob": pupil.dob.isoformat(),
        "gender": pupil.gender,
        "year_group": pupil.year,
        "class_name": pupil.class_name,
        "admission_number": pupil.admission_number,
        "on_roll": True,
        "left_on": None,
    }


def test_list_is_in_curriculum_then_class_then_name_order(school):
    rows = school.json("pupil", "list")
    order = ["R", "1", "2", "3", "4", "5", "6"]
    keys = [
        (order.index(row["year_group"]), row["class_name"], row["surname"], row["forename"]) for row in rows
    ]
    assert keys == sorted(keys)


def test_list_by_class_and_year(school):
    in_class = school.json("pupil", "list", "--class", "robins")  # any case
    assert {row["class_name"] for row in in_class} == {"Robins"} and in_class
    for spelling in ("3", "Year 3", "Y3"):
        rows = school.json("pupil", "list", "--year", spelling)
        assert {row["year_group"] for row in rows} == {"3"} and rows
    both = school.json("pupil", "list", "--year", "R", "--class", "Wrens")
    assert {(row["year_group"], row["class_name"]) for row in both} == {("R", "Wrens")}


def test_list_of_an_unknown_class_names_the_classes(school):
    result = school.ok("pupil", "list", "--class", "Owls")
    assert "No pupils on roll in class 'Owls'" in result.stderr and "Robins" in result.stderr


def test_list_of_an_unknown_year_is_refused(school):
    assert "not a school year" in school.fails("pupil", "list", "--year", "Year 20").stderr


def test_list_table_and_csv(school):
    table = school.ok("pupil", "list").stdout
    assert "Zoë" in table and "UPN" in table
    assert school.pupils[0].dob.isoformat() not in table  # the table shows no dates of birth
    rows = list(csv.DictReader(io.StringIO(school.ok("pupil", "list", "--format", "csv").stdout)))
    assert len(rows) == 14 and set(rows[0]) == RECORD_KEYS
    assert {row["admission_number"] for row in rows} >= {"000001"}


def test_list_leaves_out_leavers_unless_asked(school, tmp_path):
    stayers = school.pupils[2:]
    write_class_list(tmp_path / "fewer.csv", stayers)
    school.ok("pupil", "import", str(tmp_path / "fewer.csv"), "--as-of", "2026-12-18")
    assert len(school.json("pupil", "list")) == 12
    everyone = school.json("pupil", "list", "--include-left")
    left = [row for row in everyone if not row["on_roll"]]
    assert sorted(upns(left)) == sorted(pupil.upn for pupil in school.pupils[:2])
    assert {row["left_on"] for row in left} == {"2026-12-18"}


def test_a_name_that_looks_like_a_formula_is_made_safe_in_csv(cli, tmp_path):
    pupil = replace(pupil_list(1)[0], forename="=HYPERLINK(1)")
    write_class_list(tmp_path / "evil.csv", [pupil])
    cli.ok("pupil", "import", str(tmp_path / "evil.csv"), "--as-of", AS_OF.isoformat())
    output = cli.ok("pupil", "list", "--format", "csv").stdout
    assert "'=HYPERLINK(1)" in output


def test_show(school):
    pupil = school.pupils[1]
    record = school.json("pupil", "show", pupil.upn.lower())
    assert record["forename"] == "Siân" and record["preferred_forename"] == "Sia"
    assert record["previous_upns"] == []
    table = school.ok("pupil", "show", pupil.upn).stdout
    assert "Siân" in table and pupil.dob.isoformat() in table


def test_show_explains_a_missing_pupil(school):
    assert "There is no pupil with UPN H801200001001" in school.fails("pupil", "show", "H801200001001").stderr
    result = school.fails("pupil", "show", "Z801200001001")
    assert "wrong check letter" in result.stderr


def test_search_ignores_case_and_accents(school):
    assert [row["forename"] for row in school.json("pupil", "search", "zoe")] == ["Zoë"]
    assert [row["forename"] for row in school.json("pupil", "search", "SIAN")] == ["Siân"]
    assert [row["forename"] for row in school.json("pupil", "search", "sia hughes")] == ["Siân"]
    assert sorted(row["forename"] for row in school.json("pupil", "search", "hughes")) == ["Siân", "Zoë"]


def test_search_by_upn_and_admission_number(school):
    pupil = school.pupils[5]
    assert upns(school.json("pupil", "search", pupil.upn.lower())) == [pupil.upn]
    assert upns(school.json("pupil", "search", pupil.admission_number.lstrip("0"))) == [pupil.upn]


def test_search_finds_leavers_after_those_on_roll(school, tmp_path):
    write_class_list(tmp_path / "fewer.csv", school.pupils[1:])
    school.ok("pupil", "import", str(tmp_path / "fewer.csv"), "--as-of", AS_OF.isoformat())
    rows = school.json("pupil", "search", "hughes")
    assert [(row["forename"], row["on_roll"]) for row in rows] == [("Siân", True), ("Zoë", False)]


def test_search_with_no_match_or_no_text(school):
    assert "No pupil matches 'Nobody'" in school.ok("pupil", "search", "Nobody").stderr
    assert "Give part of a pupil's name" in school.fails("pupil", "search", "  ").stderr


def test_change_upn_keeps_the_pupil_and_records_the_change(school):
    temporary = upn_for(40, temporary=True)
    permanent = upn_for(4000)
    before = {row["upn"]: row for row in school.json("pupil", "list")}
    result = school.ok("pupil", "change-upn", temporary.lower(), permanent)
    assert f"The pupil with UPN {temporary} now has UPN {permanent}" in result.stderr
    record = school.json("pupil", "show", permanent)
    assert record["upn_temporary"] is False and record["previous_upns"] == [temporary]
    expected = dict(before[temporary], upn=permanent, upn_temporary=False)
    assert {key: record[key] for key in RECORD_KEYS} == expected
    changes = school.snapshot()["upn_change"]
    assert len(changes) == 1 and repr(temporary) in changes[0] and repr(permanent) in changes[0]
    # The old UPN names the same child (a subject-access request may quote it): it shows the pupil under
    # the UPN now and says so, and search still finds them.
    shown = school.ok("pupil", "show", temporary, "--format", "json")
    assert f"UPN {temporary} was changed to {permanent}" in shown.stderr
    assert json.loads(shown.stdout)["upn"] == permanent
    assert upns(school.json("pupil", "search", temporary)) == [permanent]


def test_change_upn_keeps_the_same_record_for_consent_history(school):
    from sqlmodel import Session, create_engine, select

    from cloudctl.db.models import Pupil

    temporary, permanent = upn_for(40, temporary=True), upn_for(4000)
    engine = create_engine(school.url)
    with Session(engine) as session:
        pupil_id = session.exec(select(Pupil.id).where(Pupil.upn == temporary)).one()
    school.ok("pupil", "change-upn", temporary, permanent)
    with Session(engine) as session:
        assert session.exec(select(Pupil.id).where(Pupil.upn == permanent)).one() == pupil_id
    engine.dispose()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (None, "H801200001001x", "must be 13 characters"),
        (None, "Z801200001001", "wrong check letter"),
        (None, "same", "nothing to change"),
        (None, "other", "already belongs to another pupil"),
        ("H801200001001", None, "There is no pupil with UPN H801200001001"),
    ],
)
def test_change_upn_refusals(school, old, new, message):
    temporary = upn_for(40, temporary=True)
    new = {"same": temporary, "other": school.pupils[3].upn, None: upn_for(4000)}.get(new, new)
    result = school.fails("pupil", "change-upn", old or temporary, new)
    assert message in result.stderr


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("search", "Zo\x1b[2Jë"), "search text"),
        (("list", "--class", "3A\x00"), "class"),
        (("list", "--year", "3\x1b"), "year group"),
        (("show", "H80120\x1b[31m0001001"), "UPN"),
        (("change-upn", "{temporary}", "H801200001001\x07"), "UPN"),
        (("change-upn", "G8012\u202e0000101A", "{permanent}"), "UPN"),
    ],
)
def test_pupil_commands_refuse_control_characters(school, args, field):
    """The text gate: refused with the field's name, and never echoed raw to the terminal."""
    temporary, permanent = upn_for(40, temporary=True), upn_for(4000)
    args = [arg.format(temporary=temporary, permanent=permanent) for arg in args]
    result = school.fails("pupil", *args)
    assert f"The {field} contains" in result.stderr
    assert not any(character in result.stderr for character in "\x00\x07\x1b\u202e")


def test_pupil_domain_api(school):
    """What the consent and export code builds on: get_pupil, pupils_query, list_pupils, pupil_record."""
    from sqlmodel import Session, create_engine

    from cloudctl.domain.pupils import get_pupil, list_pupils, pupil_record, pupils_query
    from cloudctl.errors import NotFound

    engine = create_engine(school.url)
    with Session(engine) as session:
        pupil = get_pupil(session, f" {school.pupils[0].upn.lower()} ")
        assert pupil_record(pupil)["forename"] == "Zoë"
        with pytest.raises(NotFound, match="There is no pupil with UPN H801200001001"):
            get_pupil(session, "H801200001001")
        robins = list_pupils(session, class_name="ROBINS")
        assert robins and {p.class_name for p in robins} == {"Robins"}
        assert [p.year_group for p in list_pupils(session)][:2] == ["R", "R"]
        from cloudctl.db.models import Pupil

        girls_in_year_6 = session.exec(pupils_query(year="Year 6").where(Pupil.gender == "F")).all()
        assert {(p.year_group, p.gender, p.on_roll) for p in girls_in_year_6} == {("6", "F", True)}
    engine.dispose()


def test_the_demo_imports_a_class_list(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cloudctl.cli.app import app

    monkeypatch.delenv("CLOUDCTL_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLOUDCTL_DB", raising=False)
    database = str(tmp_path / "demo.db")
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "--db", database], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "62 pupils" in result.stderr
    listed = runner.invoke(
        app, ["--db", database, "pupil", "list", "--format", "json"], catch_exceptions=False
    )
    import json

    pupils = json.loads(listed.stdout)
    assert len(pupils) == 62
    assert {pupil["year_group"] for pupil in pupils} == {"R", "1", "2", "3", "4", "5", "6"}
    assert sum(pupil["upn_temporary"] for pupil in pupils) == 1


def test_the_bundled_class_list_is_valid_and_fictional():
    from importlib import resources

    from cloudctl.domain.pupils import DEMO_AS_OF, DEMO_CLASS_LIST
    from cloudctl.importers.class_list import read_class_list

    source = resources.files("cloudctl").joinpath("data", DEMO_CLASS_LIST)
    with resources.as_file(source) as path:
        rows = read_class_list(path, as_of=DEMO_AS_OF)
    assert len(rows) == 62
    assert path.read_text(encoding="utf-8").startswith("Adno,UPN,Legal Surname,Legal Forename")


def test_no_progress_bar_when_stderr_is_not_a_terminal(cli, tmp_path):
    from cloudctl.cli import pupil as pupil_cli

    path = write_class_list(tmp_path / "big.csv", pupil_list(200))
    assert path.stat().st_size < pupil_cli.PROGRESS_MIN_BYTES
    big = write_class_list(tmp_path / "bigger.csv", pupil_list(12_000))
    assert big.stat().st_size >= pupil_cli.PROGRESS_MIN_BYTES
    result = cli.ok("pupil", "import", str(big), "--as-of", AS_OF.isoformat())
    assert result.stderr.startswith("Imported bigger.csv: 12000 added")
    assert "Reading" not in result.stderr and "\r" not in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_progress_bar_on_a_terminal(tmp_path):
    big = write_class_list(tmp_path / "bigger.csv", pupil_list(12_000))
    primary, secondary = pty.openpty()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDCTL_")}
    env.update(TERM="xterm", COLUMNS="100")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cloudctl",
            "--db",
            str(tmp_path / "p.db"),
            "pupil",
            "import",
            str(big),
            "--as-of",
            AS_OF.isoformat(),
        ],
        stdout=subprocess.DEVNULL,
        stderr=secondary,
        env=env,
    )
    os.close(secondary)
    output = b""
    while True:
        ready, _, _ = select.select([primary], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    assert process.wait(timeout=60) == 0
    os.close(primary)
    text = output.decode("utf-8", "replace")
    assert "Reading bigger.csv" in text and "%" in text
    assert "Imported bigger.csv: 12000 added" in text


def test_help_for_every_pupil_command(cli):
    for command in ("import", "list", "show", "search", "change-upn"):
        assert "Usage" in cli.ok("pupil", command, "--help").stdout


def test_docs_describe_importing_pupils():
    docs = Path(__file__).parent.parent / "docs" / "pupils.md"
    text = docs.read_text(encoding="utf-8")
    for phrase in ("SIMS", "Arbor", "Bromcom", "--partial", "change-upn", "wrong check letter", "benchmark"):
        assert phrase in text
