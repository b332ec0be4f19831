"""`cloudctl provider ...`: the companies and bodies behind the register's services."""

from __future__ import annotations

import pytest


@pytest.fixture
def school(cli):
    cli.ok("init", "--school", "Hunwick Primary School")
    return cli


def add_service(cli, name: str, provider: str, category: str = "pupil") -> None:
    cli.ok(
        "service", "add", name, "--category", category, "--provider", provider,
        "--purpose", "Maths", "--data", "full name", "--type", "Purchased", "--years", "All",
    )  # fmt: skip


def test_add_list_and_show_a_provider(school):
    result = school.ok(
        "provider",
        "add",
        "Oxford University Press",
        "--website",
        "https://global.oup.com/",
        "--notes",
        "Contract",
    )
    assert "Added provider 'Oxford University Press'" in result.stderr
    assert result.stdout == ""

    assert school.json("provider", "list") == [
        {
            "name": "Oxford University Press",
            "website": "https://global.oup.com/",
            "notes": "Contract",
            "services": 0,
        }
    ]
    assert school.json("provider", "show", "Oxford University Press") == {
        "name": "Oxford University Press",
        "website": "https://global.oup.com/",
        "notes": "Contract",
        "services": [],
    }


def test_list_counts_each_providers_services_and_show_names_them(school):
    school.ok("provider", "add", "Google")
    add_service(school, "Google G Suite for Education", "Google", "pupil")
    add_service(school, "Google G Suite for Education", "Google", "management")
    add_service(school, "Google Classroom", "Google", "pupil")
    school.ok("service", "retire", "Google Classroom")

    (google,) = school.json("provider", "list")
    assert google["services"] == 2  # a retired service is not counted
    shown = school.json("provider", "show", "google")  # names match without regard to case
    assert shown["services"] == [
        "Google G Suite for Education (pupil, awaiting-assessment)",
        "Google G Suite for Education (management, awaiting-assessment)",
        "Google Classroom (pupil, retired)",
    ]


def test_list_is_in_name_order(school):
    for name in ("Renaissance Learning", "Capita", "Maths Circle Ltd"):
        school.ok("provider", "add", name)
    assert [row["name"] for row in school.json("provider", "list")] == [
        "Capita",
        "Maths Circle Ltd",
        "Renaissance Learning",
    ]


def test_an_empty_list_says_how_to_add_one(school):
    result = school.ok("provider", "list")
    assert result.stdout == ""
    assert "provider add" in result.stderr
    assert school.json("provider", "list") == []


def test_names_are_tidied(school):
    school.ok("provider", "add", "  Maths   Circle Ltd ")
    assert school.json("provider", "list")[0]["name"] == "Maths Circle Ltd"


def test_edit_changes_only_what_is_given(school):
    school.ok("provider", "add", "Renaissance", "--website", "http://www.renlearn.co.uk/", "--notes", "Old")
    school.ok("provider", "edit", "Renaissance", "--name", "Renaissance Learning")
    school.ok("provider", "edit", "Renaissance Learning", "--notes", "Contract to 2027")
    assert school.json("provider", "show", "Renaissance Learning") == {
        "name": "Renaissance Learning",
        "website": "http://www.renlearn.co.uk/",
        "notes": "Contract to 2027",
        "services": [],
    }


def test_edit_can_clear_the_website_and_notes(school):
    school.ok("provider", "add", "Capita", "--website", "http://www.capita-sims.co.uk/", "--notes", "SIMS")
    school.ok("provider", "edit", "Capita", "--website", "", "--notes", "")
    shown = school.json("provider", "show", "Capita")
    assert shown["website"] is None and shown["notes"] is None


def test_renaming_a_provider_keeps_its_services(school):
    school.ok("provider", "add", "Capita")
    add_service(school, "SIMS", "Capita", "management")
    school.ok("provider", "edit", "Capita", "--name", "Capita SIMS")
    assert school.json("service", "show", "SIMS")["provider"] == "Capita SIMS"


def test_edit_with_nothing_to_change_is_refused(school):
    school.ok("provider", "add", "Capita")
    result = school.fails("provider", "edit", "Capita")
    assert "--name" in result.stderr


def test_edit_refuses_a_name_another_provider_has(school):
    school.ok("provider", "add", "Capita")
    school.ok("provider", "add", "Google")
    result = school.fails("provider", "edit", "Capita", "--name", "GOOGLE")
    assert "GOOGLE" in result.stderr


def test_remove_an_unused_provider(school):
    school.ok("provider", "add", "Capita")
    result = school.ok("provider", "remove", "capita")
    assert "Removed provider 'Capita'" in result.stderr
    assert school.json("provider", "list") == []


def test_remove_is_refused_while_a_service_uses_the_provider(school):
    school.ok("provider", "add", "Google")
    add_service(school, "Google G Suite for Education", "Google")
    result = school.fails("provider", "remove", "Google")
    assert "Google G Suite for Education" in result.stderr
    assert "--provider" in result.stderr  # says how to mend it


def test_remove_is_refused_while_a_retired_service_names_the_provider(school):
    # The retired entry's history must still say who received the data.
    school.ok("provider", "add", "Google")
    add_service(school, "Google Classroom", "Google")
    school.ok("service", "retire", "Google Classroom")
    result = school.fails("provider", "remove", "Google")
    assert "Google Classroom" in result.stderr
    # Retiring is not the way out, so the message must not advise it.
    assert "service retire" not in result.stderr
    assert "keeps its provider" in result.stderr


def test_remove_works_once_the_services_have_moved(school):
    school.ok("provider", "add", "Capita")
    school.ok("provider", "add", "ESS")
    add_service(school, "SIMS", "Capita", "management")
    school.ok("service", "edit", "SIMS", "--provider", "ESS")
    school.ok("provider", "remove", "Capita")
    assert [row["name"] for row in school.json("provider", "list")] == ["ESS"]


def test_a_duplicate_provider_is_refused_whatever_its_case(school):
    school.ok("provider", "add", "Google")
    result = school.fails("provider", "add", "google")
    assert "already" in result.stderr
    assert "provider edit" in result.stderr


def test_a_blank_name_is_refused(school):
    result = school.fails("provider", "add", "  ")
    assert "The provider name is empty" in result.stderr


def test_a_very_long_name_is_refused(school):
    result = school.fails("provider", "add", "x" * 201)
    assert "201" in result.stderr and "200" in result.stderr


def test_a_website_that_is_not_a_web_address_is_refused(school):
    for website in ("www.acme.com", "javascript:alert(1)", "ftp://acme.com"):
        result = school.fails("provider", "add", "Acme", "--website", website)
        assert website in result.stderr
        assert "https://" in result.stderr


def test_a_website_in_angle_brackets_is_accepted_as_the_register_writes_it(school):
    school.ok("provider", "add", "Acme", "--website", "<https://acme.example/>")
    assert school.json("provider", "show", "Acme")["website"] == "https://acme.example/"


def test_an_unknown_provider_gets_the_closest_names_suggested(school):
    school.ok("provider", "add", "Google")
    school.ok("provider", "add", "Renaissance Learning")
    for command in (("show", "Gogle"), ("edit", "Gogle", "--notes", "x"), ("remove", "Gogle")):
        result = school.fails("provider", *command)
        assert "'Gogle'" in result.stderr
        assert "Did you mean 'Google'?" in result.stderr
    result = school.fails("provider", "show", "Nobody At All")
    assert "provider list" in result.stderr


# --- the text gate ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (("Acme\x1b[31m",), "The provider name contains an escape character (U+001B"),
        (
            ("Acme\nLtd",),
            "The provider name contains a line break (U+000A) at character 5 (it must be one line)",
        ),
        (("Acme", "--notes", "Contract\x00 2024"), "The provider's notes contains a NUL character (U+0000)"),
        (("Acme", "--notes", "n" * 10_001), "The provider's notes is 10,001 characters long"),
        (
            ("Acme", "--website", "https://acme.example/\u202e"),
            "The website contains an invisible direction-changing",
        ),
    ],
)
def test_add_and_edit_refuse_text_the_gate_refuses(school, options, said):
    result = school.fails("provider", "add", *options)
    assert said in result.stderr
    assert "\x1b" not in result.stderr and "\x00" not in result.stderr
    school.ok("provider", "add", "Acme")
    name, *rest = options
    edit = ("--name", name) if not rest else tuple(rest)
    result = school.fails("provider", "edit", "Acme", *edit)
    assert said in result.stderr


def test_notes_keep_their_lines(school):
    school.ok("provider", "add", "Acme", "--notes", "Contract signed 2024\n\nDPA: on file  ")
    assert school.json("provider", "show", "Acme")["notes"] == "Contract signed 2024\n\nDPA: on file"


def test_a_lookup_with_control_characters_is_refused_without_echoing_it(school):
    result = school.fails("provider", "show", "Goo\x1b[2Jgle")
    assert "The provider name contains an escape character" in result.stderr
    assert "\x1b" not in result.stderr
