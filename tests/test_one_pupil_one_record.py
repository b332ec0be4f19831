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
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from tests.conftest import HUNWICK
from tests.helpers.class_lists import AS_OF, FakePupil, pupil_list, upn_for, write_class_list
from tests.helpers.cli import snapshot

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


@pytest.mark.parametrize(
    ("forename", "surname"),
    [
        ("Zoe\u0308", "Ashworth"),  # the held "Zoë" typed with a combining diaeresis
        ("zoË", "ASHWORTH"),
        ("Zoë", "  Ashworth "),
    ],
    ids=["decomposed accent", "case", "spacing"],
)
def test_the_same_child_is_recognised_in_another_spelling_of_the_same_name(cli, tmp_path, forename, surname):
    """Two spellings of one name that look alike are one child: the exact change-upn command is given."""
    pupils = pupil_list(8)
    pupils[5] = replace(pupils[5], forename="Zoë", surname="Ashworth")
    import_list(cli, write_class_list(tmp_path / "autumn.csv", pupils))
    child = replace(pupils[5], upn=upn_for(935), forename=forename, surname=surname)
    spring = [*pupils[:5], child, *pupils[6:]]
    result = refused_import(cli, write_class_list(tmp_path / "spring.csv", spring))
    assert f"cloudctl pupil change-upn {pupils[5].upn} {upn_for(935)}" in result.stderr


def test_names_held_from_before_the_gate_are_compared_as_people_mean_them():
    """A name stored decomposed, or with a joiner, before text was stored in one spelling is the same name."""
    from cloudctl.domain.upn_identity import _same_names

    dob = date(2018, 3, 4)
    held = _same_names("Zoe\u0308  Anne", "O\u2019BRIEN", dob)
    assert _same_names("zoë anne", "O\u2019Brien", dob) == held
    assert _same_names("Zoë Anne", "O\u2019Brien", dob.isoformat()) == held
    assert _same_names("Zoe Anne", "O\u2019Brien", dob) != held


@pytest.mark.parametrize(
    "invisible",
    ["\u200b", "\u00ad", "\ufeff", "\u180e", "\U000e0041", "\ue000", "\ufffe"],
    ids=[
        "zero-width space",
        "soft hyphen",
        "BOM inside",
        "Mongolian vowel separator",
        "tag",
        "private use",
        "non-character",
    ],
)
def test_an_invisible_character_in_a_name_is_refused_not_a_new_child(hunwick_cli, tmp_path, invisible):
    """The hostile tester's case: the child's forename carries an invisible character under a new UPN. It
    would have imported as "1 added, 1 left the roll", leaving the opt-out behind; it is refused with its
    line and column, and nothing changes."""
    cli = hunwick_cli
    pupils = pupil_list(8)
    child = pupils[3]
    import_list(cli, write_class_list(tmp_path / "autumn.csv", pupils))
    cli.ok("consent", "optout", child.upn, "My Maths", "--by", "Mr O'Brien")
    hidden = replace(child, upn=upn_for(936), forename=child.forename[:2] + invisible + child.forename[2:])
    spring = [*pupils[:3], hidden, *pupils[4:]]
    for encoding in ("utf-8", "utf-16"):
        path = write_class_list(tmp_path / f"spring-{encoding}.csv", spring, encoding=encoding)
        result = refused_import(cli, path)
        assert "line 5, column 'Legal Forename'" in result.stderr
        assert invisible not in result.stderr


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


def test_new_upns_are_kept_compactly_and_given_back_exactly():
    """An import's new UPNs are kept as integers (a trust adds a million): each comes back as it was."""
    from cloudctl.domain.upn_identity import upn_from_key
    from cloudctl.importers.class_list import upn_key

    upns = [upn_for(index) for index in (0, 7, 999_999, 9_999_999)]
    upns += [upn_for(index, temporary=True) for index in (0, 9, 10, 35, 2299)]
    assert [upn_from_key(upn_key(upn)) for upn in upns] == upns


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


# -- the property: one child, one record, whatever the sequence of lists ------------------------------

PROPERTY_EXAMPLES = 25
AS_OF_DAY = AS_OF
CHANGE_UPN_COMMAND = re.compile(r"cloudctl pupil change-upn (\w{13}) (\w{13})")
ALLOW_LEAVERS = re.compile(r"--allow-leavers (\d+)")


@dataclass
class Child:
    """A child in the school's MIS: who they are, and the UPN and roll status the MIS has now."""

    number: int
    upn: str
    on_roll: bool = True

    @property
    def forename(self) -> str:
        return ("Amelia", "Ben", "Cara", "Dev", "Eve", "Finn", "Gwen", "Hari")[self.number % 8]

    @property
    def surname(self) -> str:
        return f"Pupil{self.number}"  # one child each: two records with it would be one child split

    @property
    def dob(self) -> date:
        return date(2017, 9, 1) + timedelta(days=11 * self.number)

    @property
    def class_name(self) -> str:
        return ("3A", "3B")[self.number % 2]

    def identity(self) -> tuple[str, str, str]:
        return (self.forename.casefold(), self.surname.casefold(), self.dob.isoformat())

    def as_row(self) -> FakePupil:
        return FakePupil(
            self.upn, self.forename, self.surname, self.dob, "F", "3", self.class_name, f"{self.number:06d}"
        )


class School:
    """One example: the MIS (the truth), the school's database, and the office doing what messages say."""

    def __init__(self, folder: Path, url: str, db) -> None:
        self.folder, self.url, self.db = folder, url, db
        self.children: list[Child] = []
        self.exports: list[list[FakePupil]] = []
        self.serial = 0
        self.files = 0
        self.opted_out: set[int] = set()  # children whose parent opted out of My Maths

    def new_upn(self, temporary: bool) -> str:
        self.serial += 1
        return upn_for(self.serial, temporary=True) if temporary else upn_for(5000 + self.serial)

    def join(self, temporary: bool) -> None:
        self.children.append(Child(len(self.children), self.new_upn(temporary)))

    def child(self, index: int) -> Child | None:
        return self.children[index % len(self.children)] if self.children else None

    def export(self, which: str = "all") -> list[FakePupil]:
        rows = [
            child.as_row()
            for child in self.children
            if child.on_roll and (which == "all" or child.class_name == which)
        ]
        self.exports.append(rows)
        return rows

    def write(self, rows: list[FakePupil], style: str = "sims") -> Path:
        self.files += 1
        return write_class_list(self.folder / f"list-{self.files}.csv", rows, style)

    # -- the database ---------------------------------------------------------------------------------

    def rows(self) -> list[tuple]:
        from sqlalchemy import text

        with self.db.read() as session:
            return list(
                session.connection().execute(
                    text("SELECT id, upn, forename, surname, dob, on_roll FROM pupil ORDER BY id")
                )
            )

    def held_upn(self, child: Child) -> str | None:
        for _, upn, forename, surname, dob, _ in self.rows():
            if (forename.casefold(), surname.casefold(), str(dob)[:10]) == child.identity():
                return upn
        return None

    def import_list(self, path: Path, *, partial: bool, follow_messages: bool) -> str:
        """Import as a careful office does: a refusal changes nothing; then, if `follow_messages`, do what it
        says (the change-upn commands, confirming the count of leavers) and import again."""
        from cloudctl.domain.pupils import change_upn, import_class_list
        from cloudctl.errors import CloudctlError

        allow: int | None = None
        for _ in range(4):
            before = snapshot(self.url)
            try:
                with self.db.write() as session:
                    import_class_list(session, path, as_of=AS_OF_DAY, partial=partial, allow_leavers=allow)
                return "imported"
            except CloudctlError as error:
                assert snapshot(self.url) == before, "a refused import changed the database"
                message = error.message
            commands = CHANGE_UPN_COMMAND.findall(message)
            kind = (
                "replaced UPN" if "was replaced by" in message else "leavers" if "quarter" in message else ""
            )
            event(f"refused: {'change-upn' if commands else kind or 'other'}")
            if not follow_messages:
                return "refused"
            if commands:
                for old, new in commands:
                    with self.db.write() as session:
                        change_upn(session, old, new)
            elif (confirm := ALLOW_LEAVERS.search(message)) and "quarter" in message:
                allow = int(confirm[1])
            else:
                assert "was replaced by" in message, message  # a stale list: the office exports again
                return "refused"
        raise AssertionError("the messages did not lead to an import")

    def opt_out(self, child: Child) -> None:
        from typer.testing import CliRunner

        from cloudctl.cli.app import app

        upn = self.held_upn(child)
        if upn is None:
            return
        result = CliRunner().invoke(
            app,
            [
                "--db",
                self.url.removeprefix("sqlite:///"),
                "consent",
                "optout",
                upn,
                "My Maths",
                "--by",
                "Mum",
            ],
        )
        assert result.exit_code == 0, result.stderr
        self.opted_out.add(child.number)
        event("an opt-out recorded")

    # -- what must always hold --------------------------------------------------------------------------

    def check(self) -> None:
        from sqlalchemy import text

        rows = self.rows()
        identities = [
            (forename.casefold(), surname.casefold(), str(dob)[:10])
            for _, _, forename, surname, dob, _ in rows
        ]
        assert len(identities) == len(set(identities)), "one child has two records"
        by_id = dict(zip((row[0] for row in rows), identities, strict=True))
        with self.db.read() as session:
            events = list(session.connection().execute(text("SELECT pupil_id FROM consent_event")))
            changes = session.connection().execute(text("SELECT COUNT(*) FROM upn_change")).scalar()
        assert all(pupil_id in by_id for (pupil_id,) in events), "a consent event without its pupil"
        children = {child.identity(): child for child in self.children}
        assert {by_id[pupil_id] for (pupil_id,) in events} == {
            children_identity
            for children_identity, child in children.items()
            if child.number in self.opted_out
        }, "an opt-out is not on its child's one record"
        assert changes >= getattr(self, "changes", 0), "upn_change lost a row"
        self.changes = changes

    def check_in_step_with_the_mis(self) -> None:
        """After a fresh full list was imported: the roll is the MIS's, each child under the MIS's UPN."""
        held = {
            (forename.casefold(), surname.casefold(), str(dob)[:10]): (upn, bool(on_roll))
            for _, upn, forename, surname, dob, on_roll in self.rows()
        }
        for child in self.children:
            if child.on_roll:
                assert held[child.identity()] == (child.upn, True)
            elif child.identity() in held:
                assert held[child.identity()][1] is False


STEP = st.one_of(
    st.tuples(st.just("join"), st.booleans()),  # a new child, with a temporary UPN or not
    st.tuples(st.just("leave"), st.integers(0, 30)),
    st.tuples(st.just("class leaves"), st.sampled_from(("3A", "3B"))),
    st.tuples(st.just("return"), st.integers(0, 30)),
    st.tuples(st.just("mis changes upn"), st.integers(0, 30)),
    st.tuples(st.just("office runs change-upn"), st.integers(0, 30)),
    st.tuples(st.just("import"), st.sampled_from(("sims", "single-name"))),
    st.tuples(st.just("import partial"), st.sampled_from(("3A", "3B"))),
    st.tuples(st.just("import a stale list"), st.integers(0, 30)),
    st.tuples(st.just("opt out"), st.integers(0, 30)),
)


@pytest.fixture(scope="module")
def template_db(tmp_path_factory) -> Path:
    """A database with the Hunwick register (for My Maths), made once and copied for each example."""
    from typer.testing import CliRunner

    from cloudctl.cli.app import app

    path = tmp_path_factory.mktemp("template") / "school.db"
    runner = CliRunner()
    for command in (
        ["init", "--school", "Hunwick Primary School", "--years", "R,1-6"],
        ["register", "import", str(HUNWICK)],
    ):
        result = runner.invoke(app, ["--db", str(path), *command])
        assert result.exit_code == 0, result.stderr
    return path


@settings(
    max_examples=PROPERTY_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=st.integers(3, 9), steps=st.lists(STEP, min_size=1, max_size=12))
@example(
    first=6,
    steps=[
        ("office runs change-upn", 0),
        ("mis changes upn", 0),
        ("office runs change-upn", 0),
        ("import a stale list", 0),
    ],
)
@example(first=6, steps=[("mis changes upn", 1), ("import", "sims"), ("opt out", 1)])
@example(
    first=8,
    steps=[("opt out", 2), ("class leaves", "3A"), ("import", "single-name"), ("import a stale list", 0)],
)
@example(
    first=4,
    steps=[
        ("join", True),
        ("import", "sims"),
        ("mis changes upn", 4),
        ("leave", 4),
        ("import", "sims"),
        ("return", 4),
    ],
)
def test_one_child_one_record_whatever_the_lists(template_db, monkeypatch, first, steps):
    from cloudctl.db.engine import open_database
    from cloudctl.db.location import DatabaseLocation

    monkeypatch.delenv("CLOUDCTL_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLOUDCTL_DB", raising=False)
    folder = Path(tempfile.mkdtemp(prefix="one-record-"))
    try:
        path = folder / "school.db"
        shutil.copyfile(template_db, path)
        url = f"sqlite:///{path}"
        db = open_database(DatabaseLocation(url=url, path=path))
        try:
            school = School(folder, url, db)
            for _ in range(first):
                school.join(temporary=False)
            assert (
                school.import_list(school.write(school.export()), partial=False, follow_messages=True)
                == "imported"
            )
            for action, value in steps:
                run_step(school, action, value)
                school.check()
            # Whatever happened, a fresh full list (and doing what the messages say) brings the records
            # back in step with the MIS: nothing was split that change-upn cannot join.
            if not any(child.on_roll for child in school.children):
                school.join(temporary=False)
            for style in ("sims", "single-name"):
                assert (
                    school.import_list(
                        school.write(school.export(), style), partial=False, follow_messages=True
                    )
                    == "imported"
                )
                school.check()
                school.check_in_step_with_the_mis()
        finally:
            db.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_step(school: School, action: str, value) -> None:
    child = school.child(value) if isinstance(value, int) else None
    if action == "join":
        school.join(temporary=value)
    elif action == "leave" and child is not None:
        child.on_roll = False
    elif action == "class leaves":
        for one in school.children:
            if one.class_name == value:
                one.on_roll = False
    elif action == "return" and child is not None:
        child.on_roll = True
    elif action == "mis changes upn" and child is not None:
        # A temporary UPN made permanent, or a permanent one corrected: the MIS has the new one.
        child.upn = school.new_upn(temporary=False)
    elif action == "office runs change-upn" and child is not None:
        held = school.held_upn(child)
        if held is not None and held != child.upn:
            from cloudctl.domain.pupils import change_upn

            with school.db.write() as session:
                change_upn(session, held, child.upn)
    elif action == "import":
        rows = school.export()
        if rows:  # nobody on roll: there is no list to import
            outcome = school.import_list(school.write(rows, value), partial=False, follow_messages=True)
            assert outcome == "imported"
            school.check()
            school.check_in_step_with_the_mis()
    elif action == "import partial":
        rows = school.export(value)
        if rows:
            school.import_list(school.write(rows), partial=True, follow_messages=True)
    elif action == "import a stale list" and school.exports:
        # An old export, imported by mistake as the whole school: it may be refused (nothing changes) or
        # imported (the roll goes back to what it said); either way no child is split.
        stale = school.exports[value % len(school.exports)]
        if stale:
            outcome = school.import_list(school.write(stale), partial=False, follow_messages=False)
            event(f"a stale list: {outcome}")
    elif action == "opt out" and child is not None and child.on_roll:
        school.opt_out(child)
