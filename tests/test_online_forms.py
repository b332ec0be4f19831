"""Answers by reply code (issue 11, item 2): Microsoft Forms- and Google Forms-shaped exports, written here
from their documented column layouts (Microsoft: ID, Start time, Completion time, Email, Name, then a column
per question; Google: Timestamp, then a column per question), and paper forms typed in by the office."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from cloudctl.importers.online_form_returns import answer_decision, submission_time
from tests.helpers.pupils import add_pupils

PUPILS = [
    {"year_group": "3", "class_name": "3B", "forename": "Amelia", "surname": "Ashworth"},
    {"year_group": "3", "class_name": "3B", "forename": "Ben", "surname": "Bolam"},
    {"year_group": "3", "class_name": "3B", "forename": "Cara", "surname": "Carr"},
]
TTRS = "Do you consent to your child using Times Tables Rock Stars?"


@pytest.fixture
def school(hunwick_cli, tmp_path):
    """Class 3B with consent forms issued today: `school.codes` maps each UPN to its reply code."""
    hunwick_cli.upns = add_pupils(hunwick_cli.url, PUPILS)
    codes = tmp_path / "codes.csv"
    hunwick_cli.ok(
        "consent", "form", "--class", "3B", "--out", str(tmp_path / "f.html"), "--codes", str(codes)
    )
    with codes.open(encoding="utf-8") as handle:
        hunwick_cli.codes = {row["upn"]: row["reply_code"] for row in csv.DictReader(handle)}
    hunwick_cli.folder = tmp_path
    return hunwick_cli


_STARTED = datetime.now()  # one clock for the whole module, so a time scaled twice is the same


def _clock(day: date, clock: str) -> str:
    """A time of day for a submission on `day`: as written, except that today it is scaled into the part of
    the day already gone (order kept), since a submission later than now is refused."""
    if day != date.today() or not clock:
        return clock
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    gone = max(0, _STARTED.hour * 3600 + _STARTED.minute * 60 + _STARTED.second - 5)
    scaled = (hours * 3600 + minutes * 60 + seconds) * gone // 86400
    return f"{scaled // 3600:02}:{scaled // 60 % 60:02}:{scaled % 60:02}"


def _uk(day: date, clock: str) -> str:
    return f"{day.strftime('%d/%m/%Y')} {_clock(day, clock)}"


def _write(path, headings, rows) -> str:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(headings)
        writer.writerows(rows)
    return str(path)


def microsoft(school, rows, name="ms-forms.csv") -> str:
    """Microsoft Forms' layout: ID, Start time, Completion time, Email, Name, then the questions."""
    headings = ["ID", "Start time", "Completion time", "Email", "Name", "Reply code", "Your name",
                "Relationship to child", "My Maths", TTRS]  # fmt: skip
    return _write(school.folder / name, headings, [
        [str(number), _uk(day, "08:59:10"), _uk(day, clock), "anonymous", "anonymous", code, parent,
         relationship, maths, ttrs]
        for number, (day, clock, code, parent, relationship, maths, ttrs) in enumerate(rows, start=1)
    ])  # fmt: skip


def google(school, rows, name="google-forms.csv") -> str:
    """Google Forms' layout: Timestamp, then the questions (an e-mail question among them)."""
    headings = ["Timestamp", "Reply code", "Parent/carer name", "My Maths", "Times Tables Rock Stars",
                "Email address"]  # fmt: skip
    return _write(school.folder / name, headings, rows)


def events(cli) -> list[dict]:
    engine = create_engine(cli.url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT p.upn, s.name AS service, e.decision, e.effective_on, e.given_by, "
                    "e.relationship, "
                    "e.method, e.note, e.reply_code_id, e.service_version_id, e.effective_time "
                    "FROM consent_event e "
                    "JOIN pupil p ON p.id = e.pupil_id JOIN service s ON s.id = e.service_id ORDER BY e.id"
                )
            )
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def _status(cli, upn: str, service: str) -> str:
    return next(row["status"] for row in cli.json("consent", "status", upn) if row["service"] == service)


# --- the pieces ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "decision"),
    [("Yes", "opt-in"), ("yes", "opt-in"), ("I agree", "opt-in"), ("I consent", "opt-in"),
     ("Yes, I give consent", "opt-in"), ("No", "opt-out"), ("I do not agree", "opt-out"),
     ("I don\u2019t consent", "opt-out"), ("I do not consent", "opt-out"), ("Disagree", "opt-out"),
     ("Maybe", None), ("", None)],
)  # fmt: skip
def test_answers_as_forms_word_them(answer, decision):
    assert answer_decision(answer) == decision


def test_a_timestamp_keeps_its_time_of_day_and_reads_dates_day_first():
    assert submission_time("12/09/2026 10:31:22") == ("12/09/2026", (10, 31, 22))
    assert submission_time("2026/09/12 3:05:00 pm GMT+1") == ("2026-09-12", (15, 5, 0))
    assert submission_time("12/09/2026") == ("12/09/2026", (0, 0, 0))


# --- Microsoft Forms -------------------------------------------------------------------------------------


def test_a_microsoft_forms_export_records_each_answer_with_what_the_form_told_the_parent(school):
    amelia, ben, _cara = school.upns
    today = date.today()
    path = microsoft(school, [
        (today, "09:15:00", school.codes[amelia], "Jane Ashworth", "mother", "Yes", "I agree"),
        (today, "09:20:00", school.codes[ben].lower().replace("-", " "), "", "", "No", ""),
    ])  # fmt: skip
    result = school.ok("consent", "import", path)
    assert "Recorded 3 decision(s)" in result.stderr
    rows = events(school)
    assert [(r["upn"], r["service"], r["decision"]) for r in rows] == [
        (amelia, "My Maths", "opt-in"),
        (amelia, "Times Tables Rock Stars", "opt-in"),
        (ben, "My Maths", "opt-out"),
    ]
    first = rows[0]
    assert (first["given_by"], first["relationship"], first["method"]) == (
        "Jane Ashworth",
        "mother",
        "online-form",
    )
    assert str(first["effective_on"]) == today.isoformat()
    assert first["reply_code_id"] is not None
    assert "submitted " + today.isoformat() + " " + _clock(today, "09:15:00") in first["note"]
    # Microsoft Forms' own Name and Email are the respondent's account: never the parent's name.
    assert all("anonymous" not in (r["given_by"] or "") for r in rows)
    assert rows[2]["given_by"] == f"Reply to form {school.codes[ben]}"
    assert _status(school, amelia, "My Maths") == "opted-in"


def test_an_answer_consents_to_what_its_form_listed_not_what_the_service_receives_now(school):
    amelia = school.upns[0]
    # The service's data grows after the forms were printed and before the answer comes back.
    school.ok("service", "edit", "My Maths", "--data", "full name, class, date of birth")
    row = (date.today(), "09:15:00", school.codes[amelia], "Jane Ashworth", "mother", "Yes", "Yes")
    outcomes = school.json("consent", "import", microsoft(school, [row]))
    assert "needs renewal" in outcomes[0]["detail"]
    assert _status(school, amelia, "My Maths") == "needs-renewal"
    assert _status(school, amelia, "Times Tables Rock Stars") == "opted-in"


def test_two_submissions_for_one_pupil_the_later_stands_and_both_are_recorded_in_order(school):
    amelia = school.upns[0]
    today, code = date.today(), school.codes[amelia]
    # The later one comes first in the file: the times decide, not the order of the rows.
    path = microsoft(school, [
        (today, "15:00:00", code, "Jane Ashworth", "mother", "No", ""),
        (today, "09:00:00", code, "Jane Ashworth", "mother", "Yes", ""),
    ])  # fmt: skip
    school.ok("consent", "import", path)
    assert [r["decision"] for r in events(school)] == ["opt-in", "opt-out"]
    assert _status(school, amelia, "My Maths") == "opted-out"
    before = school.snapshot()
    again = school.ok("consent", "import", path)
    assert "Recorded 0 decision(s)" in again.stderr
    assert school.snapshot() == before, "a re-import of the same file records nothing new"


def test_a_no_then_a_yes_on_one_day_the_yes_stands_and_a_reimport_adds_nothing(school):
    amelia = school.upns[0]
    today, code = date.today(), school.codes[amelia]
    path = microsoft(school, [
        (today, "09:00:00", code, "Jane Ashworth", "", "No", ""),
        (today, "10:00:00", code, "Jane Ashworth", "", "Yes", ""),
    ])  # fmt: skip
    school.ok("consent", "import", path)
    assert [r["decision"] for r in events(school)] == ["opt-out", "opt-in"]
    assert _status(school, amelia, "My Maths") == "opted-in"
    # Imported again, the No is this very submission, not a new withdrawal after the Yes.
    before = school.snapshot()
    school.ok("consent", "import", path)
    assert school.snapshot() == before


def test_a_yes_in_the_same_second_as_a_standing_no_is_history_and_says_why(school):
    amelia = school.upns[0]
    today, code = date.today(), school.codes[amelia]
    school.ok("consent", "import", microsoft(school, [(today, "09:00:00", code, "Jane", "", "No", "")]))
    later = microsoft(school, [(today, "09:00:00", code, "Jane", "", "Yes", "")], name="later.csv")
    (outcome,) = school.json("consent", "import", later)
    assert "made in the same second as" in outcome["detail"]
    assert "a withdrawal counts as the later" in outcome["detail"]
    assert "made before" not in outcome["detail"]
    assert _status(school, amelia, "My Maths") == "opted-out"


def test_a_reimport_of_answers_that_no_longer_stand_is_not_called_standing(school):
    amelia = school.upns[0]
    today, code = date.today(), school.codes[amelia]
    first = microsoft(school, [(today, "09:00:00", code, "Jane", "", "Yes", "")])
    school.ok("consent", "import", first)
    school.ok(
        "consent", "import", microsoft(school, [(today, "10:00:00", code, "Jane", "", "No", "")], "no.csv")
    )
    again = school.ok("consent", "import", first)
    assert "1 already standing or already recorded (nothing recorded)" in again.stderr
    assert _status(school, amelia, "My Maths") == "opted-out"


# --- Google Forms ----------------------------------------------------------------------------------------


def test_a_google_forms_export_and_the_e_mail_kept_only_when_asked(school):
    amelia, ben, _ = school.upns
    today = date.today()
    rows = [
        [_uk(today, "10:31:22"), school.codes[amelia], "Jane Ashworth", "Yes", "No", "jane@example.org"],
        [_uk(today, "11:02:03"), school.codes[ben], "Tom Bolam", "I do not agree", "", "tom@example.org"],
    ]
    school.ok("consent", "import", google(school, rows))
    assert [(r["upn"], r["service"], r["decision"]) for r in events(school)] == [
        (amelia, "My Maths", "opt-in"),
        (amelia, "Times Tables Rock Stars", "opt-out"),
        (ben, "My Maths", "opt-out"),
    ]
    assert "example.org" not in repr(school.snapshot()), "the e-mail is not stored without --keep-email"
    rows[0][3] = "No"  # a change of mind, sent the next minute
    rows[0][0] = _uk(today, "10:32:00")
    school.ok("consent", "import", google(school, rows[:1], "again.csv"), "--keep-email")
    assert "e-mail jane@example.org" in events(school)[-1]["note"]


def test_paper_forms_typed_with_their_reply_codes_use_the_same_reader(school):
    amelia = school.upns[0]
    today = date.today()
    path = _write(
        school.folder / "typed.csv",
        ["Reply code", "Date", "Parent name", "My Maths"],
        [[school.codes[amelia], today.strftime("%d/%m/%Y"), "Jane Ashworth", "yes"]],
    )
    school.ok("consent", "import", path)
    (event,) = events(school)
    assert (event["method"], event["given_by"]) == ("form", "Jane Ashworth")


# --- refusals: exit 1, the line, nothing written ---------------------------------------------------------


def test_each_refusal_names_its_line_and_records_nothing(school):
    from cloudctl.vocab.reply_code import new_reply_code

    amelia, _ben, cara = school.upns
    today = date.today()
    good = (today, "09:00:00", school.codes[cara], "Ann Carr", "", "Yes", "")
    cases = [
        ((today, "09:00:00", new_reply_code(), "A Parent", "", "Yes", ""), "No consent form was issued"),
        ((today, "09:00:00", "K7QM-4XPZ", "A Parent", "", "Yes", ""), "misread"),
        ((today, "09:00:00", school.codes[amelia], "Jane Ashworth", "", "Maybe", ""), "not a yes or no"),
        (
            (today - timedelta(days=1), "09:00:00", school.codes[amelia], "J A", "", "Yes", ""),
            "before the form",
        ),
        (
            (today + timedelta(days=1), "09:00:00", school.codes[amelia], "J A", "", "Yes", ""),
            "in the future",
        ),
    ]
    for row, words in cases:
        result = school.fails("consent", "import", microsoft(school, [good, row]))
        assert "line 3" in result.stderr and words in result.stderr, result.stderr
    heading = _write(school.folder / "bad-heading.csv", ["Timestamp", "Reply code", "Maths Wizzard"],
                     [[_uk(today, "09:00:00"), school.codes[cara], "Yes"]])  # fmt: skip
    result = school.fails("consent", "import", heading)
    assert "line 1" in result.stderr and "names no service" in result.stderr


def test_an_expired_code_or_a_pupil_who_left_refuses_a_yes_but_records_a_flagged_no(school, tmp_path):
    amelia, ben, _ = school.upns
    today = date.today()
    old_code = school.codes[amelia]
    school.ok("consent", "form", "--upn", amelia, "--out", str(tmp_path / "newer.html"))  # replaces the code
    refused = school.fails(
        "consent", "import", microsoft(school, [(today, "09:00:00", old_code, "J A", "", "Yes", "")])
    )
    assert "line 2" in refused.stderr and "expired" in refused.stderr
    result = school.ok(
        "consent", "import", microsoft(school, [(today, "09:00:00", old_code, "J A", "", "No", "")], "no.csv")
    )
    assert "Flagged" in result.stdout + result.stderr
    assert [r["decision"] for r in events(school)] == ["opt-out"]

    engine = create_engine(school.url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE pupil SET on_roll = :f, left_on = :d WHERE upn = :u"),
                           {"f": False, "d": today, "u": ben})  # fmt: skip
    engine.dispose()
    code = school.codes[ben]
    assert (
        "no longer on roll"
        in school.fails(
            "consent",
            "import",
            microsoft(school, [(today, "09:00:00", code, "T B", "", "Yes", "")], "left.csv"),
        ).stderr
    )
    school.ok(
        "consent",
        "import",
        microsoft(school, [(today, "09:00:00", code, "T B", "", "No", "")], "left-no.csv"),
    )
    assert events(school)[-1]["decision"] == "opt-out"


def test_a_misspelt_service_heading_is_refused_with_the_registers_closest_names(school):
    path = _write(
        school.folder / "typo.csv",
        ["Timestamp", "Reply code", "Do you consent to your child using My Math?"],
        [[_uk(date.today(), "09:00:00"), school.codes[school.upns[0]], "Yes"]],
    )
    result = school.fails("consent", "import", path)
    assert "line 1" in result.stderr and "Did you mean 'My Maths'" in result.stderr


def test_a_workbook_of_answers_is_read_like_the_csv_with_its_real_date_cells(school):
    """Microsoft Forms' "Open in Excel" gives real date-and-time cells, not text."""
    from datetime import time

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["ID", "Start time", "Completion time", "Email", "Name", "Reply code", "My Maths"])
    submitted = datetime.combine(date.today(), time.fromisoformat(_clock(date.today(), "09:00:00")))
    book.active.append(
        [1, submitted, submitted, "anonymous", "anonymous", school.codes[school.upns[0]], "Yes"]
    )
    path = school.folder / "answers.xlsx"
    book.save(path)
    school.ok("consent", "import", str(path))
    assert _status(school, school.upns[0], "My Maths") == "opted-in"
    [event] = [row for row in events(school) if row["service"] == "My Maths"]
    assert (event["method"], str(event["effective_on"])) == ("online-form", date.today().isoformat())


def test_a_workbook_of_answers_with_a_formula_is_refused_and_records_nothing(school):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Timestamp", "Reply code", "My Maths"])
    book.active.append([_uk(date.today(), "09:00:00"), school.codes[school.upns[0]], '=IF(1,"Yes","No")'])
    path = school.folder / "formula.xlsx"
    book.save(path)
    before = events(school)
    assert "formula" in school.fails("consent", "import", str(path)).stderr
    assert events(school) == before


@pytest.mark.parametrize(
    "headings",
    [
        # Two columns for one service: a No in one and a Yes in the other would overturn the withdrawal.
        ["My Maths", "My Maths"],
        ["My Maths", "Do you consent to your child using My Maths?"],
        # One column naming two services: its one answer cannot be each parent's choice about each.
        ["Do you consent to My Maths and ClassDojo?"],
        # Worded against the service: a Yes there is a withdrawal, but answers read Yes as opt in.
        ["Do you want to opt your child out of My Maths?"],
        ["I wish to withdraw my child from My Maths"],
        ["Do you object to My Maths?"],
        ["Do you NOT consent to My Maths?"],
        ["I don\u2019t want my child to use My Maths"],
    ],
)
def test_question_columns_that_could_turn_a_withdrawal_into_consent_are_refused(school, headings):
    path = _write(
        school.folder / "questions.csv",
        ["Timestamp", "Reply code", "Parent/carer name", *headings],
        [
            [
                _uk(date.today(), "09:00:00"),
                school.codes[school.upns[0]],
                "Jane",
                *(["No", "Yes"][: len(headings)]),
            ]
        ],
    )
    before = events(school)
    result = school.fails("consent", "import", path)
    assert "line 1" in result.stderr and "My Maths" in result.stderr
    assert events(school) == before


def test_a_note_in_brackets_does_not_make_a_question_a_withdrawal(school):
    path = _write(
        school.folder / "bracket.csv",
        [
            "Timestamp",
            "Reply code",
            "Parent/carer name",
            "Do you consent to My Maths? (You can withdraw at any time)",
        ],
        [[_uk(date.today(), "09:00:00"), school.codes[school.upns[0]], "Jane", "Yes"]],
    )
    school.ok("consent", "import", path)
    assert _status(school, school.upns[0], "My Maths") == "opted-in"


def test_a_upn_keyed_file_with_reply_codes_too_is_refused_not_read_with_the_codes_unchecked(school):
    """A code belonging to another child must not pass unchecked beside a UPN."""
    path = _write(
        school.folder / "both.csv",
        ["UPN", "Reply code", "Service", "Decision", "Given by", "Date", "Method"],
        [
            [
                school.upns[0],
                school.codes[school.upns[1]],
                "My Maths",
                "yes",
                "Jane",
                _uk(date.today(), "")[:10],
                "form",
            ]
        ],
    )
    before = events(school)
    result = school.fails("consent", "import", path)
    assert "both a UPN column and a reply code column" in result.stderr
    assert events(school) == before


# --- found by a hostile tester: the parent's last word, expired codes with a withdrawal, the clock ---------


def test_yes_no_yes_on_one_day_the_parents_last_word_stands(school):
    """Three submissions by one parent on one day: Yes, No, Yes. The last (by its time) stands: the second
    Yes is no repeat of the first, whatever the dates say."""
    amelia = school.upns[0]
    today, code = date.today(), school.codes[amelia]
    path = microsoft(school, [
        (today, "09:00:00", code, "Jane Ashworth", "mother", "Yes", ""),
        (today, "10:00:00", code, "Jane Ashworth", "mother", "No", ""),
        (today, "11:00:00", code, "Jane Ashworth", "mother", "Yes", ""),
    ])  # fmt: skip
    school.ok("consent", "import", path)
    assert [(r["decision"], r["effective_time"]) for r in events(school)] == [
        ("opt-in", _clock(today, "09:00:00")),
        ("opt-out", _clock(today, "10:00:00")),
        ("opt-in", _clock(today, "11:00:00")),
    ]
    assert _status(school, amelia, "My Maths") == "opted-in"
    before = school.snapshot()
    school.ok("consent", "import", path)
    assert school.snapshot() == before, "a re-import of the same file records nothing new"


def test_an_earlier_submission_imported_after_a_later_one_does_not_stand_over_it(school):
    amelia = school.upns[0]
    today, code = date.today(), school.codes[amelia]
    school.ok(
        "consent", "import", microsoft(school, [(today, "11:00:00", code, "J A", "", "Yes", "")], "a.csv")
    )
    school.ok(
        "consent", "import", microsoft(school, [(today, "10:00:00", code, "J A", "", "No", "")], "b.csv")
    )
    assert [r["decision"] for r in events(school)] == ["opt-in", "opt-out"]
    assert _status(school, amelia, "My Maths") == "opted-in"
    # A Yes sent again later is the parent's latest word: kept, so a still earlier No cannot undo it.
    school.ok(
        "consent", "import", microsoft(school, [(today, "12:00:00", code, "J A", "", "Yes", "")], "c.csv")
    )
    school.ok(
        "consent", "import", microsoft(school, [(today, "11:30:00", code, "J A", "", "No", "")], "d.csv")
    )
    assert _status(school, amelia, "My Maths") == "opted-in"


def test_paper_forms_of_one_day_without_times_the_withdrawal_stands_whatever_the_row_order(school):
    amelia = school.upns[0]
    day = date.today().strftime("%d/%m/%Y")
    path = _write(
        school.folder / "typed-same-day.csv",
        ["Reply code", "Date", "Parent name", "My Maths"],
        [
            [school.codes[amelia], day, "Jane Ashworth", "no"],
            [school.codes[amelia], day, "Jane Ashworth", "yes"],
        ],
    )
    school.ok("consent", "import", path)
    assert [(r["decision"], r["effective_time"]) for r in events(school)] == [
        ("opt-out", None),
        ("opt-in", None),
    ]
    assert _status(school, amelia, "My Maths") == "opted-out"


def test_an_expired_yes_beside_a_no_says_how_to_keep_the_withdrawal(school, tmp_path):
    amelia = school.upns[0]
    today = date.today()
    old_code = school.codes[amelia]
    school.ok("consent", "form", "--upn", amelia, "--out", str(tmp_path / "newer.html"))  # replaces the code
    good = (today, "08:00:00", school.codes[school.upns[1]], "Tom Bolam", "", "Yes", "")
    row = (today, "09:00:00", old_code, "Jane Ashworth", "", "Yes", "No")
    refused = school.fails("consent", "import", microsoft(school, [good, row], "mixed.csv"))
    message = " ".join(refused.stderr.split())
    assert "line 3" in message and "expired" in message
    assert 'blank only the Yes answer on line 3 (in the column "My Maths")' in message, message
    assert f'answers No under "{TTRS}"' in message, message
    assert "import the file again" in message
    # Done as it says, the withdrawal is recorded (flagged) and the rest of the file with it.
    mended = (today, "09:00:00", old_code, "Jane Ashworth", "", "", "No")
    result = school.ok("consent", "import", microsoft(school, [good, mended], "mended.csv"))
    assert "Flagged" in result.stdout + result.stderr
    assert _status(school, amelia, "Times Tables Rock Stars") == "opted-out"
    assert _status(school, school.upns[1], "My Maths") == "opted-in"


def test_a_yes_for_a_pupil_who_left_says_what_the_office_can_do_not_to_print_a_form(school):
    ben = school.upns[1]
    today = date.today()
    engine = create_engine(school.url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE pupil SET on_roll = :f, left_on = :d WHERE upn = :u"),
                           {"f": False, "d": today, "u": ben})  # fmt: skip
    engine.dispose()
    path = microsoft(school, [(today, "09:00:00", school.codes[ben], "T B", "", "Yes", "")], "left.csv")
    message = " ".join(school.fails("consent", "import", path).stderr.split())
    assert "no longer on roll" in message
    assert "consent form --upn" not in message, "a form cannot be printed for a pupil who has left"
    assert "blank this Yes on line 2" in message
    assert "import the class list that shows them on roll" in message


def test_a_submission_later_today_than_now_is_refused_with_the_time_and_how_to_mend_it(school):
    amelia = school.upns[0]
    later = datetime.now() + timedelta(minutes=3)
    if later.date() != date.today():
        pytest.skip("too close to midnight for a time later today")
    written = later.strftime("%d/%m/%Y %H:%M:%S")
    path = _write(
        school.folder / "later.csv",
        ["Timestamp", "Reply code", "Parent/carer name", "My Maths"],
        [[written, school.codes[amelia], "Jane Ashworth", "Yes"]],
    )
    result = school.fails("consent", "import", path)
    message = " ".join(result.stderr.split())
    assert "line 2" in message
    assert f"{later.date().isoformat()} {later.strftime('%H:%M:%S')} is later than now" in message, message
    assert "computer's date, time and time zone" in message and "correct the time in the file" in message
