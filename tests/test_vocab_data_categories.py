"""Data categories: aliases, the register's "Data Shared" texts, and the special/sensitive flags."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cloudctl.vocab.data_categories import (
    ALL_CATEGORIES,
    Category,
    is_sensitive,
    is_special,
    lookup,
    parse_data_shared,
)

FIXTURE = Path(__file__).parent / "data" / "hunwick-cloud-service-providers.txt"

ALIASES = {
    "full name": ["full name", "name", "names", "pupil names", "student names", "full names", "Pupil's name"],
    "first name": ["first name", "forename", "Forenames", "first-name"],
    "surname initial": ["surname initial", "initial of surname", "Surname Initial"],
    "UPN": ["UPN", "upn", "UPNs", "unique pupil number"],
    "date of birth": ["DOB", "date of birth", "D.O.B", "d.o.b.", "Date Of Birth", "dates of birth"],
    "gender": ["gender", "sex", "Gender"],
    "class": ["class", "registration group", "reg group", "form", "Reg. Group", "classes"],
    "year group": ["year group", "year groups", "Year"],
    "photographs": ["photographs", "photos", "images", "pictures", "photo", "Images", "photograph"],
    "assessment data": ["assessment data", "assessment", "assessments"],
    "attendance": ["attendance", "attendance data"],
    "medical": ["medical", "medical information", "medical requirements", "health", "Medical Needs"],
    "SEN": ["SEN", "special educational needs", "SEND", "sen"],
    "contact details": ["contact details", "contact detail"],
    "address": ["address", "addresses", "home address"],
    "telephone numbers": ["telephone numbers", "phone numbers", "telephone", "telephone number"],
    "email addresses": ["email addresses", "email", "e-mail", "Email Address", "emails"],
    "parent/contact names": [
        "parent/contact names",
        "parent names",
        "contact names",
        "Parent / contact name",
    ],
    "pupil work": ["pupil work", "work/content", "Work / content", "student work"],
    "location data": ["geolocation", "Geo-location", "location"],
    "IP addresses": ["IP addresses", "ip address", "IP"],
    "bank details": ["bank details", "Bank account details"],
    "pupil identifiers": ["student identifiers", "Pupil ID", "usernames"],
}


def test_vocabulary_is_complete_and_in_order() -> None:
    assert [category.label for category in ALL_CATEGORIES] == list(ALIASES)
    assert len({category.key for category in ALL_CATEGORIES}) == len(ALL_CATEGORIES)
    for category in ALL_CATEGORIES:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", category.key), category.key


@pytest.mark.parametrize(
    ("label", "alias"), [(label, alias) for label, names in ALIASES.items() for alias in names]
)
def test_lookup_by_alias(label: str, alias: str) -> None:
    category = lookup(alias)
    assert category is not None and category.label == label


@pytest.mark.parametrize("category", ALL_CATEGORIES, ids=lambda category: category.key)
def test_lookup_by_key_and_label(category: Category) -> None:
    assert lookup(category.key) is category
    assert lookup(category.label) is category
    assert lookup(category.label.upper()) is category


@pytest.mark.parametrize(
    "name", ["", "statistical", "photos or names", "names and stuff", "full", "surname", "sent"]
)
def test_lookup_unknown_is_none(name: str) -> None:
    assert lookup(name) is None


def test_pupil_fields() -> None:
    fields = {category.label: category.pupil_field for category in ALL_CATEGORIES}
    assert fields == {
        "full name": "full_name",
        "first name": "forename",
        "surname initial": "surname_initial",
        "UPN": "upn",
        "date of birth": "dob",
        "gender": "gender",
        "class": "class_name",
        "year group": "year_group",
        "photographs": None,
        "assessment data": None,
        "attendance": None,
        "medical": None,
        "SEN": None,
        "contact details": None,
        "address": None,
        "telephone numbers": None,
        "email addresses": None,
        "parent/contact names": None,
        "pupil work": None,
        "location data": None,
        "IP addresses": None,
        "bank details": None,
        "pupil identifiers": None,
    }


def test_only_medical_is_special_and_medical_and_sen_are_sensitive() -> None:
    assert [category.label for category in ALL_CATEGORIES if category.special] == ["medical"]
    assert [category.label for category in ALL_CATEGORIES if category.sensitive] == ["medical", "SEN"]


@pytest.mark.parametrize(
    ("name", "special", "sensitive"),
    [
        ("medical", True, True),
        ("Health", True, True),
        ("medical requirements", True, True),
        ("SEN", False, True),
        ("special educational needs", False, True),
        ("full name", False, False),
        ("DOB", False, False),
        ("statistical", False, False),  # unrecognised phrases carry no flag
        ("", False, False),
    ],
)
def test_is_special_and_is_sensitive(name: str, special: bool, sensitive: bool) -> None:
    assert is_special(name) is special
    assert is_sensitive(name) is sensitive


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, []),
        ("", []),
        ("   ", []),
        ("none", []),
        ("None", []),
        ("N/A", []),
        (
            "full name, UPN, DOB, Gender, assessment data",
            ["full name", "UPN", "date of birth", "gender", "assessment data"],
        ),
        ("First name & Surname initial", ["first name", "surname initial"]),
        ("full name; DOB", ["full name", "date of birth"]),
        ("full name and DOB", ["full name", "date of birth"]),
        ("SEN and medical", ["SEN", "medical"]),
        ("photos or names", ["photographs", "full name"]),
        ("photos or notes synchronised using iCloud", ["photos or notes synchronised using iCloud"]),
        ("full name and other things", ["full name and other things"]),  # "and" splits only known parts
        ("special educational needs and disabilities", ["SEN"]),
        ("forename and surname", ["full name"]),
        ("names, full name, Names", ["full name"]),  # duplicates dropped, first order kept
        ("Statistical, DOB, statistical", ["Statistical", "date of birth"]),
        ("DOB, , ,UPN,", ["date of birth", "UPN"]),
        ("  Free text  ", ["Free text"]),
        ("DOB (for age checks, only), UPN", ["DOB (for age checks, only)", "UPN"]),  # no split in brackets
        ("notes (a; b & c) and DOB", ["notes (a; b & c) and DOB"]),
        ("name (first) and DOB", ["name (first) and DOB"]),
        ("stray ), DOB", ["stray )", "date of birth"]),
        ("unclosed (note, DOB", ["unclosed (note, DOB"]),
    ],
)
def test_parse_data_shared(text: str | None, expected: list[str]) -> None:
    assert parse_data_shared(text) == expected


HUNWICK = [
    (
        "Data Shared",
        "full name, UPN, DOB, Gender, assessment data",
        ["full name", "UPN", "date of birth", "gender", "assessment data"],
    ),
    ("Data Shared", "First name & Surname initial", ["first name", "surname initial"]),
    ("Data Shared", "full name", ["full name"]),
    ("Data Shared", "full name, class, assessment data", ["full name", "class", "assessment data"]),
    ("Data Shared", "full name, class", ["full name", "class"]),
    (
        "Data Shared",
        "full name, DOB, class, UPN, Gender",
        ["full name", "date of birth", "class", "UPN", "gender"],
    ),
    (
        "Data Shared",
        "full name, DOB, class, UPN, Gender, Images",
        ["full name", "date of birth", "class", "UPN", "gender", "photographs"],
    ),
    (
        "Data Shared",
        "full name, details of students stored or transmitted in files or mentioned in emails "
        "(subject to data protection policy conditions)",
        [
            "full name",
            "details of students stored or transmitted in files or mentioned in emails "
            "(subject to data protection policy conditions)",
        ],
    ),
    (
        "Data shared",
        "pupil names, DOB, contact details, attendance data, SEN, medical, statistical",
        ["full name", "date of birth", "contact details", "attendance", "SEN", "medical", "statistical"],
    ),
    (
        "Data shared",
        "all student information, all school information, communications",
        ["all student information", "all school information", "communications"],
    ),
    (
        "Data Shared",
        "full name, address, telephone numbers, email addresses, parent/contact names",
        ["full name", "address", "telephone numbers", "email addresses", "parent/contact names"],
    ),
    (
        "Data Shared",
        "Data will be entered by parents (School will only access for info)",
        ["Data will be entered by parents (School will only access for info)"],
    ),
    (
        "Data Shared",
        "full name, medical requirements, details of swimming assessment",
        ["full name", "medical", "details of swimming assessment"],
    ),
    (
        "Data Shared",
        "full name, class, DOB, photographs, assessment data",
        ["full name", "class", "date of birth", "photographs", "assessment data"],
    ),
    ("Data Shared", "full name, class, DOB", ["full name", "class", "date of birth"]),
    (
        "Potential data shared",
        "photos or notes synchronised using iCloud",
        ["photos or notes synchronised using iCloud"],
    ),
    ("Potential data shared", "none", []),
    ("Potential data shared", "photos or names", ["photographs", "full name"]),
    ("Potential data shared", "photos or names", ["photographs", "full name"]),
]


def test_every_data_shared_line_in_the_register() -> None:
    lines = re.findall(
        r"^((?:Potential )?[Dd]ata [Ss]hared): (.*)$", FIXTURE.read_text(encoding="utf-8"), re.M
    )
    # The fixture and the table must list the same lines in the same order, so neither can drift.
    assert [(field, text.strip()) for field, text in lines] == [(field, text) for field, text, _ in HUNWICK]
    assert [parse_data_shared(text) for _, text in lines] == [expected for _, _, expected in HUNWICK]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("photos, e mail, emial addresses", ["photographs", "email addresses"]),
        ("child name; contact details of parents", ["full name", "contact details"]),
        ("SEND information, medical and dietary needs", ["SEN", "medical"]),
        ("work/content, geolocation, IP addresses", ["pupil work", "location data", "IP addresses"]),
        ("bank details, student identifiers", ["bank details", "pupil identifiers"]),
        ("Student: name, email\nStaff: name, emails", ["full name", "email addresses"]),
    ],
)
def test_phrases_real_registers_use_are_recognised(text: str, expected: list[str]) -> None:
    assert parse_data_shared(text) == expected


def test_unrecognised_phrases_are_listed_as_written() -> None:
    from cloudctl.vocab.data_categories import unrecognised_phrases

    assert unrecognised_phrases("full name, reading age, Lexile score") == ["reading age", "Lexile score"]
    assert unrecognised_phrases("photos, emial") == []
