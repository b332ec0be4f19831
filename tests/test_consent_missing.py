"""Chasing (issue 11, item 3): `consent missing` lists the pupils on roll with no current answer for a
service they may be enrolled in, with the day their last form was issued."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta

from tests.helpers.pupils import add_pupils

PUPILS = [
    {"year_group": "3", "class_name": "3B", "forename": "Amelia", "surname": "Ashworth"},
    {"year_group": "3", "class_name": "3B", "forename": "Ben", "surname": "Bolam"},
    {"year_group": "3", "class_name": "3B", "forename": "Cara", "surname": "Carr"},
    {"year_group": "R", "class_name": "RW", "forename": "Dev", "surname": "Dunn"},
    {"year_group": "3", "class_name": "3B", "forename": "Eve", "surname": "Eden", "on_roll": False},
]


def _issue_form(url: str, upn: str, on: date) -> None:
    """A consent form issued to the pupil on that day, listing nothing (only its date matters here)."""
    from cloudctl.db.engine import open_database
    from cloudctl.db.location import location_from_url
    from cloudctl.domain.reply_codes import issue_form
    from cloudctl.domain.upn_identity import pupil_by_upn

    db = open_database(location_from_url(url))
    try:
        with db.write() as session:
            pupil = pupil_by_upn(session, upn)[0]
            issue_form(session, pupil, [], printed={}, today=on, issued_by="office")
    finally:
        db.dispose()


def _missing(cli, *args: str) -> set[tuple]:
    return {
        (row["upn"], row["service"], row["status"], row["last_form_issued"])
        for row in cli.json("consent", "missing", *args)
    }


def test_pupils_without_a_current_answer_are_listed_with_their_last_form(hunwick_cli):
    school = hunwick_cli
    amelia, ben, cara, dev, eve = add_pupils(school.url, PUPILS)
    school.ok("consent", "optin", amelia, "My Maths", "--by", "Jane Ashworth")
    school.ok("consent", "optout", ben, "My Maths", "--by", "Tom Bolam")  # an opt-out is an answer
    old = (date.today() - relativedelta(months=30)).isoformat()
    school.ok("consent", "optin", cara, "My Maths", "--by", "Ann Carr", "--date", old)
    _issue_form(school.url, cara, date(2026, 9, 1))
    _issue_form(school.url, cara, date(2026, 9, 14))

    rows = _missing(school, "--class", "3B", "--service", "My Maths")
    assert rows == set(), "every pupil of 3B answered for My Maths (consent lasts until withdrawn)"
    school.ok("init", "--consent-months", "24")
    assert _missing(school, "--class", "3B", "--service", "My Maths") == {
        (cara, "My Maths", "needs-renewal", "2026-09-14"),  # the newest form's day
    }

    everything = school.json("consent", "missing")
    upns = {row["upn"] for row in everything}
    assert eve not in upns, "a pupil who left is not chased"
    assert dev in upns
    # Dev (Reception) is asked only about services for his year; never sent a form.
    dev_rows = [row for row in everything if row["upn"] == dev]
    assert {row["last_form_issued"] for row in dev_rows} == {None}
    assert "Accelerated Reader" not in {row["service"] for row in dev_rows}  # Y2 - Y6 only
    assert all(row["status"] in ("no-response", "needs-renewal") for row in everything)
    assert not any(row["upn"] == ben and row["service"] == "My Maths" for row in everything)
    assert not any(row["upn"] == amelia and row["service"] == "My Maths" for row in everything)

    csv_out = school.ok("consent", "missing", "--class", "RW", "--format", "csv").stdout
    assert csv_out.splitlines()[0].startswith(
        "class_name,upn,forename,surname,service,status,last_form_issued"
    )
    assert school.run("consent", "missing", "--class", "RW", "--fail-if-any").exit_code == 1


def test_an_unknown_class_or_a_service_without_consent_is_refused(hunwick_cli):
    add_pupils(hunwick_cli.url, PUPILS)
    assert "3B" in hunwick_cli.fails("consent", "missing", "--class", "3X").stderr
    refused = hunwick_cli.fails("consent", "missing", "--service", "SIMS")
    assert "not a service for pupils or parents" in refused.stderr


def test_forms_for_the_missing_only(hunwick_cli, tmp_path):
    school = hunwick_cli
    amelia, ben, cara, _dev, _eve = add_pupils(school.url, PUPILS)
    school.ok("consent", "optin", amelia, "--all-services", "--by", "Jane Ashworth")
    school.ok("consent", "optout", ben, "--all-services", "--by", "Tom Bolam")
    out = tmp_path / "chase-3B.html"
    school.ok("consent", "form", "--class", "3B", "--missing-only", "--out", str(out))
    html = out.read_text(encoding="utf-8")
    assert "Carr" in html and "Ashworth" not in html and "Bolam" not in html
    # Codes are issued only for the forms printed: Cara's form is now the last one issued to her.
    (row,) = {(r["upn"], r["last_form_issued"]) for r in school.json("consent", "missing", "--class", "3B")}
    assert row == (cara, date.today().isoformat())
