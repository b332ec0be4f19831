"""The register document: parsing the school's published text and writing it back out."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from cloudctl.errors import InvalidInput
from cloudctl.exporters.register_document import render_register_document
from cloudctl.importers.register_document import (
    CATEGORY_HEADINGS,
    RegisterDocument,
    RegisterEntry,
    RegisterSection,
    parse_register_document,
)

FIXTURE = Path(__file__).parent / "data" / "hunwick-cloud-service-providers.txt"

NAMES = {
    "pupil": [
        "Accelerated Reader",
        "ClassDojo",
        "Google G Suite for Education",
        "Lexia Core 5",
        "My Maths",
        "Times Tables Rock Stars",
        "Mable",
    ],
    "management": [
        "Google G Suite for Education",
        "SIMS",
        "Durham County Council",
        "SchoolComms",
        "Cool Milk",
        "Swimphony",
        "2 Build a Profile",
        "Speech Link",
    ],
    "other": ["iPads/iCloud", "Kindle", "School Website", "Social Media"],
    "statutory": [],
}


@pytest.fixture(scope="module")
def fixture_text() -> str:
    return FIXTURE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def doc(fixture_text: str) -> RegisterDocument:
    return parse_register_document(fixture_text)


def entry(doc: RegisterDocument, category: str, name: str) -> RegisterEntry:
    (section,) = [section for section in doc.sections if section.category == category]
    (found,) = [item for item in section.entries if item.name == name]
    return found


def entry_lines(doc: RegisterDocument) -> list[int]:
    return [item.line for section in doc.sections for item in section.entries]


# --- the Hunwick register ---------------------------------------------------------------------------------


def test_school_title_and_preamble(doc: RegisterDocument) -> None:
    assert doc.school_name == "Hunwick Primary School"
    assert doc.title == "Cloud Service Providers"
    assert len(doc.preamble) == 3
    assert doc.preamble[0].startswith("The school uses cloud based service providers to facilitate access")
    assert doc.preamble[2] == (
        "This document contains details of each cloud based service provider and summarises the type of data "
        "that will be handled by them. It is divided into sections that cover the different types of service."
    )


def test_sections_and_entry_names_in_order(doc: RegisterDocument) -> None:
    assert [(s.category, s.heading) for s in doc.sections] == [
        ("pupil", "Services for Pupils or Parents"),
        ("management", "Services for School Management"),
        ("other", "Other Online Services"),
        ("statutory", "Legal Requirements"),
    ]
    assert {s.category: [e.name for e in s.entries] for s in doc.sections} == NAMES


def test_intros_are_kept(doc: RegisterDocument) -> None:
    intros = {s.category: s.intro for s in doc.sections}
    assert [len(intros[c]) for c in ("pupil", "management", "other", "statutory")] == [2, 2, 2, 2]
    assert intros["pupil"][1].startswith("Parents will be asked to opt in to these services")
    assert intros["statutory"] == [
        "The school required, by law, to pass certain information about our pupils to our local authority "
        "(LA) and the Department for Education (DfE). This will be done electronically.",
        "For more information about this please see our privacy notice for pupils.",
    ]


def test_entry_with_blank_lines_between_fields(doc: RegisterDocument) -> None:
    assert entry(doc, "pupil", "Accelerated Reader").fields == {
        "service_provider": "Renaissance Learning",
        "website": "http://www.renlearn.co.uk/accelerated-reader/",
        "purpose": "Reading assessment",
        "data_shared": "full name, UPN, DOB, Gender, assessment data",
        "service_type": "Purchased",
        "year_groups_enrolled": "Y2 - Y6",
        "risk_assessment_date": "March 2018",
    }


def test_entry_without_blank_lines_between_fields(doc: RegisterDocument) -> None:
    assert entry(doc, "pupil", "Mable").fields == {
        "service_provider": "Mable Therapy Ltd",
        "website": "https://mabletherapy.com",
        "purpose": "Speech and Language Therapy",
        "data_shared": "full name, DOB, class, UPN, Gender, Images",
        "service_type": "Purchased",
        "year_groups_enrolled": "Selected Children (Subject to individual consent)",
        "risk_assessment_date": "September 2019",
    }


def test_lower_case_data_shared_label(doc: RegisterDocument) -> None:
    sims = entry(doc, "management", "SIMS")
    assert (
        sims.fields["data_shared"]
        == "pupil names, DOB, contact details, attendance data, SEN, medical, statistical"
    )
    assert sims.fields["service_provider"] == "Capita"
    durham = entry(doc, "management", "Durham County Council")
    assert durham.fields["data_shared"] == "all student information, all school information, communications"
    assert durham.fields["service_type"] == "Government"


def test_blank_year_groups_are_kept_as_empty(doc: RegisterDocument) -> None:
    speech_link = entry(doc, "management", "Speech Link")
    assert speech_link.fields["year_groups_enrolled"] == ""
    assert speech_link.fields["risk_assessment_date"] == "April 2018"


def test_awaiting_assessment(doc: RegisterDocument) -> None:
    swimphony = entry(doc, "management", "Swimphony")
    assert swimphony.fields["risk_assessment_date"] == "Awaiting Assessment (Not currently approved for use)"
    assert swimphony.fields["service_type"] == "Purchased (Contract through local authority)"
    assert swimphony.fields["year_groups_enrolled"] == "Students taking part in swimming lessons"


def test_same_product_in_two_sections(doc: RegisterDocument) -> None:
    pupil = entry(doc, "pupil", "Google G Suite for Education")
    management = entry(doc, "management", "Google G Suite for Education")
    assert pupil.fields["purpose"] == "email, apps, file storage, learning platform, Chromebook logins"
    assert pupil.fields["data_shared"] == "full name"
    assert management.fields["purpose"] == "email, apps, file storage, learning platform"
    assert management.fields["data_shared"] == (
        "full name, details of students stored or transmitted in files or mentioned in emails "
        "(subject to data protection policy conditions)"
    )


def test_other_services_have_potential_data_and_controls(doc: RegisterDocument) -> None:
    assert entry(doc, "other", "iPads/iCloud").fields == {
        "service_provider": "Apple",
        "website": "http://www.apple.com/uk/icloud/",
        "potential_data_shared": "photos or notes synchronised using iCloud",
        "controls": (
            "Used subject to the school acceptable use policy. No student info is allowed to be shared."
        ),
        "risk_assessment_date": "December 2016",
    }
    kindle = entry(doc, "other", "Kindle")
    assert kindle.fields["potential_data_shared"] == "none"
    assert kindle.fields["risk_assessment_date"] == "December 2016"
    social = entry(doc, "other", "Social Media")
    assert social.fields["service_provider"] == "Facebook, Twitter, Youtube, Hunwick Primary School"


def test_entry_line_numbers_point_at_the_name(doc: RegisterDocument, fixture_text: str) -> None:
    lines = fixture_text.split("\n")
    for section in doc.sections:
        for item in section.entries:
            assert lines[item.line - 1] == item.name
    assert entry(doc, "pupil", "Accelerated Reader").line == lines.index("Accelerated Reader") + 1


def test_crlf_bom_and_trailing_spaces_parse_the_same(doc: RegisterDocument, fixture_text: str) -> None:
    windows = "\ufeff" + "\r\n".join(line + "  " for line in fixture_text.split("\n")) + "\r\n"
    parsed = parse_register_document(windows)
    assert parsed == doc
    assert entry_lines(parsed) == entry_lines(doc)


# --- layouts other schools use ----------------------------------------------------------------------------

MINIMAL = """\
Example School
Online services

{heading}

{name}
Service Provider: Example Ltd
Website: <https://example.com>
"""


@pytest.mark.parametrize(
    ("heading", "category"),
    [
        ("Pupil and Parent Services", "pupil"),
        ("SERVICES FOR PUPILS OR PARENTS", "pupil"),
        ("School management services", "management"),
        ("Services for School Management:", "management"),
        ("Other services", "other"),
        ("Statutory / legal requirements", "statutory"),
    ],
)
def test_reworded_headings_are_recognised(heading: str, category: str) -> None:
    doc = parse_register_document(MINIMAL.format(heading=heading, name="Purple Mash"))
    assert [(s.category, s.heading) for s in doc.sections] == [(category, heading.rstrip(":"))]
    assert doc.sections[0].entries[0].fields["website"] == "https://example.com"


def test_short_prose_is_neither_heading_nor_entry() -> None:
    text = """\
Example School
Online services
Services for Pupils or Parents
Parents can opt out at any time

Please see the consent form for details.
Purple Mash

service provider: 2Simple
DATA SHARED: full name
Lawful basis: Public task
Risk assessment date: March 2020
Seesaw
Service Provider: Seesaw Learning
Data Shared: full name, class,
photographs
"""
    doc = parse_register_document(text)
    (section,) = doc.sections
    assert section.intro == ["Parents can opt out at any time", "Please see the consent form for details."]
    assert [e.name for e in section.entries] == ["Purple Mash", "Seesaw"]
    assert section.entries[0].fields == {
        "service_provider": "2Simple",
        "data_shared": "full name",
        "lawful_basis": "Public task",
        "risk_assessment_date": "March 2020",
    }
    # A value wrapped onto a second line stays with its field.
    assert section.entries[1].fields["data_shared"] == "full name, class, photographs"


def test_extra_fields_survive_the_text_format() -> None:
    doc = parse_register_document(MINIMAL.format(heading="Other Online Services", name="Padlet"))
    doc.sections[0].entries[0].fields["lawful_basis"] = "Public task (UK GDPR Art. 6(1)(e))"
    text = render_register_document(doc, "text")
    assert "Lawful Basis: Public task (UK GDPR Art. 6(1)(e))" in text
    assert parse_register_document(text) == doc


# --- writing it out ---------------------------------------------------------------------------------------


def test_text_round_trip(doc: RegisterDocument, fixture_text: str) -> None:
    text = render_register_document(doc, "text")
    assert parse_register_document(text) == doc
    # The school's own layout: the first entry is written exactly as in the published register.
    ours, theirs = text.index("\nAccelerated Reader\n"), fixture_text.index("\nAccelerated Reader\n")
    assert text[ours : ours + 300] == fixture_text[theirs : theirs + 300]
    assert "Year Groups Enrolled:\n" in text
    assert "Potential data shared: none\n\nControls: Used subject to" in text


def test_markdown_contains_every_entry(doc: RegisterDocument) -> None:
    markdown = render_register_document(doc, "markdown")
    assert markdown.startswith("# Hunwick Primary School\n\n## Cloud Service Providers\n")
    for heading in CATEGORY_HEADINGS.values():
        assert f"\n### {heading}\n" in markdown
    for section in doc.sections:
        for item in section.entries:
            assert f"\n#### {item.name}\n" in markdown
            assert f"- **Service Provider:** {item.fields['service_provider']}\n" in markdown
    assert markdown.count("\n#### ") == sum(len(names) for names in NAMES.values())
    assert "- **Website:** <http://www.renlearn.co.uk/accelerated-reader/>\n" in markdown
    assert "- **Year Groups Enrolled:** \n" in markdown


def test_markdown_escapes_special_characters() -> None:
    doc = tiny_document(
        name="*Bold* [link](x)", purpose="Maths_games <b>fun</b> & `code` #1", website="javascript:x"
    )
    markdown = render_register_document(doc, "markdown")
    assert "#### \\*Bold\\* \\[link\\](x)\n" in markdown
    assert "- **Purpose:** Maths\\_games \\<b\\>fun\\</b\\> & \\`code\\` \\#1\n" in markdown
    assert "<javascript:x>" not in markdown


class BalanceChecker(HTMLParser):
    """Fails on a closing tag that does not match the open one, and remembers every start tag."""

    VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.started: list[str] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.started.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (
            f"</{tag}> closes <{self.stack[-1] if self.stack else ''}>"
        )
        self.stack.pop()


def check_html(page: str) -> BalanceChecker:
    checker = BalanceChecker()
    checker.feed(page)
    checker.close()
    assert checker.doctype.lower() == "doctype html"
    assert checker.stack == [], f"unclosed tags: {checker.stack}"
    return checker


def test_html_is_a_balanced_page_with_every_entry(doc: RegisterDocument) -> None:
    page = render_register_document(doc, "html")
    checker = check_html(page)
    assert page.startswith('<!DOCTYPE html>\n<html lang="en-GB">')
    assert '<meta charset="utf-8">' in page
    assert "<title>Hunwick Primary School: Cloud Service Providers</title>" in page
    assert checker.started.count("h2") == 4
    assert checker.started.count("h3") == checker.started.count("dl") == sum(len(n) for n in NAMES.values())
    for section in doc.sections:
        for item in section.entries:
            assert f"<h3>{item.name}</h3>" in page
    assert '<a href="https://ttrockstars.com/">https://ttrockstars.com/</a>' in page
    assert "<dd>First name &amp; Surname initial</dd>" in page


def test_html_escapes_everything() -> None:
    doc = tiny_document(
        name="<script>alert(1)</script>",
        purpose='Games "for" <b>fun</b>',
        website='javascript:alert("x")',
    )
    page = render_register_document(doc, "html")
    checker = check_html(page)
    assert "script" not in checker.started and "b" not in checker.started
    assert "<h3>&lt;script&gt;alert(1)&lt;/script&gt;</h3>" in page
    assert "<dd>Games &#34;for&#34; &lt;b&gt;fun&lt;/b&gt;</dd>" in page
    assert "href" not in page  # a javascript: address is shown, never linked
    assert "<dd>javascript:alert(&#34;x&#34;)</dd>" in page


def test_html_link_address_is_escaped() -> None:
    page = render_register_document(tiny_document(website='https://example.com/" onmouseover="x'), "html")
    check_html(page)
    assert "href" not in page and "<dd>https://example.com/&#34; onmouseover=&#34;x</dd>" in page
    page = render_register_document(tiny_document(website="https://example.com/?a=1&b=2"), "html")
    assert '<a href="https://example.com/?a=1&amp;b=2">' in page


def test_unknown_format_names_the_accepted_ones(doc: RegisterDocument) -> None:
    with pytest.raises(InvalidInput) as raised:
        render_register_document(doc, "pdf")
    assert '"pdf"' in raised.value.message
    assert "text, markdown, html" in raised.value.message


def tiny_document(
    name: str = "Padlet", purpose: str = "Sharing work", website: str = "https://padlet.com"
) -> RegisterDocument:
    fields = {"service_provider": "Wallwisher Inc", "website": website, "purpose": purpose}
    section = RegisterSection("other", "Other Online Services", ["Intro."], [RegisterEntry(name, fields, 1)])
    return RegisterDocument("Example School", "Online services", ["Preamble."], [section])


# --- mistakes in the document -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "Example School\nOnline services\n\nPadlet\nService Provider: Wallwisher\n",
            "No section heading was found",
            id="no-headings",
        ),
        pytest.param(
            "Example School\nOnline services\nOther Online Services\nSome words about these services here.\n"
            "\nService Provider: Wallwisher\n",
            'line 6: "Service Provider: Wallwisher" comes before any service name. Each entry starts with '
            "the service's name on a line of its own.",
            id="label-before-name",
        ),
        pytest.param(
            "Example School\nOnline services\nOther Online Services\nPadlet\nService Provider: Wallwisher\n"
            "Purpose: Sharing\nService Provider: Seesaw\n",
            'line 7: "Service Provider: Seesaw" is a second "Service Provider" line for "Padlet" (line 4)',
            id="name-missing-between-entries",
        ),
        pytest.param(
            "Example School\nOnline services\nPadlet\nService Provider: Wallwisher\nOther Online Services\n",
            'line 3: the service "Padlet" comes before the first section heading',
            id="entry-before-heading",
        ),
        pytest.param("\ufeff\r\n  \r\n", "found an empty file", id="empty"),
    ],
)
def test_mistakes_are_reported_with_the_line(text: str, expected: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_register_document(text)
    assert expected in raised.value.message


def test_missing_name_in_the_fixture_gives_its_line(fixture_text: str) -> None:
    # Without "ClassDojo" its fields run on from Accelerated Reader's: the second provider line gives it away.
    broken = fixture_text.replace("\nClassDojo\n", "\n\n", 1)
    lines = fixture_text.split("\n")
    provider, name = (
        lines.index("Service Provider: Class Twist Inc") + 1,
        lines.index("Accelerated Reader") + 1,
    )
    with pytest.raises(InvalidInput) as raised:
        parse_register_document(broken)
    assert raised.value.message.startswith(
        f'line {provider}: "Service Provider: Class Twist Inc" is a second "Service Provider" line for '
        f'"Accelerated Reader" (line {name})'
    )


def test_label_before_the_first_name_in_the_fixture_gives_its_line(fixture_text: str) -> None:
    broken = fixture_text.replace("\nAccelerated Reader\n", "\n\n", 1)
    line = fixture_text.split("\n").index("Service Provider: Renaissance Learning") + 1
    with pytest.raises(InvalidInput) as raised:
        parse_register_document(broken)
    assert raised.value.message.startswith(
        f'line {line}: "Service Provider: Renaissance Learning" comes before'
    )


# --- values of several lines --------------------------------------------------------------------------------


def test_indented_lines_continue_the_value_above_and_are_never_labels() -> None:
    text = """\
Example School
Online services

Services for Pupils or Parents

Padlet
Service Provider: Wallwisher
Purpose: Sharing work
    Storage location: elsewhere

    Other Online Services
      two spaces kept
Data Shared: full name
"""
    (entry,) = parse_register_document(text).sections[0].entries
    assert entry.fields == {
        "service_provider": "Wallwisher",
        "purpose": "Sharing work\nStorage location: elsewhere\n\nOther Online Services\n  two spaces kept",
        "data_shared": "full name",
    }
    assert entry.field_lines == {"service_provider": 7, "purpose": 8, "data_shared": 13}
    assert entry.last_line == 13


def test_an_unindented_line_after_a_value_is_still_a_label_or_a_wrap() -> None:
    text = MINIMAL.format(heading="Other Online Services", name="Padlet") + "Storage location: elsewhere\n"
    (entry,) = parse_register_document(text).sections[0].entries
    assert entry.fields["storage_location"] == "elsewhere"


def test_an_indented_layout_is_read_as_before() -> None:
    # Labels indented alike are labels: only a line indented deeper than its label continues it.
    text = (
        "Example School\nOnline services\nOther Online Services\n  Padlet\n  Service Provider: Wallwisher\n"
    )
    text += "  Website: <https://padlet.com>\n"
    (entry,) = parse_register_document(text).sections[0].entries
    assert entry.fields == {"service_provider": "Wallwisher", "website": "https://padlet.com"}


HOSTILE_PURPOSE = (
    "Maths games\nStorage location: elsewhere\n\n\nServices for Pupils or Parents\n  indented: with a colon\n"
    "Service Provider: Evil Corp\nAccelerated Reader\n:"
)


def test_a_value_of_several_lines_is_written_indented_and_reads_back_exactly() -> None:
    doc = tiny_document(purpose=HOSTILE_PURPOSE)
    doc.sections[0].entries[0].fields["controls"] = "Line one\n\nLine three"
    text = render_register_document(doc, "text")
    assert (
        "Purpose: Maths games\n    Storage location: elsewhere\n\n\n    Services for Pupils or Parents\n"
        "      indented: with a colon\n    Service Provider: Evil Corp\n    Accelerated Reader\n    :\n"
    ) in text
    assert "Controls: Line one\n\n    Line three\n" in text
    assert parse_register_document(text) == doc


@pytest.mark.parametrize(
    "name",
    ["Storage location: elsewhere", "Maths: games", "This sentence is not the name of anything."],
)
def test_publishing_text_that_would_not_read_back_is_refused_naming_the_entry(name: str) -> None:
    # A name made of heading words still reads back: the labels under it make it an entry.
    heading_like = tiny_document(name="Services for Pupils or Parents")
    assert parse_register_document(render_register_document(heading_like, "text")) == heading_like
    with pytest.raises(InvalidInput) as raised:
        render_register_document(tiny_document(name=name), "text")
    assert f'"{name}"' in raised.value.message
    assert "service edit" in raised.value.message and "markdown or html" in raised.value.message
    # The other formats hold any name.
    assert name in render_register_document(tiny_document(name=name), "markdown").replace("\\", "")
