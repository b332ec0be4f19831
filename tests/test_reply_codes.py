"""Reply codes: the check character, issuing codes with the forms, expiry, --codes, --reprint and the
evidence each answer keeps of its form."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from cloudctl.errors import InvalidInput, NotFound
from cloudctl.vocab.reply_code import (
    ALPHABET,
    BODY_LENGTH,
    LENGTH,
    check_character,
    format_reply_code,
    is_valid,
    new_reply_code,
    parse_reply_code,
)
from tests.helpers.pupils import add_pupils

bodies = st.text(alphabet=ALPHABET, min_size=BODY_LENGTH, max_size=BODY_LENGTH)
codes = bodies.map(lambda body: body + check_character(body))

PUPILS = [
    {"year_group": "3", "class_name": "3B", "forename": "Amelia", "surname": "Ashworth"},
    {"year_group": "3", "class_name": "3B", "forename": "Ben", "surname": "=HYPERLINK(1)"},
    {"year_group": "1", "class_name": "1A", "forename": "Cara", "surname": "Carr"},
]


# --- the code itself ----------------------------------------------------------------------------------


def test_the_alphabet_has_no_confusable_characters_and_a_prime_size():
    assert not set("0O1ILUS") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 29
    assert all(len(ALPHABET) % n for n in range(2, len(ALPHABET)))


@settings(max_examples=300)
@given(codes, st.integers(0, LENGTH - 1), st.sampled_from(ALPHABET))
def test_the_check_character_catches_every_single_wrong_character(code, position, replacement):
    assert is_valid(code)
    if replacement == code[position]:
        return
    typo = code[:position] + replacement + code[position + 1 :]
    assert not is_valid(typo)
    with pytest.raises(InvalidInput, match="misread or two were swapped"):
        parse_reply_code(typo)


@settings(max_examples=300)
@given(codes, st.integers(0, LENGTH - 2))
def test_the_check_character_catches_every_swap_of_neighbours(code, position):
    if code[position] == code[position + 1]:
        return
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert not is_valid(swapped)


def test_every_single_substitution_of_one_code_is_caught_exhaustively():
    code = new_reply_code()
    for position in range(LENGTH):
        for replacement in ALPHABET:
            if replacement != code[position]:
                assert not is_valid(code[:position] + replacement + code[position + 1 :])


@given(codes)
def test_a_code_is_read_back_however_it_is_typed(code):
    shown = format_reply_code(code)
    assert len(shown) == 9 and shown[4] == "-"
    # An en dash, as a phone's autocorrect writes the hyphen, too.
    for typed in (
        shown,
        shown.lower(),
        f"  {code[:4]} {code[4:]} ",
        code.lower(),
        shown.replace("-", "\u2013"),
    ):
        assert parse_reply_code(typed) == code


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "empty"),
        ("K7QM-4XP", "must have 8 characters (it has 7)"),
        ("K7QM-4XPB2", "must have 8 characters (it has 9)"),
        ("K7QO-4XPB", "characters reply codes never use (O)"),
        ("K7Q1-I0PB", "characters reply codes never use (0, 1, I)"),
        ("K7QM-4XPD", "misread or two were swapped"),
    ],
)
def test_a_mistyped_code_is_refused_saying_what_is_wrong(typed, words):
    with pytest.raises(InvalidInput) as raised:
        parse_reply_code(typed)
    assert words in raised.value.message


def test_new_codes_are_valid_random_and_unique():
    drawn = [new_reply_code() for _ in range(2000)]
    assert all(is_valid(code) and len(code) == LENGTH for code in drawn)
    assert len(set(drawn)) == len(drawn)


# --- issuing codes with the forms ---------------------------------------------------------------------


@pytest.fixture
def school(hunwick_cli):
    hunwick_cli.upns = add_pupils(hunwick_cli.url, PUPILS)
    return hunwick_cli


def rows(cli, sql: str, **params) -> list[dict]:
    engine = create_engine(cli.url)
    try:
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def execute(cli, sql: str, **params) -> None:
    engine = create_engine(cli.url)
    try:
        with engine.begin() as connection:
            connection.execute(text(sql), params)
    finally:
        engine.dispose()


def issued(cli) -> list[dict]:
    return rows(cli, "SELECT * FROM reply_code ORDER BY id")


def test_printing_forms_issues_one_stored_code_per_pupil_on_each_form(school, tmp_path):
    out = tmp_path / "forms.html"
    result = school.ok("consent", "form", "--class", "3B", "--out", str(out))
    assert "each with its own reply code" in result.stderr
    forms = issued(school)
    assert len(forms) == 2 and len({form["code"] for form in forms}) == 2
    html = out.read_text()
    for form in forms:
        assert is_valid(form["code"])
        assert f"Reply code: <strong>{format_reply_code(form['code'])}</strong>" in html
        assert str(form["issued_on"])[:10] == date.today().isoformat()
        assert str(form["expires_on"])[:10] == (date.today() + timedelta(days=90)).isoformat()
        listed = json.loads(form["service_versions"])
        versions = rows(school, "SELECT id, service_id FROM service_version")
        assert set(listed) <= {version["id"] for version in versions}
        assert len(listed) == len(json.loads(form["form"])["services"]) == 5
    # The code is random: the same pupil's next form gets another.
    school.ok("consent", "form", "--class", "3B", "--out", str(out), "--force")
    assert len({form["code"] for form in issued(school)}) == 4


def test_issued_forms_are_history_sealed_in_the_chain(school, tmp_path):
    school.ok("consent", "form", "--class", "3B", "--out", str(tmp_path / "forms.html"))
    record = json.loads(school.ok("db", "verify", "--format", "json").stdout)
    chains = {chain["table"]: chain["rows"] for chain in record["chains"]}
    assert chains["reply_code"] == 2
    with pytest.raises(Exception, match="Issued consent forms are history"):
        execute(school, "UPDATE reply_code SET issued_by = 'someone else'")
    with pytest.raises(Exception, match="Issued consent forms are history"):
        execute(school, "DELETE FROM reply_code")


def test_the_form_shows_the_answer_on_record_and_the_privacy_policy(school, tmp_path):
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "My Maths", "--by", "Jane Ashworth")
    school.ok("consent", "optout", upn, "ClassDojo", "--by", "Jane Ashworth")
    school.ok("service", "edit", "My Maths", "--privacy-url", "https://example.org/my-maths/privacy")
    out = tmp_path / "form.html"
    school.ok("consent", "form", "--upn", upn, "--out", str(out))
    (form,) = issued(school)
    answers = {entry["name"]: entry["answer"] for entry in json.loads(form["form"])["services"]}
    assert answers["My Maths"] == "opted in"
    assert answers["ClassDojo"] == "opted out"
    assert answers["Times Tables Rock Stars"] == "none"
    html = out.read_text()
    assert "You opted in" in html and "You opted out" in html and "No answer yet" in html
    assert "Privacy policy: https://example.org/my-maths/privacy" in html


def test_codes_file_lists_the_codes_issued_privately_and_formula_safe(school, tmp_path):
    out, codes = tmp_path / "forms.html", tmp_path / "codes.csv"
    result = school.ok("consent", "form", "--class", "3B", "--out", str(out), "--codes", str(codes))
    assert f"Wrote the 2 reply code(s) issued to {codes}" in result.stderr
    assert (codes.stat().st_mode & 0o777) == 0o600
    with codes.open(newline="") as stream:
        written = list(csv.DictReader(stream))
    assert list(written[0]) == ["reply_code", "upn", "surname", "forename", "class", "issued_on"]
    by_upn = {row["upn"]: row for row in written}
    for form in issued(school):
        upn = rows(school, "SELECT upn FROM pupil WHERE id = :id", id=form["pupil_id"])[0]["upn"]
        assert by_upn[upn]["reply_code"] == format_reply_code(form["code"])
        assert by_upn[upn]["issued_on"] == date.today().isoformat()
        assert by_upn[upn]["class"] == "3B"
    assert by_upn[school.upns[1]]["surname"] == "'=HYPERLINK(1)"
    assert by_upn[school.upns[0]]["forename"] == "Amelia"


def test_nothing_is_issued_when_the_codes_file_exists(school, tmp_path):
    out, codes = tmp_path / "forms.html", tmp_path / "codes.csv"
    codes.write_text("keep me")
    result = school.fails("consent", "form", "--class", "3B", "--out", str(out), "--codes", str(codes))
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert not out.exists() and codes.read_text() == "keep me"
    assert issued(school) == []


def test_nothing_is_issued_when_the_forms_file_exists(school, tmp_path):
    out = tmp_path / "forms.html"
    out.write_text("keep me")
    school.fails("consent", "form", "--class", "3B", "--out", str(out))
    assert out.read_text() == "keep me" and issued(school) == []


# --- expiry -------------------------------------------------------------------------------------------


def lookup(cli, code: str, on: date):
    from cloudctl.db.engine import open_database
    from cloudctl.db.location import location_from_url
    from cloudctl.domain.reply_codes import lookup_code

    database = open_database(location_from_url(cli.url))
    try:
        with database.read() as session:
            return lookup_code(session, code, on=on)
    finally:
        database.engine.dispose()


def test_a_code_expires_when_a_newer_form_is_issued_for_the_pupil(school, tmp_path):
    upn = school.upns[0]
    school.ok("consent", "form", "--upn", upn, "--out", str(tmp_path / "first.html"))
    (first,) = issued(school)
    today = date.today()
    found = lookup(school, first["code"], today)
    assert not found.expired and found.pupil.upn == upn
    assert set(found.versions) == {entry["service_id"] for entry in json.loads(first["form"])["services"]}

    school.ok("consent", "form", "--upn", upn, "--out", str(tmp_path / "second.html"))
    second = issued(school)[1]
    old = lookup(school, format_reply_code(first["code"]).lower(), today)
    assert old.expired and old.superseded_by.code == second["code"]
    assert f"a newer form (reply code {format_reply_code(second['code'])}) was issued" in old.expired_because
    # Issued the day of the answer: the message says why an answer given earlier that day counts as late.
    assert "the day of this answer" in old.expired_because
    assert (
        "the day of this answer"
        not in lookup(school, first["code"], today + timedelta(days=1)).expired_because
    )
    assert not lookup(school, second["code"], today).expired
    # Another pupil's form does not touch this pupil's code.
    school.ok("consent", "form", "--upn", school.upns[1], "--out", str(tmp_path / "other.html"))
    assert not lookup(school, second["code"], today).expired


def test_a_code_expires_after_the_schools_period(school, tmp_path):
    execute(school, "UPDATE school_settings SET reply_code_days = 14")
    school.ok("consent", "form", "--upn", school.upns[0], "--out", str(tmp_path / "form.html"))
    (form,) = issued(school)
    today = date.today()
    assert str(form["expires_on"])[:10] == (today + timedelta(days=14)).isoformat()
    assert not lookup(school, form["code"], today + timedelta(days=14)).expired
    late = lookup(school, form["code"], today + timedelta(days=15))
    assert late.expired and "lasted until" in late.expired_because


def test_an_unknown_code_is_not_found(school):
    with pytest.raises(NotFound, match="No consent form was issued with reply code"):
        lookup(school, new_reply_code(), date.today())


# --- reprint ------------------------------------------------------------------------------------------


def test_reprint_reproduces_the_exact_form_after_the_register_and_pupil_change(school, tmp_path):
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "My Maths", "--by", "Jane Ashworth")
    original = tmp_path / "form.html"
    school.ok("consent", "form", "--upn", upn, "--out", str(original))
    (form,) = issued(school)
    # Everything the form drew on changes afterwards.
    school.ok(
        "service", "edit", "My Maths", "--purpose", "Something else entirely", "--data", "full name, DOB"
    )
    school.ok("service", "edit", "ClassDojo", "--privacy-url", "https://example.org/dojo")
    school.ok("consent", "optout", upn, "My Maths", "--by", "Jane Ashworth")
    execute(
        school, "UPDATE pupil SET class_name = '4C', preferred_forename = 'Millie' WHERE upn = :upn", upn=upn
    )

    again = tmp_path / "again.html"
    result = school.ok("consent", "form", "--reprint", format_reply_code(form["code"]), "--out", str(again))
    assert "Wrote the form issued on" in result.stderr
    assert again.read_bytes() == original.read_bytes()
    assert (again.stat().st_mode & 0o777) == 0o600
    assert len(issued(school)) == 1, "a reprint issues nothing"


def test_an_unknown_reprint_code_is_refused_plainly(school, tmp_path):
    out = tmp_path / "copy.html"
    code = format_reply_code(new_reply_code())
    result = school.fails("consent", "form", "--reprint", code, "--out", str(out))
    assert f"No consent form was issued with reply code {code}" in result.stderr
    assert not out.exists()
    typo = school.fails("consent", "form", "--reprint", "K7QM-4XPD", "--out", str(out))
    assert "misread or two were swapped" in typo.stderr and not out.exists()


def test_reprint_takes_no_class_pupil_or_codes_file(school, tmp_path):
    out = tmp_path / "copy.html"
    result = school.fails("consent", "form", "--reprint", "K7QM-4XPB", "--class", "3B", "--out", str(out))
    assert "without --class, --upn or --codes" in result.stderr


# --- evidence -----------------------------------------------------------------------------------------


def record_answer_on_form(cli, code: str) -> None:
    """An answer that came back on a form, as the returns importer records it (with the form's code)."""
    from cloudctl.db.engine import open_database
    from cloudctl.db.location import location_from_url
    from cloudctl.db.models import ConsentEvent
    from cloudctl.domain.reply_codes import lookup_code

    database = open_database(location_from_url(cli.url))
    try:
        with database.write() as session:
            found = lookup_code(session, code, on=date.today())
            service_id = next(iter(found.versions))
            session.add(
                ConsentEvent(
                    pupil_id=found.pupil.id, service_id=service_id,
                    service_version_id=found.versions[service_id].id, decision="opt-in",
                    effective_on=date.today(), given_by="Jane Ashworth", method="form",
                    recorded_by="office", reply_code_id=found.issued.id,
                )
            )  # fmt: skip
    finally:
        database.engine.dispose()


def test_history_and_pupil_show_name_the_form_and_what_the_parent_was_told(school, tmp_path):
    upn = school.upns[0]
    school.ok("consent", "optin", upn, "ClassDojo", "--by", "Jane Ashworth")
    school.ok("consent", "form", "--upn", upn, "--out", str(tmp_path / "form.html"))
    (form,) = issued(school)
    record_answer_on_form(school, form["code"])
    shown = format_reply_code(form["code"])
    today = date.today().isoformat()

    history = school.json("consent", "history", upn)
    by_hand, on_form = history
    assert by_hand["form"] is None and by_hand["form_code"] is None
    assert on_form["form_code"] == shown and on_form["form_issued_on"] == today
    assert on_form["form"] == f"{shown} of {today}"
    assert on_form["told_purpose"] and on_form["told_data"]
    table = school.ok("consent", "history", upn).stdout
    assert shown in table

    shown_pupil = school.json("pupil", "show", upn)
    assert [row["form_code"] for row in shown_pupil["consent_history"]] == [None, shown]
    assert shown in school.ok("pupil", "show", upn).stdout
    record = json.loads(school.ok("db", "verify", "--format", "json").stdout)
    assert record["integrity"].startswith(("ok", "not available"))
