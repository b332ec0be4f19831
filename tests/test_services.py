"""`cloudctl service ...`: the register's entries."""

from __future__ import annotations

import pytest


@pytest.fixture
def school(cli):
    cli.ok("init", "--school", "Hunwick Primary School", "--years", "R,1-6")
    cli.ok("provider", "add", "Renaissance Learning")
    return cli


def add(cli, name: str, *options: str, category: str = "pupil", provider: str = "Renaissance Learning"):
    return cli.ok("service", "add", name, "--category", category, "--provider", provider, *options)


def test_add_and_show_a_service_with_every_field(school):
    result = add(
        school, "Accelerated Reader",
        "--purpose", "Reading assessment",
        "--data", "full name, UPN, DOB, Gender, assessment data",
        "--type", "Purchased",
        "--years", "Y2 - Y6",
        "--website", "http://www.renlearn.co.uk/accelerated-reader/",
        "--controls", "Staff accounts only",
        "--lawful-basis", "Public task",
        "--storage", "uk",
        "--storage-detail", "London data centre",
        "--retention", "Until the pupil leaves",
        "--privacy-url", "https://www.renaissance.com/privacy/",
        "--owner", "English lead",
        "--review-months", "24",
    )  # fmt: skip
    assert "awaiting assessment" in result.stderr
    assert 'cloudctl assess record "Accelerated Reader"' in result.stderr

    shown = school.json("service", "show", "Accelerated Reader")
    assert shown == {
        "name": "Accelerated Reader",
        "provider": "Renaissance Learning",
        "category": "pupil",
        "purpose": "Reading assessment",
        "data_shared": ["full name", "UPN", "date of birth", "gender", "assessment data"],
        "data_shared_text": "full name, UPN, DOB, Gender, assessment data",
        "special_category_data": [],
        "sensitive_data": [],
        "service_type": "Purchased",
        "year_groups": ["2", "3", "4", "5", "6"],
        "selected_only": False,
        "year_groups_text": "Y2 - Y6",
        "status": "awaiting-assessment",
        "website": "http://www.renlearn.co.uk/accelerated-reader/",
        "controls": "Staff accounts only",
        "last_assessed": None,
        "last_outcome": None,
        "review_due": None,
        "review_months": 24,
        "lawful_basis": "Public task",
        "special_category_condition": None,
        "storage_location": "UK",
        "storage_detail": "London data centre",
        "retention": "Until the pupil leaves",
        "privacy_url": "https://www.renaissance.com/privacy/",
        "owner": "English lead",
        "other_fields": {},
    }


def test_show_as_a_table_for_people(school):
    add(school, "My Maths", "--purpose", "Maths", "--data", "full name, class", "--years", "All")
    result = school.ok("service", "show", "My Maths")
    assert "Service: My Maths" in result.stdout
    assert "full name, class" in result.stdout
    assert "awaiting-assessment" in result.stdout


@pytest.mark.parametrize(
    ("written", "categories"),
    [
        ("full name, UPN, DOB", ["full name", "UPN", "date of birth"]),
        ("Full Name; date of birth; D.O.B.", ["full name", "date of birth"]),
        ("First name & Surname initial", ["first name", "surname initial"]),
        ("pupil names, Images", ["full name", "photographs"]),
        ("photos or names", ["photographs", "full name"]),
        ("full name, statistical", ["full name", "statistical"]),
        ("Data will be entered by parents (School will only access for info)",
         ["Data will be entered by parents (School will only access for info)"]),
        ("none", []),
        ("", []),
    ],
)  # fmt: skip
def test_the_data_shared_is_read_into_categories(school, written, categories):
    add(school, "Service", "--data", written)
    shown = school.json("service", "show", "Service")
    assert shown["data_shared"] == categories
    assert shown["data_shared_text"] == written


def test_health_is_special_category_and_sen_sensitive(school):
    add(school, "Swimphony", "--data", "full name, medical requirements, SEN, details of swimming assessment")
    shown = school.json("service", "show", "Swimphony")
    assert shown["data_shared"] == ["full name", "medical", "SEN", "details of swimming assessment"]
    assert shown["special_category_data"] == ["medical"]
    assert shown["sensitive_data"] == ["medical", "SEN"]


@pytest.mark.parametrize(
    ("written", "codes", "selected"),
    [
        ("All", ["R", "1", "2", "3", "4", "5", "6"], False),
        ("Y2 - Y6", ["2", "3", "4", "5", "6"], False),
        ("Y1 to Y6", ["1", "2", "3", "4", "5", "6"], False),
        ("EYFS", ["N1", "N2", "R"], False),
        ("Year 3, Year 4", ["3", "4"], False),
        ("Selected Students", [], True),
        ("Selected Children (Subject to individual consent)", [], True),
        ("Students taking part in swimming lessons", [], True),
        ("No children enrolled by school", [], False),
        ("", [], False),
    ],
)
def test_year_groups_are_read_and_kept_as_written(school, written, codes, selected):
    add(school, "Service", "--years", written)
    shown = school.json("service", "show", "Service")
    assert shown["year_groups"] == codes
    assert shown["selected_only"] is selected
    assert shown["year_groups_text"] == written


def test_unreadable_year_groups_are_refused(school):
    result = school.fails(
        "service", "add", "Service", "-c", "pupil", "-p", "Renaissance Learning", "--years", "Y9-Y2"
    )
    assert "Y9-Y2" in result.stderr


def test_the_same_name_may_be_in_two_categories(school):
    school.ok("provider", "add", "Google")
    add(
        school,
        "Google G Suite for Education",
        "--purpose",
        "Chromebook logins",
        category="pupil",
        provider="Google",
    )
    add(
        school, "Google G Suite for Education", "--purpose", "email", category="management", provider="Google"
    )
    rows = school.json("service", "list")
    assert [(row["name"], row["category"], row["purpose"]) for row in rows] == [
        ("Google G Suite for Education", "pupil", "Chromebook logins"),
        ("Google G Suite for Education", "management", "email"),
    ]


def test_the_same_name_twice_in_one_category_is_refused(school):
    add(school, "My Maths")
    result = school.fails("service", "add", "my maths", "-c", "pupil", "-p", "Renaissance Learning")
    assert "already" in result.stderr
    assert "service edit" in result.stderr


def test_an_ambiguous_name_asks_for_the_category(school):
    school.ok("provider", "add", "Google")
    add(school, "Google G Suite for Education", category="pupil", provider="Google")
    add(school, "Google G Suite for Education", category="management", provider="Google")
    for command in (
        ("service", "show", "Google G Suite for Education"),
        ("service", "edit", "Google G Suite for Education", "--purpose", "x"),
        ("service", "retire", "Google G Suite for Education"),
    ):
        result = school.fails(*command)
        assert "--category pupil" in result.stderr
        assert "--category management" in result.stderr
    assert (
        school.json("service", "show", "Google G Suite for Education", "--category", "management")["category"]
        == "management"
    )


def test_a_service_needs_a_known_provider(school):
    result = school.fails("service", "add", "ClassDojo", "-c", "pupil", "-p", "Class Twist Inc")
    assert "'Class Twist Inc'" in result.stderr
    assert "--create-provider" in result.stderr

    result = school.fails("service", "add", "ClassDojo", "-c", "pupil")
    assert "--provider" in result.stderr

    result = school.fails("service", "add", "Reader", "-c", "pupil", "-p", "Renaisance Learning")
    assert "Did you mean 'Renaissance Learning'?" in result.stderr


def test_create_provider_adds_the_provider_too(school):
    school.ok("service", "add", "ClassDojo", "-c", "pupil", "-p", "Class Twist Inc", "--create-provider")
    assert [row["name"] for row in school.json("provider", "list")] == [
        "Class Twist Inc",
        "Renaissance Learning",
    ]


def test_an_unknown_category_is_refused_naming_what_is_accepted(school):
    result = school.fails("service", "add", "My Maths", "-c", "teachers", "-p", "Renaissance Learning")
    assert '"teachers"' in result.stderr
    assert "pupil, management, other, statutory" in result.stderr


def test_category_aliases_are_accepted(school):
    add(school, "Cool Milk", category="School Management")
    assert school.json("service", "show", "Cool Milk")["category"] == "management"


def test_a_bad_storage_location_or_address_is_refused(school):
    result = school.fails(
        "service", "add", "X", "-c", "pupil", "-p", "Renaissance Learning", "--storage", "Mars"
    )
    assert '"Mars"' in result.stderr and "UK, EEA or elsewhere" in result.stderr
    result = school.fails(
        "service", "add", "X", "-c", "pupil", "-p", "Renaissance Learning", "--website", "renlearn"
    )
    assert '"renlearn"' in result.stderr
    result = school.fails(
        "service", "add", "X", "-c", "pupil", "-p", "Renaissance Learning", "--privacy-url", "privacy.html"
    )
    assert "privacy policy address" in result.stderr


def test_an_impossible_review_interval_is_refused(school):
    result = school.fails(
        "service", "add", "X", "-c", "pupil", "-p", "Renaissance Learning", "--review-months", "0"
    )
    assert "0 months" in result.stderr


def test_edit_changes_only_the_options_given(school):
    add(
        school,
        "My Maths",
        "--purpose",
        "Maths",
        "--data",
        "full name",
        "--years",
        "All",
        "--type",
        "Purchased",
    )
    result = school.ok("service", "edit", "My Maths", "--data", "full name, class", "--owner", "Maths lead")
    assert "Updated 'My Maths' (pupil)" in result.stderr
    shown = school.json("service", "show", "My Maths")
    assert shown["data_shared"] == ["full name", "class"]
    assert shown["owner"] == "Maths lead"
    assert (shown["purpose"], shown["year_groups_text"], shown["service_type"]) == (
        "Maths",
        "All",
        "Purchased",
    )


def test_edit_with_the_same_values_changes_nothing(school):
    add(school, "My Maths", "--purpose", "Maths")
    before = school.snapshot()
    result = school.ok("service", "edit", "My Maths", "--purpose", "Maths")
    assert "Nothing changed" in result.stderr
    assert school.snapshot() == before


def test_edit_can_rename_move_and_change_provider(school):
    school.ok("provider", "add", "Oxford University Press")
    add(school, "MyMaths")
    school.ok(
        "service", "edit", "MyMaths", "--name", "My Maths", "--move-to", "management",
        "--provider", "Oxford University Press",
    )  # fmt: skip
    shown = school.json("service", "show", "My Maths")
    assert (shown["name"], shown["category"], shown["provider"]) == (
        "My Maths",
        "management",
        "Oxford University Press",
    )
    school.fails("service", "show", "MyMaths")


def test_edit_refuses_to_clash_with_another_entry(school):
    add(school, "My Maths", category="pupil")
    add(school, "My Maths", category="management")
    result = school.fails("service", "edit", "My Maths", "--category", "pupil", "--move-to", "management")
    assert "already in the management category" in result.stderr


def test_edit_can_clear_optional_fields(school):
    add(
        school,
        "My Maths",
        "--website",
        "https://www.mymaths.co.uk/",
        "--owner",
        "Maths lead",
        "--controls",
        "x",
    )
    school.ok("service", "edit", "My Maths", "--website", "", "--owner", "", "--controls", "")
    shown = school.json("service", "show", "My Maths")
    assert (shown["website"], shown["owner"], shown["controls"]) == (None, None, None)


def test_list_filters_by_category_and_status(school):
    add(school, "Accelerated Reader", category="pupil")
    add(school, "SIMS", category="management")
    add(school, "Kindle", category="other")
    school.ok("assess", "record", "SIMS", "--date", "2025-01-10", "--by", "J Bloggs", "--outcome", "approved")

    def names(*options):
        return [row["name"] for row in school.json("service", "list", *options)]

    assert names() == ["Accelerated Reader", "SIMS", "Kindle"]  # the register's order: pupil first
    assert names("--category", "management") == ["SIMS"]
    assert names("--status", "approved") == ["SIMS"]
    assert names("--status", "awaiting-assessment") == ["Accelerated Reader", "Kindle"]
    assert names("--category", "other", "--status", "awaiting assessment") == ["Kindle"]


def test_list_refuses_an_unknown_status_or_category(school):
    result = school.fails("service", "list", "--status", "pending")
    assert '"pending"' in result.stderr and "awaiting-assessment" in result.stderr
    result = school.fails("service", "list", "--category", "parents-evening")
    assert '"parents-evening"' in result.stderr


def test_an_empty_list_says_so_on_stderr(school):
    result = school.ok("service", "list")
    assert result.stdout == ""
    assert "No services" in result.stderr


def test_retire_keeps_the_service_and_hides_it_from_lists(school):
    add(school, "Accelerated Reader")
    add(school, "ClassDojo")
    school.ok(
        "assess", "record", "ClassDojo", "--date", "2016-12-01", "--by", "J Bloggs", "--outcome", "approved"
    )
    result = school.ok("service", "retire", "ClassDojo")
    assert "Retired 'ClassDojo'" in result.stderr

    assert [row["name"] for row in school.json("service", "list")] == ["Accelerated Reader"]
    assert [row["name"] for row in school.json("service", "list", "--all")] == [
        "Accelerated Reader",
        "ClassDojo",
    ]
    assert [row["name"] for row in school.json("service", "list", "--status", "retired")] == ["ClassDojo"]
    shown = school.json("service", "show", "ClassDojo")
    assert shown["status"] == "retired"
    assert shown["last_assessed"] == "2016-12-01"
    assert len(school.json("assess", "history", "ClassDojo")) == 1


def test_retiring_twice_is_refused(school):
    add(school, "ClassDojo")
    school.ok("service", "retire", "ClassDojo")
    result = school.fails("service", "retire", "ClassDojo")
    assert "already retired" in result.stderr


def test_a_misspelt_name_gets_the_closest_names_suggested(school):
    add(school, "My Maths")
    add(school, "Times Tables Rock Stars")
    for command in (("show", "My Math"), ("edit", "My Math", "--owner", "x"), ("retire", "My Math")):
        result = school.fails("service", *command)
        assert "There is no service called 'My Math'" in result.stderr
        assert "'My Maths'" in result.stderr
    result = school.fails("service", "show", "times tables")
    assert "'Times Tables Rock Stars'" in result.stderr


def test_an_unknown_name_in_a_category_says_so(school):
    add(school, "My Maths", category="pupil")
    result = school.fails("service", "show", "My Maths", "--category", "management")
    assert "in the management category" in result.stderr


# --- the text gate ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--purpose", "Maths\x00games", "The purpose contains a NUL character (U+0000) at character 6"),
        ("--data", "full name, \x1b[2Jclass", "The data shared contains an escape character (U+001B"),
        ("--controls", "Staff only\u202e", "The controls contains an invisible direction-changing character"),
        (
            "--type",
            "Purchased\nFree",
            "The service type contains a line break (U+000A) at character 10 (it must be one line)",
        ),
        ("--years", "All\x07", "The year groups contains a control character (U+0007)"),
        ("--website", "https://x.example/\x00", "The website contains a NUL character"),
        ("--lawful-basis", "Public\ntask", "The lawful basis contains a line break"),
        (
            "--storage-detail",
            "x" * 501,
            "The storage detail is 501 characters long, and cloudctl keeps at most 500",
        ),
        ("--retention", "\x1b]8;;https://evil\x07", "The retention contains an escape character"),
        ("--owner", "y" * 201, "The owner is 201 characters long, and cloudctl keeps at most 200"),
        (
            "--purpose",
            "z" * 10_001,
            "The purpose is 10,001 characters long, and cloudctl keeps at most 10,000",
        ),
        ("--provider", "Renaissance\x00Learning", "The provider name contains a NUL character"),
    ],
)
def test_add_and_edit_refuse_text_the_gate_refuses(school, option, value, said):
    result = school.fails(
        "service",
        "add",
        "My Maths",
        "--category",
        "pupil",
        "--provider",
        "Renaissance Learning",
        option,
        value,
    )
    assert said in result.stderr
    add(school, "My Maths")
    result = school.fails("service", "edit", "My Maths", option, value)
    assert said in result.stderr
    assert "\x1b" not in result.stderr and "\x00" not in result.stderr


def test_prose_fields_keep_their_lines_and_one_line_fields_fold_spaces(school):
    add(
        school,
        "My Maths",
        "--purpose",
        "  Homework\r\n\n  and games  \n",
        "--type",
        "  Purchased \t (annual) ",
    )
    shown = school.json("service", "show", "My Maths")
    assert shown["purpose"] == "Homework\n\n  and games"
    assert shown["service_type"] == "Purchased (annual)"


@pytest.mark.parametrize("command", [("show",), ("edit", "--purpose", "x"), ("retire",)])
def test_a_name_with_control_characters_is_refused_without_echoing_it(school, command):
    add(school, "My Maths")
    verb, *options = command
    result = school.fails("service", verb, "My\x1b[31mMaths", *options)
    assert "The service name contains an escape character" in result.stderr
    assert "\x1b" not in result.stderr
    result = school.fails("service", "add", "My\x00Maths", "-c", "pupil", "-p", "Renaissance Learning")
    assert "The service name contains a NUL character" in result.stderr
    result = school.fails("service", "edit", "My Maths", "--name", "x" * 201)
    assert "The service name is 201 characters long" in result.stderr
