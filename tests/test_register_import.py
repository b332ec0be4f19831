"""`cloudctl register import` and `register publish`, through the command line on a real database."""

from __future__ import annotations

import json
import os
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from cloudctl.importers.register_document import parse_register_document
from tests.conftest import HUNWICK

ALL_YEARS = ["R", "1", "2", "3", "4", "5", "6"]
OTHER_CONTROLS = "Used subject to the school acceptable use policy. No student info is allowed to be shared."
PUBLISHED_CONTROLS = (
    "All information published is subject to school policies. "
    "Explicit permission will be sought before publishing images of students."
)
PRIVACY = "http://hunwickprimary.org.uk/privacy"
GOOGLE = "Google G Suite for Education"

# Every entry of the fixture as written: (name, category, provider, website, purpose, data shared as written,
# service type, year groups as written, risk assessment date).
WRITTEN = [
    (
        "Accelerated Reader",
        "pupil",
        "Renaissance Learning",
        "http://www.renlearn.co.uk/accelerated-reader/",
        "Reading assessment",
        "full name, UPN, DOB, Gender, assessment data",
        "Purchased",
        "Y2 - Y6",
        "2018-03-01",
    ),
    (
        "ClassDojo",
        "pupil",
        "Class Twist Inc",
        "https://www.classdojo.com",
        "Behaviour management",
        "First name & Surname initial",
        "Free",
        "All",
        "2016-12-01",
    ),
    (
        GOOGLE,
        "pupil",
        "Google",
        "https://www.google.co.uk/edu/",
        "email, apps, file storage, learning platform, Chromebook logins",
        "full name",
        "Free",
        "All",
        "2016-12-01",
    ),
    (
        "Lexia Core 5",
        "pupil",
        "Lexia Reading (Rosetta Stone)",
        "http://www.lexialearning.com/products/core5",
        "Reading assessment and resources",
        "full name, class, assessment data",
        "Purchased",
        "Selected Students",
        "2016-12-01",
    ),
    (
        "My Maths",
        "pupil",
        "Oxford University Press",
        "https://www.mymaths.co.uk/",
        "Maths assessment and resources",
        "full name, class",
        "Purchased",
        "All",
        "2018-05-01",
    ),
    (
        "Times Tables Rock Stars",
        "pupil",
        "Maths Circle Ltd",
        "https://ttrockstars.com/",
        "Maths assessment and resources",
        "full name, DOB, class, UPN, Gender",
        "Purchased",
        "Y1 to Y6",
        "2019-09-01",
    ),
    (
        "Mable",
        "pupil",
        "Mable Therapy Ltd",
        "https://mabletherapy.com",
        "Speech and Language Therapy",
        "full name, DOB, class, UPN, Gender, Images",
        "Purchased",
        "Selected Children (Subject to individual consent)",
        "2019-09-01",
    ),
    (
        GOOGLE,
        "management",
        "Google",
        "https://www.google.co.uk/edu/",
        "email, apps, file storage, learning platform",
        "full name, details of students stored or transmitted in files or mentioned in emails "
        "(subject to data protection policy conditions)",
        "Free",
        "All",
        "2016-12-01",
    ),
    (
        "SIMS",
        "management",
        "Capita",
        "http://www.capita-sims.co.uk/",
        "registration on mobile devices",
        "pupil names, DOB, contact details, attendance data, SEN, medical, statistical",
        "Purchased",
        "All",
        "2016-12-01",
    ),
    (
        "Durham County Council",
        "management",
        "Durham County Council",
        "http://www.durham.gov.uk/article/2259/Privacy-and-data-protection",
        "Local authority school management systems, email",
        "all student information, all school information, communications",
        "Government",
        "All",
        "2016-12-01",
    ),
    (
        "SchoolComms",
        "management",
        "Isuz Ltd. trading as Schoolcomms",
        "https://schoolcomms.com/",
        "Messaging, payments",
        "full name, address, telephone numbers, email addresses, parent/contact names",
        "Purchased",
        "All",
        "2016-12-01",
    ),
    (
        "Cool Milk",
        "management",
        "Cool Milk at School Ltd",
        "http://www.coolmilk.com",
        "Milk management",
        "Data will be entered by parents (School will only access for info)",
        "External",
        "No children enrolled by school",
        "2018-03-01",
    ),
    (
        "Swimphony",
        "management",
        "Kinetic Insight Ltd",
        "http://kinetic-insight.com/swimphony/",
        "School swimming programme management",
        "full name, medical requirements, details of swimming assessment",
        "Purchased (Contract through local authority)",
        "Students taking part in swimming lessons",
        None,
    ),
    (
        "2 Build a Profile",
        "management",
        "2 Simple Software",
        "https://www.2simple.com/2buildaprofile",
        "EYFS Assessment",
        "full name, class, DOB, photographs, assessment data",
        "Purchased",
        "EYFS",
        "2018-04-01",
    ),
    (
        "Speech Link",
        "management",
        "Speech Link Multimedia",
        "https://speechlink.co.uk/auth/login",
        "EYFS/KS1 Speech and Language Assessment",
        "full name, class, DOB",
        "Purchased",
        "",
        "2018-04-01",
    ),
    (
        "iPads/iCloud",
        "other",
        "Apple",
        "http://www.apple.com/uk/icloud/",
        "",
        "photos or notes synchronised using iCloud",
        "",
        "",
        "2016-12-01",
    ),
    ("Kindle", "other", "Amazon", "https://www.amazon.co.uk/", "", "none", "", "", "2016-12-01"),
    (
        "School Website",
        "other",
        "GoDaddy, Hunwick Primary School",
        PRIVACY,
        "",
        "photos or names",
        "",
        "",
        "2016-12-01",
    ),
    (
        "Social Media",
        "other",
        "Facebook, Twitter, Youtube, Hunwick Primary School",
        PRIVACY,
        "",
        "photos or names",
        "",
        "",
        "2016-12-01",
    ),
]

# What cloudctl reads from each entry: data categories, year codes, selected pupils only.
READ = {
    ("Accelerated Reader", "pupil"): (
        ["full name", "UPN", "date of birth", "gender", "assessment data"],
        ["2", "3", "4", "5", "6"],
        False,
    ),
    ("ClassDojo", "pupil"): (["first name", "surname initial"], ALL_YEARS, False),
    (GOOGLE, "pupil"): (["full name"], ALL_YEARS, False),
    ("Lexia Core 5", "pupil"): (["full name", "class", "assessment data"], [], True),
    ("My Maths", "pupil"): (["full name", "class"], ALL_YEARS, False),
    ("Times Tables Rock Stars", "pupil"): (
        ["full name", "date of birth", "class", "UPN", "gender"],
        ["1", "2", "3", "4", "5", "6"],
        False,
    ),
    ("Mable", "pupil"): (["full name", "date of birth", "class", "UPN", "gender", "photographs"], [], True),
    (GOOGLE, "management"): (
        [
            "full name",
            "details of students stored or transmitted in files or mentioned in emails (subject to data "
            "protection policy conditions)",
        ],
        ALL_YEARS,
        False,
    ),
    ("SIMS", "management"): (
        ["full name", "date of birth", "contact details", "attendance", "SEN", "medical", "statistical"],
        ALL_YEARS,
        False,
    ),
    ("Durham County Council", "management"): (
        ["all student information", "all school information", "communications"],
        ALL_YEARS,
        False,
    ),
    ("SchoolComms", "management"): (
        ["full name", "address", "telephone numbers", "email addresses", "parent/contact names"],
        ALL_YEARS,
        False,
    ),
    ("Cool Milk", "management"): (
        ["Data will be entered by parents (School will only access for info)"],
        [],
        False,
    ),
    ("Swimphony", "management"): (["full name", "medical", "details of swimming assessment"], [], True),
    ("2 Build a Profile", "management"): (
        ["full name", "class", "date of birth", "photographs", "assessment data"],
        ["N1", "N2", "R"],
        False,
    ),
    ("Speech Link", "management"): (["full name", "class", "date of birth"], [], False),
    ("iPads/iCloud", "other"): (["photos or notes synchronised using iCloud"], [], False),
    ("Kindle", "other"): ([], [], False),
    ("School Website", "other"): (["photographs", "full name"], [], False),
    ("Social Media", "other"): (["photographs", "full name"], [], False),
}


def show(cli, name: str, category: str) -> dict:
    return cli.json("service", "show", name, "--category", category)


def test_the_fixture_imports_19_entries_in_three_sections(hunwick_cli):
    services = hunwick_cli.json("service", "list")
    assert len(services) == 19
    by_category = {category: [row["name"] for row in services if row["category"] == category] for category in
                   ("pupil", "management", "other", "statutory")}  # fmt: skip
    assert {category: len(names) for category, names in by_category.items()} == {
        "pupil": 7,
        "management": 8,
        "other": 4,
        "statutory": 0,
    }
    # In the document's order.
    assert [(row["name"], row["category"]) for row in services] == [(entry[0], entry[1]) for entry in WRITTEN]


@pytest.mark.parametrize("entry", WRITTEN, ids=[f"{entry[0]}-{entry[1]}" for entry in WRITTEN])
def test_each_field_is_as_written(hunwick_cli, entry):
    name, category, provider, website, purpose, data, service_type, years, assessed = entry
    shown = show(hunwick_cli, name, category)
    assert shown["name"] == name
    assert shown["category"] == category
    assert shown["provider"] == provider
    assert shown["website"] == website
    assert shown["purpose"] == purpose
    assert shown["data_shared_text"] == data
    assert shown["service_type"] == service_type
    assert shown["year_groups_text"] == years
    assert shown["last_assessed"] == assessed
    if assessed is None:
        assert (shown["status"], shown["last_outcome"], shown["review_due"]) == (
            "awaiting-assessment",
            None,
            None,
        )
    else:
        assert (shown["status"], shown["last_outcome"]) == ("approved", "approved")
    if category == "other":
        assert shown["controls"] == (
            PUBLISHED_CONTROLS if provider.endswith("Primary School") else OTHER_CONTROLS
        )
    else:
        assert shown["controls"] is None
    categories, codes, selected = READ[name, category]
    assert shown["data_shared"] == categories
    assert shown["year_groups"] == codes
    assert shown["selected_only"] is selected


def test_the_school_name_title_and_providers_are_imported(hunwick_cli):
    providers = hunwick_cli.json("provider", "list")
    assert len(providers) == 18  # Google provides two entries
    assert {row["name"]: row["services"] for row in providers}["Google"] == 2


def test_the_imported_assessments_say_where_they_came_from(hunwick_cli):
    (assessment,) = hunwick_cli.json("assess", "history", "My Maths")
    assert assessment["assessed_on"] == "2018-05-01"
    assert assessment["outcome"] == "approved"
    assert "register" in assessment["assessed_by"].lower()
    assert hunwick_cli.json("assess", "history", "Swimphony") == []


def test_import_reports_each_entry_added(cli):
    cli.ok("init")
    result = cli.ok("register", "import", str(HUNWICK), "--format", "json")
    changes = json.loads(result.stdout)
    entries = [change for change in changes if change["part"] == "entry"]
    assert len(entries) == 19
    assert {change["action"] for change in entries} == {"added"}
    # In the document's order: its own text, then each section's, then the section's entries.
    assert changes[:3] == [
        {
            "action": "updated",
            "part": "document",
            "service": None,
            "category": None,
            "fields": ["school name", "opening text"],  # `init` gave no school name
        },
        {
            "action": "added",
            "part": "section",
            "service": None,
            "category": "pupil",
            "fields": ["heading", "introduction"],
        },
        {
            "action": "added",
            "part": "entry",
            "service": "Accelerated Reader",
            "category": "pupil",
            "fields": ["risk assessment"],
        },
    ]
    assert [change["category"] for change in changes if change["part"] == "section"] == [
        "pupil",
        "management",
        "other",
        "statutory",
    ]
    assert "19 added, 0 updated, 0 unchanged" in result.stderr


def test_importing_again_updates_instead_of_duplicating(hunwick_cli):
    before = hunwick_cli.snapshot()
    result = hunwick_cli.ok("register", "import", str(HUNWICK), "--format", "json")
    assert "0 added, 0 updated, 19 unchanged" in result.stderr
    after = hunwick_cli.snapshot()
    for table in ("service", "provider", "risk_assessment", "register_section", "school_settings"):
        assert after[table] == before[table], f"a second import changed {table}"


def edited_fixture(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    text = HUNWICK.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "edited-register.txt"
    path.write_text(text, encoding="utf-8")
    return path


EDITS = (
    (
        "Purpose: Maths assessment and resources\nData Shared: full name, class\n",
        "Purpose: Maths homework\nData Shared: full name, class\n",
    ),
    ("Risk assessment date: September 2019\n\nMable", "Risk assessment date: October 2025\n\nMable"),
    (
        "Other Online Services\n",
        "Seesaw\n\nService Provider: Seesaw Learning Inc\n\nWebsite: <https://web.seesaw.me>\n\n"
        "Purpose: Learning journal\n\n"
        "Data Shared: full name, photographs\n\nService Type: Free\n\nYear Groups Enrolled: EYFS\n\n"
        "Risk assessment date: Awaiting Assessment (Not currently approved for use)\n\n"
        "Other Online Services\n",
    ),
)


def test_importing_an_edited_register_updates_by_name_and_section(hunwick_cli, tmp_path):
    path = edited_fixture(tmp_path, *EDITS)
    changes = hunwick_cli.json("register", "import", str(path))
    changed = {(row["service"], row["category"]): row for row in changes if row["action"] != "unchanged"}
    assert changed == {
        ("My Maths", "pupil"): {
            "action": "updated",
            "part": "entry",
            "service": "My Maths",
            "category": "pupil",
            "fields": ["purpose"],
        },
        ("Times Tables Rock Stars", "pupil"): {
            "action": "updated",
            "part": "entry",
            "service": "Times Tables Rock Stars",
            "category": "pupil",
            "fields": ["risk assessment"],
        },
        ("Seesaw", "management"): {
            "action": "added",
            "part": "entry",
            "service": "Seesaw",
            "category": "management",
            "fields": [],
        },
    }
    assert len(hunwick_cli.json("service", "list")) == 20
    assert show(hunwick_cli, "My Maths", "pupil")["purpose"] == "Maths homework"
    # The earlier assessment is kept: history is never overwritten.
    history = hunwick_cli.json("assess", "history", "Times Tables Rock Stars")
    assert [row["assessed_on"] for row in history] == ["2019-09-01", "2025-10-01"]
    assert show(hunwick_cli, "Seesaw", "management")["status"] == "awaiting-assessment"


def test_importing_an_older_assessment_does_not_undo_a_newer_one(hunwick_cli, tmp_path):
    hunwick_cli.ok(
        "assess", "record", "My Maths", "--date", "2025-09-01", "--by", "J Bloggs", "--outcome", "approved"
    )
    path = edited_fixture(
        tmp_path, ("Risk assessment date: May 2018", "Risk assessment date: May 2017 (Not approved for use)")
    )
    hunwick_cli.ok("register", "import", str(path))
    shown = show(hunwick_cli, "My Maths", "pupil")
    assert (shown["status"], shown["last_assessed"]) == ("approved", "2025-09-01")
    history = hunwick_cli.json("assess", "history", "My Maths")
    assert [(row["assessed_on"], row["outcome"]) for row in history] == [
        ("2017-05-01", "rejected"),
        ("2018-05-01", "approved"),
        ("2025-09-01", "approved"),
    ]


def test_a_dry_run_lists_the_changes_and_writes_nothing(hunwick_cli, tmp_path):
    path = edited_fixture(tmp_path, *EDITS)
    before = hunwick_cli.snapshot()
    result = hunwick_cli.ok("register", "import", str(path), "--dry-run", "--format", "json")
    assert hunwick_cli.snapshot() == before
    changes = [row for row in json.loads(result.stdout) if row["action"] != "unchanged"]
    assert [(row["action"], row["service"]) for row in changes] == [
        ("updated", "My Maths"),
        ("updated", "Times Tables Rock Stars"),
        ("added", "Seesaw"),
    ]
    assert "Dry run: 1 added, 2 updated, 17 unchanged. Nothing was written." in result.stderr

    table = hunwick_cli.ok("register", "import", str(path), "--dry-run")
    assert "dry run" in table.stdout
    assert hunwick_cli.snapshot() == before


def test_a_dry_run_on_a_new_register_writes_no_services(cli):
    cli.ok("init")
    before = cli.snapshot()
    result = cli.ok("register", "import", str(HUNWICK), "--dry-run")
    assert "19 added" in result.stderr
    assert cli.snapshot() == before


def test_an_import_is_one_transaction(hunwick_cli, tmp_path):
    # The last entry has an impossible date: nothing before it may be written either.
    path = edited_fixture(
        tmp_path,
        ("Purpose: Maths assessment and resources\nData Shared: full name, class\n",
         "Purpose: Maths homework\nData Shared: full name, class\n"),
        ("Risk assessment date: December 2016\n\nLegal", "Risk assessment date: 31/02/2016\n\nLegal"),
    )  # fmt: skip
    result = hunwick_cli.fails("register", "import", str(path))
    assert "31/02/2016" in result.stderr
    assert "Social Media" in result.stderr  # names the entry
    assert "line " in result.stderr


def test_an_unparseable_document_is_refused_and_nothing_written(cli, tmp_path):
    cli.ok("init")
    path = tmp_path / "notes.txt"
    path.write_text("Shopping list\nMilk\nBread\n", encoding="utf-8")
    result = cli.fails("register", "import", str(path))
    assert "Nothing in the file could be read as a service" in result.stderr
    assert "found 3 lines of prose" in result.stderr
    assert "Services for Pupils or Parents" in result.stderr


def test_an_entry_without_a_provider_is_refused_with_its_line(cli, tmp_path):
    cli.ok("init")
    path = tmp_path / "register.txt"
    path.write_text(
        "Hunwick Primary School\nCloud Service Providers\n\nServices for Pupils or Parents\n\n"
        "My Maths\nPurpose: Maths\nData Shared: full name\n",
        encoding="utf-8",
    )
    result = cli.fails("register", "import", str(path))
    assert "line 6" in result.stderr
    assert "Service Provider:" in result.stderr


def test_a_missing_file_or_a_folder_is_refused(cli, tmp_path):
    cli.ok("init")
    result = cli.fails("register", "import", str(tmp_path / "nowhere.txt"))
    assert "nowhere.txt" in result.stderr
    result = cli.fails("register", "import", str(tmp_path))
    assert "folder" in result.stderr


def test_a_windows_file_with_crlf_and_a_bom_imports_the_same(cli, tmp_path):
    cli.ok("init")
    path = tmp_path / "register-windows.txt"
    text = HUNWICK.read_text(encoding="utf-8").replace("Twist Inc", "Twist Inc – Zoë")
    path.write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    cli.ok("register", "import", str(path))
    assert show(cli, "ClassDojo", "pupil")["provider"] == "Class Twist Inc – Zoë"
    assert len(cli.json("service", "list")) == 19


def test_labels_beyond_the_document_are_kept_and_published(cli, tmp_path):
    cli.ok("init")
    path = tmp_path / "register.txt"
    path.write_text(
        "Low Fell Primary\nOnline services\n\nServices for Pupils or Parents\n\n"
        "Tapestry\nService Provider: The Foundation Stage Forum\nWebsite: <https://tapestry.info>\n"
        "Purpose: Learning journal\nData Shared: full name, photographs, medical\nService Type: Purchased\n"
        "Year Groups Enrolled: EYFS\nLawful basis: Consent\nRetention: Two years after leaving\n"
        "Privacy Policy: https://tapestry.info/privacy\nData processing agreement: signed 2024\n"
        "Risk assessment date: 14 March 2024 (Not approved for use)\n",
        encoding="utf-8",
    )
    cli.ok("register", "import", str(path))
    shown = show(cli, "Tapestry", "pupil")
    assert (shown["lawful_basis"], shown["retention"], shown["privacy_url"]) == (
        "Consent",
        "Two years after leaving",
        "https://tapestry.info/privacy",
    )
    assert shown["other_fields"] == {"data_processing_agreement": "signed 2024"}
    assert (shown["last_assessed"], shown["last_outcome"], shown["status"]) == (
        "2024-03-14",
        "rejected",
        "not-approved",
    )
    published = cli.ok("register", "publish", "--format", "text").stdout
    assert "Lawful Basis: Consent" in published
    assert "Data Processing Agreement: signed 2024" in published
    assert "Risk assessment date: 14 March 2024 (Not approved for use)" in published


def test_publish_text_writes_the_document_back_as_it_was(hunwick_cli):
    published = hunwick_cli.ok("register", "publish", "--format", "text").stdout
    assert parse_register_document(published) == parse_register_document(HUNWICK.read_text(encoding="utf-8"))
    assert published.startswith("Hunwick Primary School\n\nCloud Service Providers\n\n")
    assert "Risk assessment date: March 2018" in published
    assert "Risk assessment date: Awaiting Assessment (Not currently approved for use)" in published
    # The Legal Requirements section has no entries, but its text is kept.
    assert "The school required, by law, to pass certain information" in published


def test_round_trip_publish_text_then_import_gives_the_same_register(hunwick_cli, tmp_path, monkeypatch):
    published = tmp_path / "published.txt"
    hunwick_cli.ok("register", "publish", "--format", "text", "--out", str(published))
    original = hunwick_cli.json("service", "list")
    original_history = [
        hunwick_cli.json("assess", "history", row["name"], "-c", row["category"]) for row in original
    ]

    empty = tmp_path / "second.db"
    monkeypatch.delenv("CLOUDCTL_DATABASE_URL")
    hunwick_cli.ok("--db", str(empty), "register", "import", str(published))
    copied = hunwick_cli.json("--db", str(empty), "service", "list")
    assert copied == original
    copied_history = [
        hunwick_cli.json("--db", str(empty), "assess", "history", row["name"], "-c", row["category"])
        for row in copied
    ]

    def comparable(histories):
        return [[{k: v for k, v in row.items() if k != "recorded_at"} for row in rows] for rows in histories]

    assert comparable(copied_history) == comparable(original_history)
    again = hunwick_cli.ok("--db", str(empty), "register", "publish", "--format", "text").stdout
    assert again == published.read_text(encoding="utf-8")


class PageChecker(HTMLParser):
    """Checks that every element is closed, in order, and notes what the page holds."""

    VOID = frozenset({"meta", "link", "br", "hr", "img", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.seen: list[str] = []
        self.doctype = ""
        self.links: list[str] = []
        self.text: list[str] = []
        self.problems: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.seen.append(tag)
        if tag == "a":
            self.links.append(dict(attrs)["href"])
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        self.text.append(data)


def test_publish_html_is_a_complete_valid_page(hunwick_cli):
    page = hunwick_cli.ok("register", "publish", "--format", "html").stdout
    checker = PageChecker()
    checker.feed(page)
    checker.close()
    assert checker.doctype.lower() == "doctype html"
    assert checker.problems == [] and checker.open == []
    assert checker.seen[:3] == ["html", "head", "meta"]
    for tag in ("html", "head", "title", "body", "main"):
        assert checker.seen.count(tag) == 1, tag
    assert '<html lang="en-GB">' in page
    assert "<title>Hunwick Primary School: Cloud Service Providers</title>" in page
    text = " ".join(checker.text)
    for entry in WRITTEN:
        assert entry[0] in text
    assert checker.seen.count("article") == 19
    assert checker.seen.count("h2") == 4  # four sections, Legal Requirements too
    assert "https://www.mymaths.co.uk/" in checker.links
    assert all(link.startswith(("http://", "https://")) for link in checker.links)


def test_publish_html_escapes_what_the_register_says(cli):
    cli.ok("init", "--school", "Hunwick <Primary> School")
    cli.ok(
        "service", "add", "<script>alert(1)</script>", "-c", "pupil", "-p", "Acme & Sons",
        "--create-provider", "--purpose", "Tom & Jerry's <b>games</b>",
    )  # fmt: skip
    page = cli.ok("register", "publish", "--format", "html").stdout
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Acme &amp; Sons" in page
    assert "<b>games</b>" not in page
    checker = PageChecker()
    checker.feed(page)
    assert checker.problems == [] and checker.open == []


def test_publish_markdown(hunwick_cli):
    page = hunwick_cli.ok("register", "publish").stdout  # markdown is the default
    assert page.startswith("# Hunwick Primary School\n\n## Cloud Service Providers\n")
    assert "### Services for Pupils or Parents" in page
    assert "### Legal Requirements" in page
    assert "#### Accelerated Reader" in page
    assert "- **Website:** <http://www.renlearn.co.uk/accelerated-reader/>" in page
    assert "- **Data Shared:** full name, UPN, DOB, Gender, assessment data" in page
    assert "- **Risk assessment date:** Awaiting Assessment (Not currently approved for use)" in page
    assert page.count("\n#### ") == 19


def test_publish_to_a_file(hunwick_cli, tmp_path):
    out = tmp_path / "register.html"
    result = hunwick_cli.ok("register", "publish", "--format", "html", "--out", str(out))
    assert result.stdout == ""
    assert str(out) in result.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_publish_leaves_out_retired_services(hunwick_cli):
    hunwick_cli.ok("service", "retire", "ClassDojo")
    assert "ClassDojo" not in hunwick_cli.ok("register", "publish", "--format", "text").stdout


def test_publish_shows_a_recorded_assessment(hunwick_cli):
    hunwick_cli.ok(
        "assess", "record", "Swimphony", "--date", "14/05/2025", "--by", "J Bloggs", "--outcome", "approved"
    )
    hunwick_cli.ok(
        "assess", "record", "My Maths", "--date", "June 2025", "--by", "J Bloggs", "--outcome", "rejected"
    )
    published = hunwick_cli.ok("register", "publish", "--format", "text").stdout
    assert "Risk assessment date: 14 May 2025" in published
    assert "Risk assessment date: June 2025 (Not approved for use)" in published


def test_publish_refuses_an_unknown_format(hunwick_cli):
    result = hunwick_cli.fails("register", "publish", "--format", "pdf")
    assert '"pdf"' in result.stderr
    assert "text, markdown, html" in result.stderr


def test_publish_an_empty_register(cli):
    cli.ok("init", "--school", "New School")
    page = cli.ok("register", "publish", "--format", "text").stdout
    assert page.startswith("New School\n\nCloud Service Providers")


# --- free text reads back exactly -------------------------------------------------------------------------


def test_a_purpose_of_several_lines_reads_back_and_is_never_taken_for_other_fields(
    cli, tmp_path, monkeypatch
):
    cli.ok("init", "--school", "Hunwick Primary School")
    purpose = "Maths homework\nStorage location: elsewhere\n\nServices for School Management\n  Owner: nobody"
    cli.ok(
        "service", "add", "My Maths", "-c", "pupil", "-p", "Oxford University Press", "--create-provider",
        "--purpose", purpose, "--data", "full name,\nclass", "--years", "All",
    )  # fmt: skip
    published = tmp_path / "published.txt"
    cli.ok("register", "publish", "--format", "text", "--out", str(published))
    assert "Purpose: Maths homework\n    Storage location: elsewhere\n\n    Services for School" in (
        published.read_text(encoding="utf-8")
    )
    monkeypatch.delenv("CLOUDCTL_DATABASE_URL")
    fresh = str(tmp_path / "fresh.db")
    cli.ok("--db", fresh, "register", "import", str(published))
    shown = cli.json("--db", fresh, "service", "show", "My Maths")
    assert shown["purpose"] == purpose
    assert (shown["storage_location"], shown["owner"], shown["data_shared_text"]) == (
        None,
        None,
        "full name,\nclass",
    )
    monkeypatch.setenv("CLOUDCTL_DATABASE_URL", cli.url)
    assert cli.json("--db", fresh, "service", "list") == cli.json("service", "list")


# Text from the gate's accepted alphabet, with the lines that would fool a reader: labels, headings, names.
GATE_ALPHABET = st.characters(
    blacklist_categories=("Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp"),
    blacklist_characters="\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
) | st.sampled_from("\t :<>-()&'")
HOSTILE_LINES = (
    "Storage location: elsewhere",
    "Service Provider: Evil Corp",
    "Purpose: not mine",
    "Risk assessment date: March 2018",
    "Website: <https://example.com>",
    "Services for Pupils or Parents",
    "Other Online Services:",
    "Legal Requirements",
    "Accelerated Reader",
    "   indented: with a colon",
    "\tTabbed",
    ":",
    "a: b: c",
    "",
    "   ",
)
LINE = st.one_of(st.text(GATE_ALPHABET, max_size=40), st.sampled_from(HOSTILE_LINES))
PROSE = st.lists(LINE, min_size=1, max_size=6).map("\n".join)
ONE_LINE = st.one_of(st.text(GATE_ALPHABET, max_size=60), st.sampled_from(HOSTILE_LINES))
# A service's own review interval (None: the school's) and its latest assessment (date, outcome), if any.
REVIEW_MONTHS = st.one_of(st.none(), st.integers(1, 120))
ASSESSMENT = st.one_of(
    st.none(),
    st.tuples(
        st.dates(date(2000, 1, 1), date(2025, 12, 31)),
        st.sampled_from(("approved", "approved-with-conditions", "rejected")),
    ),
)
SERVICE = st.fixed_dictionaries(
    {
        "name": st.sampled_from(("My Maths", "Padlet", "Times Tables Rock Stars", "Purple Mash", "SIMS")),
        "category": st.sampled_from(("pupil", "management", "other")),
        "provider": st.text(GATE_ALPHABET, max_size=30).filter(lambda text: text.strip()),
        "purpose": PROSE,
        "data_shared": PROSE,
        "controls": PROSE,
        "service_type": ONE_LINE,
        "lawful_basis": ONE_LINE,
        "retention": ONE_LINE,
        "review_months": REVIEW_MONTHS,
        "assessment": ASSESSMENT,
    }
)


def add_services_with_assessments(session, services, **add) -> None:  # type: ignore[no-untyped-def]
    """Each generated service added, and its assessment (if it has one) recorded, in the source database."""
    from cloudctl.domain.assessments import record_assessment
    from cloudctl.domain.services import ServiceFields, add_service

    for service in services:
        values = {
            key: value for key, value in service.items() if key not in ("name", "category", "assessment")
        }
        add_service(session, service["name"], service["category"], ServiceFields(**values), **add)
        if service["assessment"] is not None:
            assessed_on, outcome = service["assessment"]
            record_assessment(
                session,
                service["name"],
                category=service["category"],
                assessed_on=assessed_on,
                assessed_by="Data protection officer",
                outcome=outcome,
            )


def own_review_months(session) -> list[tuple[str, str, int | None]]:  # type: ignore[no-untyped-def]
    """Each service's own review interval, as stored (None: the school's), not the interval in effect."""
    from cloudctl.db.models import Service

    return sorted(session.exec(select(Service.name, Service.category, Service.review_months)).all())


# The register round trips run a fixed set of examples, so a build never fails on a draw no one can
# repeat; CLOUDCTL_PROPERTY_RANDOM=1 (with CLOUDCTL_PROPERTY_EXAMPLES=500, say) hunts with fresh ones.
# Such hunts found the failures now kept as @example below.
FIXED_EXAMPLES = os.environ.get("CLOUDCTL_PROPERTY_RANDOM") != "1"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """An empty database at the newest schema, copied for each example (migrating each time is slow)."""
    from cloudctl.db.engine import open_database
    from cloudctl.db.location import sqlite_location

    path = tmp_path_factory.mktemp("template") / "template.db"
    open_database(sqlite_location(path)).dispose()
    return path


def _open_copy(template: Path, folder: Path, name: str):
    import shutil

    from cloudctl.db.engine import open_database
    from cloudctl.db.location import sqlite_location

    shutil.copyfile(template, folder / name)
    return open_database(sqlite_location(folder / name))


@settings(
    max_examples=int(os.environ.get("CLOUDCTL_PROPERTY_EXAMPLES", 60)),
    deadline=None,
    database=None,
    derandomize=FIXED_EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(services=st.lists(SERVICE, min_size=1, max_size=4, unique_by=lambda s: (s["name"], s["category"])))
def test_publish_text_then_import_gives_equal_services_whatever_the_text(template, services):
    import tempfile

    from cloudctl.domain.register import build_register_document, import_register_document
    from cloudctl.domain.service_records import list_service_records
    from cloudctl.domain.settings import init_school
    from cloudctl.exporters.register_document import render_register_document

    with tempfile.TemporaryDirectory() as folder:
        source, target = (
            _open_copy(template, Path(folder), "a.db"),
            _open_copy(template, Path(folder), "b.db"),
        )
        try:
            with source.write() as session:
                init_school(session, school_name="Property Primary School")
                add_services_with_assessments(session, services, create_provider=True)
            with source.read() as session:
                text = render_register_document(build_register_document(session), "text")
                expected = list_service_records(session, include_retired=True)
                expected_months = own_review_months(session)
            with target.write() as session:
                import_register_document(session, text)
            with target.read() as session:
                assert list_service_records(session, include_retired=True) == expected
                assert own_review_months(session) == expected_months
        finally:
            source.dispose()
            target.dispose()


PARAGRAPH = st.lists(LINE, min_size=1, max_size=3).map(" ".join).filter(lambda text: text.strip())
ENTRY = (
    "My Maths\nService Provider: Oxford University Press\nWebsite: <https://www.mymaths.co.uk/>\n"
    "Purpose: Maths\nData Shared: full name\nService Type: Purchased\nYear Groups Enrolled: All\n"
    "Risk assessment date: May 2018\n"
)


@settings(
    max_examples=int(os.environ.get("CLOUDCTL_PROPERTY_EXAMPLES", 40)),
    deadline=None,
    database=None,
    derandomize=FIXED_EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    preamble=st.lists(PARAGRAPH, max_size=3),
    intro=st.lists(PARAGRAPH, max_size=3),
    note=st.one_of(st.none(), PARAGRAPH),
)
# Failures random runs found: a prose-only section published last, where its closing line read as a
# service cut short; a repeated heading moving a section; a heading losing one trailing colon per reading.
@example(preamble=["Legal Requirements", "ā a: b: c"], intro=[], note="ÒćªÃĂģQ(ÛÜ")
@example(
    preamble=[], intro=["Tabbed Lé(", "Legal Requirements", "b>vJ"], note="Services for Pupils or Parents  "
)
@example(
    preamble=["Other Online Services:"],
    intro=["\tTabbed ĻĐe", "Services for Pupils or Parents", "Other Online Services:"],
    note="¨F+ð",
)
@example(
    preamble=["Other Online Services: Other Online Services: :"],
    intro=[": Other Online Services: :"],
    note="ÓDĪR",
)
def test_the_opening_text_and_introductions_read_back_exactly(template, preamble, intro, note):
    """Whatever prose an import kept, publishing it as text and importing that gives the same prose."""
    import tempfile

    from hypothesis import reject

    from cloudctl.db.models import RegisterSection, SchoolSettings
    from cloudctl.domain.register import build_register_document, import_register_document
    from cloudctl.errors import CloudctlError
    from cloudctl.exporters.register_document import render_register_document

    parts = ["Property Primary School", "Cloud Service Providers", *preamble]
    parts += ["Services for Pupils or Parents", *intro, ENTRY + (f"\n{note}." if note else "")]
    document = "\n\n".join(parts)

    def prose(db):
        with db.read() as session:
            settings_row = session.get(SchoolSettings, 1)
            sections = [
                (row.category, row.heading, row.intro) for row in session.exec(select(RegisterSection))
            ]
            return settings_row.register_title, settings_row.preamble, sorted(sections)

    with tempfile.TemporaryDirectory() as folder:
        first, second = _open_copy(template, Path(folder), "a.db"), _open_copy(template, Path(folder), "b.db")
        try:
            try:
                with first.write() as session:
                    import_register_document(session, document)
            except CloudctlError:
                reject()  # not a register the importer reads in the first place
            with first.read() as session:
                text = render_register_document(build_register_document(session), "text")
            with second.write() as session:
                import_register_document(session, text)
            assert prose(second) == prose(first)
        finally:
            first.dispose()
            second.dispose()


def test_a_prose_only_section_keeps_its_place_so_the_published_text_imports_again(template, tmp_path):
    """A closing line without a full stop at the very end reads as a service cut short; a prose-only
    section the school put first must not be published last, where its last line would read so."""
    from cloudctl.domain.register import build_register_document, import_register_document
    from cloudctl.exporters.register_document import render_register_document

    document = "\n\n".join(
        [
            "Property Primary School",
            "Cloud Service Providers",
            "Legal Requirements",
            "Local Authority and DfE",
            "Services for Pupils or Parents",
            ENTRY,
        ]
    )
    first, second = _open_copy(template, tmp_path, "a.db"), _open_copy(template, tmp_path, "b.db")
    try:
        with first.write() as session:
            import_register_document(session, document)
        with first.read() as session:
            text = render_register_document(build_register_document(session), "text")
        assert text.index("Legal Requirements") < text.index("Services for Pupils or Parents")
        with second.write() as session:
            import_register_document(session, text)
    finally:
        first.dispose()
        second.dispose()
