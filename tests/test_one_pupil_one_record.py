"""One pupil, one record: a class list never splits a child from their record and consent history.

- a list that still carries a UPN `pupil change-upn` replaced is refused (never a new pupil);
- a new UPN with the name and date of birth (and admission number, where both have one) of a pupil held
  under another UPN is refused with the exact `pupil change-upn` command;
- a full list that would take more than a quarter of the roll off it needs `--allow-leavers N`;
- upn_change is history: the database refuses to change or delete it, on both engines;
- a property test: random sequences of imports, leavers, returners and UPN changes never leave two
  records for one child, nor a consent event away from its pupil, and a refusal changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from tests.helpers.class_lists import AS_OF, pupil_list, upn_for, write_class_list

AS_OF_TEXT = AS_OF.isoformat()


@pytest.fixture
def cli(cli):
    """The shared fixture, with the database created, so a refusal can be compared with it."""
    cli.ok("pupil", "list")
    return cli


def import_list(cli, path, *extra):
    return cli.ok("pupil", "import", str(path), "--as-of", AS_OF_TEXT, *extra)


def refused_import(cli, path, *extra):
    """exit 1, a message, and the database exactly as it was (Cli.fails checks all three)."""
    return cli.fails("pupil", "import", str(path), "--as-of", AS_OF_TEXT, *extra)


def held(cli) -> dict[str, dict]:
    return {pupil["upn"]: pupil for pupil in cli.json("pupil", "list", "--include-left")}


# -- a UPN that change-upn replaced ------------------------------------------------------------------


def test_a_list_still_carrying_a_replaced_upn_never_creates_a_pupil(hunwick_cli, tmp_path):
    """The issue's case: change-upn OLD NEW, then a list that still carries OLD. The record, with its
    opt-out, stays on roll and opted out; nothing is written."""
    cli = hunwick_cli
    pupils = pupil_list(8)
    child = pupils[3]  # in Year 3, old enough for My Maths
    stale = write_class_list(tmp_path / "autumn.csv", pupils)
    import_list(cli, stale)
    cli.ok("consent", "optout", child.upn, "My Maths", "--by", "Mr O'Brien")
    new = upn_for(900)
    cli.ok("pupil", "change-upn", child.upn, new)

    result = refused_import(cli, stale)
    assert "line 5, column 'UPN'" in result.stderr  # the heading is line 1: pupils[3] is on line 5
    assert f"replaced by {new}" in result.stderr
    assert "MIS" in result.stderr and "change-upn" in result.stderr
    assert "nothing was imported" in result.stderr

    record = held(cli)
    assert child.upn not in record
    assert record[new]["on_roll"] is True
    status = {row["service"]: row["status"] for row in cli.json("consent", "status", new)}
    assert status["My Maths"] == "opted-out"
    # The dry run says the same, and a list with the new UPN imports as it should.
    refused_import(cli, stale, "--dry-run")
    mended = write_class_list(
        tmp_path / "spring.csv", [replace(child, upn=new) if p is child else p for p in pupils]
    )
    result = import_list(cli, mended)
    assert "0 added" in result.stderr and "0 left the roll" in result.stderr


def test_every_replaced_upn_is_listed_even_beside_the_new_one(cli, tmp_path):
    pupils = pupil_list(6)
    import_list(cli, write_class_list(tmp_path / "first.csv", pupils))
    cli.ok("pupil", "change-upn", pupils[1].upn, upn_for(901))
    cli.ok("pupil", "change-upn", pupils[4].upn, upn_for(904))
    # A list with both pupils twice: once under the old UPN, once under the new.
    both = [*pupils, replace(pupils[1], upn=upn_for(901)), replace(pupils[4], upn=upn_for(904))]
    result = refused_import(cli, write_class_list(tmp_path / "both.csv", both))
    assert "2 problem(s) found" in result.stderr
    assert f"line 3, column 'UPN': this UPN was replaced by {upn_for(901)}" in result.stderr
    assert f"line 6, column 'UPN': this UPN was replaced by {upn_for(904)}" in result.stderr


def test_a_replaced_upn_is_found_after_a_bad_row(cli, tmp_path):
    """Every problem is listed: a replaced UPN below an invalid row is named too."""
    pupils = pupil_list(4)
    import_list(cli, write_class_list(tmp_path / "first.csv", pupils))
    cli.ok("pupil", "change-upn", pupils[3].upn, upn_for(903))
    rows = [replace(pupils[0], dob=AS_OF.replace(year=AS_OF.year + 1)), *pupils[1:]]
    result = refused_import(cli, write_class_list(tmp_path / "bad.csv", rows))
    assert "line 2, column 'DOB'" in result.stderr and "line 5, column 'UPN'" in result.stderr


def test_a_upn_changed_back_is_the_pupils_own_again(cli, tmp_path):
    pupils = pupil_list(4)
    path = write_class_list(tmp_path / "list.csv", pupils)
    import_list(cli, path)
    cli.ok("pupil", "change-upn", pupils[0].upn, upn_for(910))
    cli.ok("pupil", "change-upn", upn_for(910), pupils[0].upn)  # the change was a mistake: undone
    assert "4 unchanged" in import_list(cli, path).stderr
    assert cli.json("pupil", "show", pupils[0].upn)["previous_upns"] == [pupils[0].upn, upn_for(910)]


def test_change_upn_refuses_another_pupils_replaced_upn(cli, tmp_path):
    pupils = pupil_list(4)
    import_list(cli, write_class_list(tmp_path / "list.csv", pupils))
    cli.ok("pupil", "change-upn", pupils[0].upn, upn_for(920))
    result = cli.fails("pupil", "change-upn", pupils[1].upn, pupils[0].upn)
    assert "was another pupil's" in result.stderr and f"replaced by {upn_for(920)}" in result.stderr


# -- the same child under a new UPN ------------------------------------------------------------------


def test_a_corrected_permanent_upn_is_refused_with_the_change_upn_command(cli, tmp_path):
    pupils = pupil_list(8)
    import_list(cli, write_class_list(tmp_path / "autumn.csv", pupils))
    corrected = upn_for(930)
    spring = [*pupils[:2], replace(pupils[2], upn=corrected), *pupils[3:]]
    path = write_class_list(tmp_path / "spring.csv", spring)
    result = refused_import(cli, path)
    assert "line 4, column 'UPN'" in result.stderr
    assert f"cloudctl pupil change-upn {pupils[2].upn} {corrected}" in result.stderr
    assert "same name and date of birth" in result.stderr
    # As the message says: move the record, then import.
    cli.ok("pupil", "change-upn", pupils[2].upn, corrected)
    result = import_list(cli, path)
    assert "0 added" in result.stderr and "0 left the roll" in result.stderr
    assert len(held(cli)) == 8


def test_a_different_admission_number_is_a_different_child(cli, tmp_path):
    pupils = pupil_list(8)
    import_list(cli, write_class_list(tmp_path / "autumn.csv", pupils))
    twin = replace(pupils[2], upn=upn_for(931), admission_number="009999")
    result = import_list(cli, write_class_list(tmp_path / "spring.csv", [*pupils[:2], twin, *pupils[3:]]))
    assert "1 added" in result.stderr and "1 left the roll" in result.stderr


@pytest.mark.parametrize(
    "how",
    ["no admission number column", "names in other capitals", "admission number without its zeros"],
)
def test_the_same_child_is_recognised(cli, tmp_path, how):
    pupils = pupil_list(8)
    import_list(cli, write_class_list(tmp_path / "autumn.csv", pupils))
    child = replace(pupils[5], upn=upn_for(932))
    style = "sims"
    if how == "no admission number column":
        style = "single-name"  # UPN, "Surname Forename", DOB, Year, Form
    elif how == "names in other capitals":
        child = replace(child, forename=child.forename.upper(), surname=child.surname.lower())
    else:
        child = replace(child, admission_number=child.admission_number.lstrip("0"))
    spring = [*pupils[:5], child, *pupils[6:]]
    result = refused_import(cli, write_class_list(tmp_path / "spring.csv", spring, style))
    assert f"cloudctl pupil change-upn {pupils[5].upn} {upn_for(932)}" in result.stderr


def test_a_partial_list_with_a_corrected_upn_is_refused_too(cli, tmp_path):
    """--partial takes nobody off the roll, so the old record would stay on roll beside the new one."""
    pupils = pupil_list(8)
    import_list(cli, write_class_list(tmp_path / "all.csv", pupils))
    one = write_class_list(tmp_path / "one.csv", [replace(pupils[2], upn=upn_for(933))])
    result = refused_import(cli, one, "--partial")
    assert f"cloudctl pupil change-upn {pupils[2].upn} {upn_for(933)}" in result.stderr


def test_a_leaver_coming_back_under_a_new_upn_is_refused(cli, tmp_path):
    pupils = pupil_list(8)
    import_list(cli, write_class_list(tmp_path / "all.csv", pupils))
    import_list(cli, write_class_list(tmp_path / "without.csv", [*pupils[:2], *pupils[3:]]))
    assert held(cli)[pupils[2].upn]["on_roll"] is False
    back = write_class_list(
        tmp_path / "back.csv", [*pupils[:2], replace(pupils[2], upn=upn_for(934)), *pupils[3:]]
    )
    result = refused_import(cli, back)
    assert f"cloudctl pupil change-upn {pupils[2].upn} {upn_for(934)}" in result.stderr


def test_one_child_twice_in_a_list_under_two_upns_is_refused(cli, tmp_path):
    pupils = pupil_list(6)
    import_list(cli, write_class_list(tmp_path / "all.csv", pupils))
    doubled = write_class_list(tmp_path / "doubled.csv", [*pupils, replace(pupils[1], upn=upn_for(935))])
    result = refused_import(cli, doubled)
    assert "line 8, column 'UPN'" in result.stderr
    assert f"held with UPN {pupils[1].upn} (also in this file)" in result.stderr


# -- the leavers guard --------------------------------------------------------------------------------


def test_a_full_list_taking_more_than_a_quarter_off_the_roll_needs_allow_leavers(cli, tmp_path):
    pupils = pupil_list(20)
    import_list(cli, write_class_list(tmp_path / "all.csv", pupils))
    one_class = write_class_list(tmp_path / "class.csv", pupils[:14])  # 6 of 20 would leave
    result = refused_import(cli, one_class)
    assert "would take 6 of the 20 pupils on roll off the roll, more than a quarter" in result.stderr
    assert "--partial" in result.stderr and "--allow-leavers 6" in result.stderr
    for wrong in ("5", "7", "0"):
        result = refused_import(cli, one_class, "--allow-leavers", wrong)
        assert f"would take 6 pupil(s) off the roll, not {wrong}" in result.stderr
        assert "--allow-leavers 6" in result.stderr
    result = import_list(cli, one_class, "--allow-leavers", "6")
    assert "6 left the roll" in result.stderr
    assert sum(pupil["on_roll"] for pupil in held(cli).values()) == 14


def test_the_dry_run_always_shows_the_count_and_what_a_real_import_needs(cli, tmp_path):
    pupils = pupil_list(20)
    import_list(cli, write_class_list(tmp_path / "all.csv", pupils))
    path = write_class_list(tmp_path / "class.csv", pupils[:10])
    before = cli.snapshot()
    result = import_list(cli, path, "--dry-run", "--format", "json")
    assert cli.snapshot() == before
    assert "10 leaving the roll" in result.stderr
    assert "A real import would be refused" in result.stderr and "--allow-leavers 10" in result.stderr
    assert sum(row["action"] == "leaving" for row in json.loads(result.stdout)) == 10
    confirmed = import_list(cli, path, "--dry-run", "--allow-leavers", "10")
    assert "10 leaving the roll" in confirmed.stderr and "would be refused" not in confirmed.stderr
    assert "not 9" in refused_import(cli, path, "--dry-run", "--allow-leavers", "9").stderr
    # Below the quarter, the count is shown all the same, without a warning.
    small = import_list(cli, write_class_list(tmp_path / "most.csv", pupils[:17]), "--dry-run")
    assert "3 leaving the roll" in small.stderr and "would be refused" not in small.stderr


@pytest.mark.parametrize(
    ("on_roll", "kept", "refused"),
    [
        (6, 3, False),  # 3 leave: half the roll, but fewer than 4 (a very small school's churn)
        (16, 12, False),  # 4 of 16: exactly a quarter
        (16, 11, True),  # 5 of 16
        (15, 11, True),  # 4 of 15: more than a quarter, and at least 4
        (40, 30, False),  # 10 of 40
        (40, 29, True),  # 11 of 40
    ],
)
def test_the_quarter_rule_and_its_threshold(cli, tmp_path, on_roll, kept, refused):
    pupils = pupil_list(on_roll)
    import_list(cli, write_class_list(tmp_path / "all.csv", pupils))
    path = write_class_list(tmp_path / "fewer.csv", pupils[:kept])
    if refused:
        assert f"--allow-leavers {on_roll - kept}" in refused_import(cli, path).stderr
    else:
        assert f"{on_roll - kept} left the roll" in import_list(cli, path).stderr


def test_allow_leavers_with_partial_is_refused_and_a_partial_list_is_never_counted(cli, tmp_path):
    pupils = pupil_list(20)
    import_list(cli, write_class_list(tmp_path / "all.csv", pupils))
    one = write_class_list(tmp_path / "one.csv", pupils[:2])
    assert "leave out one of the two" in refused_import(cli, one, "--partial", "--allow-leavers", "18").stderr
    assert "0 left the roll" in import_list(cli, one, "--partial").stderr


def test_the_guard_counts_only_pupils_on_roll(cli, tmp_path):
    """Pupils who left earlier neither count towards the roll nor leave again."""
    pupils = pupil_list(40)
    import_list(cli, write_class_list(tmp_path / "all.csv", pupils))
    assert "10 left the roll" in import_list(cli, write_class_list(tmp_path / "a.csv", pupils[:30])).stderr
    # 30 on roll now: 8 more leaving is more than a quarter of them (though not of all 40 records).
    result = refused_import(cli, write_class_list(tmp_path / "b.csv", pupils[:22]))
    assert "would take 8 of the 30 pupils on roll" in result.stderr


def test_allow_leavers_zero_confirms_that_nobody_leaves(cli, tmp_path):
    path = write_class_list(tmp_path / "all.csv", pupil_list(10))
    import_list(cli, path)
    assert "10 unchanged" in import_list(cli, path, "--allow-leavers", "0").stderr
    assert "not 1" in refused_import(cli, path, "--allow-leavers", "1").stderr


# -- upn_change is history ----------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["update", "delete", "replace"])
def test_upn_change_cannot_be_changed_or_deleted(cli, tmp_path, action):
    """The database itself refuses, whatever program touches it (another engineer's migration 0005 adds
    the guard triggers), on SQLite and PostgreSQL alike."""
    from sqlalchemy import create_engine, inspect, text

    pupils = pupil_list(3)
    import_list(cli, write_class_list(tmp_path / "list.csv", pupils))
    cli.ok("pupil", "change-upn", pupils[0].upn, upn_for(940))
    url = cli.url
    sqlite = url.startswith("sqlite")
    if action == "update":
        statements = [f"UPDATE upn_change SET old_upn = '{pupils[1].upn}'"]
    elif action == "delete":
        statements = ["DELETE FROM upn_change"] + ([] if sqlite else ["TRUNCATE upn_change CASCADE"])
    else:
        engine = create_engine(url)
        with engine.connect() as connection:
            listed = ", ".join(column["name"] for column in inspect(connection).get_columns("upn_change"))
        engine.dispose()
        statements = [
            f"INSERT OR REPLACE INTO upn_change ({listed}) SELECT {listed} FROM upn_change"
            if sqlite
            else f"INSERT INTO upn_change ({listed}) SELECT {listed} FROM upn_change "
            "ON CONFLICT (id) DO UPDATE SET old_upn = EXCLUDED.new_upn"
        ]
    before = cli.snapshot()
    engine = create_engine(url)
    try:
        for statement in statements:
            with pytest.raises(Exception, match="history"), engine.begin() as connection:
                connection.execute(text(statement))
    finally:
        engine.dispose()
    assert cli.snapshot() == before
    assert cli.json("pupil", "show", upn_for(940))["previous_upns"] == [pupils[0].upn]
